package dev.adamopt.session;

import java.io.Serializable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

import com.hazelcast.aggregation.Aggregators;
import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.MapConfig;
import com.hazelcast.core.HazelcastException;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.IndeterminateOperationStateException;
import com.hazelcast.core.MemberLeftException;
import com.hazelcast.map.IMap;
import com.hazelcast.projection.Projection;
import com.hazelcast.spi.properties.ClusterProperty;
import com.hazelcast.query.Predicate;
import com.hazelcast.spi.exception.TargetNotMemberException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sessions in a Hazelcast cluster: every member holds the sessions of its partitions and backups of others', and
 * every member serves every session. An operation runs as an entry processor on the member that owns the session
 * ({@link ClusterOperation}), and the backups run the same operation on their copies.
 * <p>
 * <b>Exactly once.</b> When a member leaves while an operation is in flight, Hazelcast may send it again to the new
 * owner, or report that it cannot tell whether it was applied ({@link IndeterminateOperationStateException}, on with
 * {@code hazelcast.operation.fail.on.indeterminate.state}); the store then sends it again itself. Every step carries
 * an idempotency key (the client's, or one of the store's own), so a step sent again is answered with the result it
 * had instead of being applied twice: the client sees one answer per step.
 * <p>
 * <b>Concurrency.</b> A member runs the operations of a partition on one of its partition threads
 * ({@code hazelcast.partition.operation.thread.count}, by default as many as it has cores, at least 2), so the
 * operations on one session are serialized, and sessions whose partitions share a thread take turns: the store uses a
 * member's cores as the in-memory store does, but a long step can delay another session's.
 * <p>
 * <b>Limits.</b> Each member admits the sessions it owns under its own limits (adam.limits.*); copies it must keep
 * (backups, sessions that move to it) are counted in its memory but never refused.
 */
final class HazelcastSessionStore implements SessionStore {

	private static final Logger log = LoggerFactory.getLogger(HazelcastSessionStore.class);

	/** The name of the sessions' map. */
	static final String MAP = "adam-sessions";

	/** How often an operation whose fate a member's departure left unknown is sent again, under its guard. */
	private static final int ATTEMPTS = 5;

	private final IMap<String, ClusterSession> sessions;

	private final ClusterMember member;

	private final Clock clock;

	private final long idleTimeout;

	HazelcastSessionStore(HazelcastInstance hazelcast, ClusterMember member, Clock clock, Duration idleTimeout) {
		this.sessions = hazelcast.getMap(MAP);
		this.member = member;
		this.clock = clock;
		this.idleTimeout = idleTimeout.toMillis();
	}

	/**
	 * The sessions' map in a member's configuration: values kept as objects (steps run on them in place), backups
	 * that answer before the step does (synchronous), no expiry or eviction of Hazelcast's own (the store expires by
	 * the service's clock and keeps its own memory budget: eviction by size does nothing with OBJECT).
	 */
	static MapConfig mapConfig(int backupCount) {
		return new MapConfig(MAP).setInMemoryFormat(InMemoryFormat.OBJECT)
			.setBackupCount(backupCount)
			.setAsyncBackupCount(0)
			.setReadBackupData(false)
			.setStatisticsEnabled(true);
	}

	/** Adds the sessions' map, its serializers and what its operations need of this member to {@code config}. */
	static void configure(Config config, int backupCount, ClusterMember member) {
		// an operation whose backups did not all answer is reported, not taken as done: the store sends it again
		config.setProperty(ClusterProperty.FAIL_ON_INDETERMINATE_OPERATION_STATE.getName(), "true");
		config.addMapConfig(mapConfig(backupCount));
		config.addMapConfig(ClusterCreateKeys.mapConfig(backupCount));
		ClusterSerializers.register(config.getSerializationConfig(), member);
	}

	@Override
	public void add(OptimizerSession session) {
		if (!Boolean.TRUE.equals(send(session, ClusterOperation.Kind.ADD))) {
			throw CaffeineSessionStore.alreadyThere(session.id());
		}
	}

