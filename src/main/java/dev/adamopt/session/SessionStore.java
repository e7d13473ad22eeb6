package dev.adamopt.session;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Where sessions live. Its contract is "run this on the session where it lives": no caller holds a live
 * {@link OptimizerSession} outside an action it hands to the store, so a store may keep sessions in this JVM or
 * elsewhere.
 */
public interface SessionStore {

	/** Adds a new session under its id. */
	void add(OptimizerSession session);

	/**
	 * Runs {@code action} on the session with this id, where it lives, counting as a use for expiry.
	 * @return the action's result, or empty when no session has this id
	 */
	<T> Optional<T> apply(String id, Function<OptimizerSession, T> action);

	/** @return whether there was such a session */
	boolean remove(String id);

	/** The number of live sessions. */
	long size();

	/**
	 * Runs {@code action} on up to {@code limit} live sessions, oldest first, starting after {@code after} (from the
	 * start when {@code null}), without counting as a use.
	 * @return the actions' results, in that order
	 */
	<T> List<T> page(Key after, int limit, Function<OptimizerSession, T> action);

	/** Runs {@code action} on every live session without counting as a use (checkpoints, metrics). */
	void forEach(Consumer<OptimizerSession> action);

	/** A session's place in the order of creation. */
	record Key(Instant createdAt, String id) implements Comparable<Key> {

		@Override
		public int compareTo(Key other) {
			int byTime = this.createdAt.compareTo(other.createdAt);
			return (byTime != 0) ? byTime : this.id.compareTo(other.id);
		}

	}

}
