package dev.adamopt.session;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;

/** Sessions in memory; a session not used for the idle timeout is dropped. */
final class CaffeineSessionStore implements SessionStore {

	private final Cache<String, OptimizerSession> cache;

	CaffeineSessionStore(Duration idleTimeout, Ticker ticker) {
		this.cache = Caffeine.newBuilder().expireAfterAccess(idleTimeout).ticker(ticker).build();
	}

	@Override
	public void put(OptimizerSession session) {
		this.cache.put(session.id(), session);
	}

	@Override
	public Optional<OptimizerSession> find(String id) {
		return Optional.ofNullable(this.cache.getIfPresent(id));
	}

	@Override
	public boolean remove(String id) {
		return this.cache.asMap().remove(id) != null;
	}

	@Override
	public Collection<OptimizerSession> all() {
		// the policy's view skips expired entries that have not been cleaned up yet
		this.cache.cleanUp();
		return List.copyOf(this.cache.asMap().values());
	}

}