	/**
	 * Where several members put back their files of one session, the newest version stays (a member's file of a
	 * session another member owns now is older: it stopped writing it when the session moved).
	 */
	@Override
	public void restore(OptimizerSession session) {
		send(session, ClusterOperation.Kind.RESTORE);
	}

	/**
	 * Sends a session built on this member to the member that owns it ({@code ADD} or {@code RESTORE}): the owner
	 * makes its own copy and admits it under its limits, so this one gives its memory and place back.
	 */
	private Object send(OptimizerSession session, ClusterOperation.Kind kind) {
		PersistedSession saved = session.persisted();
		session.capacity().release(session);
		return call(session.id(), ClusterOperation.adding(kind, saved, now(), this.idleTimeout, this.member));
	}

	@Override
	public boolean sharedWithOtherNodes() {
		return true;
	}

	@Override
	public <T> Optional<T> apply(String id, Caller caller, SessionOperation<T> action) {
		return result(call(id, ClusterOperation.apply(guarded(action), caller, now(), this.idleTimeout, this.member)));
	}

	/**
	 * Runs {@code action} on the caller's session where it lives, without counting as a use (and without a backup: it
	 * must change nothing).
	 */
	<T> Optional<T> look(String id, Caller caller, SessionOperation<T> action) {
		return result(call(id, ClusterOperation.look(action, caller, now(), this.idleTimeout, this.member)));
	}

	/** An operation's result, from its answer ({@code null}: the caller has no such session). */
	@SuppressWarnings("unchecked")
	private static <T> Optional<T> result(Object answer) {
		return (answer != null) ? Optional.ofNullable((T) ((ClusterOperation.Answer) answer).result())
				: Optional.empty();
	}

	/** A step without the client's key gets one of the store's own, so that sending it again cannot apply it twice. */
	@SuppressWarnings("unchecked")
	private static <T> SessionOperation<T> guarded(SessionOperation<T> action) {
		if (action instanceof SessionOperation.Step step && step.key() == null) {
			IdempotencyKey guard = IdempotencyKey.guard();
			return (SessionOperation<T>) new SessionOperation.Step(step.parameters(), step.gradients(), step.loss(),
					guard, step.ifMatch(), step.now());
		}
		return action;
	}

	@Override
	public boolean remove(String id) {
		return Boolean.TRUE.equals(call(id, ClusterOperation.remove(now(), this.idleTimeout, this.member)));
	}

	@Override
	public long size() {
		return this.sessions.aggregate(Aggregators.count(), new Live(now(), this.idleTimeout));
	}

	@Override
	public <T> List<T> page(Key after, int limit, Caller caller, SessionOperation<T> action) {
		if (limit <= 0) {
			return List.of();
		}
		long now = now();
		Collection<Key> listed = this.sessions.project(new ListedProjection(),
				new Visible(caller.owner(), after, now, this.idleTimeout));
		List<Key> sorted = new ArrayList<>(listed);
		sorted.sort(null);
		List<T> page = new ArrayList<>(Math.min(limit, sorted.size()));
		for (Key session : sorted) {
			if (page.size() == limit) {
				break;
			}
			// gone since it was listed: passed over
			HazelcastSessionStore.<T>result(
					call(session.id(), ClusterOperation.look(action, caller, now, this.idleTimeout, this.member)))
				.ifPresent(page::add);
		}
		return page;
	}

	/**
	 * Visits the live sessions this member owns: its own work (the writer's pass over its files, its figures). The
	 * member's files follow what it owns: a session that moved here is written from now on, and the file of one the
	 * cluster no longer holds is deleted.
	 */
	@Override
	public void forEach(Consumer<OptimizerSession> action) {
		Set<String> owned = this.sessions.localKeySet();
		long now = now();
		for (String id : owned) {
			ClusterSession copy = this.member.held(id);
			if (copy != null && !copy.expired(now, this.idleTimeout)) {
				if (this.member.files != null) {
					this.member.files.owned(copy.session);
				}
				action.accept(copy.session);
			}
		}
		if (this.member.files != null) {
			this.member.files.forgetGone(owned, this.sessions::containsKey);
		}
	}

