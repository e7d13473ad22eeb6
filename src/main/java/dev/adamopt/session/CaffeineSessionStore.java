package dev.adamopt.session;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.Consumer;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;

/**
 * Sessions in this JVM's memory; a session not used for the idle timeout is dropped. Keeps an index in the order of
 * creation, and one for each owner, so that listing a page costs the page, not the number of sessions (nor the number
 * of other keys' sessions).
 */
final class CaffeineSessionStore implements SessionStore {

	private final Cache<String, OptimizerSession> cache;

	private final ConcurrentSkipListSet<Key> order = new ConcurrentSkipListSet<>();

	/** Each owner's sessions in the order of creation; owners are few (API keys), so their sets are kept. */
	private final Map<String, ConcurrentSkipListSet<Key>> orderByOwner = new ConcurrentHashMap<>();

	/**
	 * @param onRemoved called once for every session that leaves the store (removed or expired), on the thread that
	 * removed it
	 */
	CaffeineSessionStore(Duration idleTimeout, Ticker ticker, Consumer<OptimizerSession> onRemoved) {
		this.cache = Caffeine.newBuilder()
			.expireAfterAccess(idleTimeout)
			.ticker(ticker)
			.executor(Runnable::run)
			.<String, OptimizerSession>removalListener((id, session, cause) -> {
				if (session != null && cause != RemovalCause.REPLACED) {
					this.order.remove(session.key());
					if (session.owner() != null) {
						this.orderByOwner.get(session.owner()).remove(session.key());
					}
					onRemoved.accept(session);
				}
			})
			.build();
	}

	CaffeineSessionStore(Duration idleTimeout, Ticker ticker) {
		this(idleTimeout, ticker, session -> {
		});
	}

	@Override
	public void add(OptimizerSession session) {
		if (this.cache.asMap().putIfAbsent(session.id(), session) != null) {
			throw alreadyThere(session.id());
		}
		this.order.add(session.key());
		if (session.owner() != null) {
			this.orderByOwner.computeIfAbsent(session.owner(), owner -> new ConcurrentSkipListSet<>())
				.add(session.key());
		}
	}

	/** Ids are random UUIDs or the names of distinct files: a second session under one id is a bug. */
	static IllegalStateException alreadyThere(String id) {
		return new IllegalStateException("a session with id " + id + " is in the store already");
	}

	@Override
	public <T> Optional<T> apply(String id, Caller caller, SessionOperation<T> action) {
		// another key's session is looked at without counting as a use: it must not keep that session alive
		OptimizerSession session = this.cache.policy().getIfPresentQuietly(id);
		if (session == null || !caller.mayUse(session.owner()) || this.cache.getIfPresent(id) != session) {
			return Optional.empty();
		}
		return Optional.ofNullable(action.apply(session));
	}

	/** Whether a live session has this id (one that expired and is not cleaned up yet has not); not a use. */
	boolean holds(String id) {
		return this.cache.policy().getIfPresentQuietly(id) != null;
	}

	@Override
	public boolean remove(String id) {
		return this.cache.asMap().remove(id) != null;
	}

	@Override
	public long size() {
		this.cache.cleanUp();
		return this.cache.estimatedSize();
	}

	@Override
	public <T> List<T> page(Key after, int limit, Caller caller, SessionOperation<T> action) {
		// expired sessions that have not been cleaned up yet are dropped (and leave the index) here
		this.cache.cleanUp();
		NavigableSet<Key> order = this.order;
		if (caller.owner() != null) {
			NavigableSet<Key> owned = this.orderByOwner.get(caller.owner());
			order = (owned != null) ? owned : Collections.emptyNavigableSet();
		}
		List<T> page = new ArrayList<>(Math.min(limit, 1024));
		for (Key key : (after != null) ? order.tailSet(after, false) : order) {
			if (page.size() == limit) {
				break;
			}
			OptimizerSession session = this.cache.policy().getIfPresentQuietly(key.id());
			if (session != null && caller.mayUse(session.owner())) {
				page.add(action.apply(session));
			}
		}
		return page;
	}

	@Override
	public void forEach(Consumer<OptimizerSession> action) {
		this.cache.cleanUp();
		this.cache.asMap().values().forEach(action);
	}

}