	/**
	 * Removes the sessions this member owns that were unused for the idle timeout (each member sweeps its own: see
	 * {@link ClusterSessionConfiguration}); until then they are passed over as if gone, and removed when next named.
	 */
	void expireIdle() {
		long now = now();
		Set<String> expired = this.sessions.localKeySet(new Expired(now, this.idleTimeout));
		if (!expired.isEmpty()) {
			this.sessions.executeOnKeys(expired, ClusterOperation.expire(now, this.idleTimeout, this.member));
		}
	}

	/**
	 * Runs {@code operation} where the session lives; sends it again when a member's departure leaves its fate
	 * unknown (its guard makes that safe).
	 */
	private Object call(String id, ClusterOperation operation) {
		for (int attempt = 1;; attempt++) {
			try {
				return this.sessions.executeOnKey(id, operation);
			}
			catch (RuntimeException ex) {
				if (attempt < ATTEMPTS && interruptedByADeparture(ex)) {
					log.info("An operation on session {} was interrupted by a member leaving ({}); sending it again",
							id, ex.getClass().getSimpleName());
					continue;
				}
				if (ex instanceof HazelcastException || ex instanceof HazelcastInstanceNotActiveException) {
					throw unavailable(id, operation, ex);
				}
				throw ex;
			}
		}
	}

	/** The cluster could not carry out the operation: a 503 that says what the caller can do. */
	private static SessionException unavailable(String id, ClusterOperation operation, RuntimeException ex) {
		log.warn("The cluster could not carry out an operation on session {}", id, ex);
		boolean unknown = ex instanceof IndeterminateOperationStateException
				|| ex.getCause() instanceof MemberLeftException;
		String fate = (unknown && operation.changes())
				? "the change may or may not have been made: GET the session to see its step and version, then retry "
						+ "(a step retried with the same Idempotency-Key is answered, not applied twice)"
				: "nothing was changed: retry in a few seconds";
		return new SessionException(SessionException.Reason.CLUSTER_UNAVAILABLE,
				"the cluster could not carry out the request (members are leaving or joining, or too few are left); "
						+ fate);
	}

	/** Whether a member's departure left the operation's fate unknown (Hazelcast wraps some of those). */
	private static boolean interruptedByADeparture(RuntimeException ex) {
		return ex instanceof IndeterminateOperationStateException || ex instanceof TargetNotMemberException
				|| ex.getCause() instanceof MemberLeftException;
	}

	private long now() {
		return this.clock.millis();
	}

	/** What a listing needs of each session, computed where it lives. */
	static final class ListedProjection implements Projection<Map.Entry<String, ClusterSession>, Key> {

		@Override
		public Key transform(Map.Entry<String, ClusterSession> entry) {
			return entry.getValue().session.key();
		}

	}

	/**
	 * The sessions a caller may see after {@code after} that have not expired: {@code owner}'s ({@code null}: anyone's,
	 * as {@link Caller#mayUse} has it).
	 */
	record Visible(String owner, Key after, long now, long idleTimeout) implements Predicate<String, ClusterSession> {

		@Override
		public boolean apply(Map.Entry<String, ClusterSession> entry) {
			ClusterSession copy = entry.getValue();
			if (copy == null || copy.expired(this.now, this.idleTimeout)) {
				return false;
			}
			if (this.owner != null && !this.owner.equals(copy.session.owner())) {
				return false;
			}
			return this.after == null || copy.session.key().compareTo(this.after) > 0;
		}

	}

	/** The sessions used within the idle timeout. */
	record Live(long now, long idleTimeout) implements Predicate<String, ClusterSession> {

		@Override
		public boolean apply(Map.Entry<String, ClusterSession> entry) {
			ClusterSession copy = entry.getValue();
			return copy != null && !copy.expired(this.now, this.idleTimeout);
		}

	}

	/** The sessions unused for the idle timeout. */
	record Expired(long now, long idleTimeout) implements Predicate<String, ClusterSession> {

		@Override
		public boolean apply(Map.Entry<String, ClusterSession> entry) {
			ClusterSession copy = entry.getValue();
			return copy != null && copy.expired(this.now, this.idleTimeout);
		}

	}

}
