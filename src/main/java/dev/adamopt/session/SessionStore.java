package dev.adamopt.session;

import java.io.Serializable;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where sessions live. Its contract is "run this on the session where it lives, if it is the caller's": no caller
 * holds a live {@link OptimizerSession} outside a {@link SessionOperation} it hands to the store, so a store may keep
 * sessions in this JVM or on other nodes; and a session that is not the {@link Caller}'s is to it as if it did not
 * exist.
 * <p>
 * An operation is one call of the session ({@code step}, {@code checkpoint}, ...): each of those is serialized by the
 * session and is all or nothing, so an operation that throws has changed nothing. An operation returns a non-null
 * value ({@code null} would read as "no such session"). A store that sends operations to other nodes sends the
 * service's (the records of {@link SessionOperation}) in its own codec and others by Java serialization.
 */
public interface SessionStore {

	/**
	 * Adds a new session under its id.
	 * @throws IllegalStateException when a session with this id is in the store already (it stays as it was)
	 */
	void add(OptimizerSession session);

	/**
	 * Puts back a session read from its file, as {@link #add} does; a store {@linkplain #sharedWithOtherNodes() shared
	 * with other nodes} keeps the newest version of a session whose files several nodes put back.
	 * @throws IllegalStateException when a session with this id is in the store already (a store of one node)
	 */
	default void restore(OptimizerSession session) {
		add(session);
	}

	/**
	 * Whether other nodes hold and put back sessions of this store too (a cluster, each node with its own files). Then
	 * every restart moves the versions of restored sessions on by the same gap, whether its stop was clean or not, so
	 * that the newest file of a session wins whichever node stopped cleanly.
	 */
	default boolean sharedWithOtherNodes() {
		return false;
	}

	/**
	 * Runs {@code action} on the caller's session with this id, where it lives, counting as a use for expiry.
	 * @return the action's result, or empty when the caller has no session with this id (another key's session
	 * included: it is not counted as a use)
	 */
	<T> Optional<T> apply(String id, Caller caller, SessionOperation<T> action);

	/** {@link #apply(String, Caller, SessionOperation)} on any session: for the service's own work (and open services). */
	default <T> Optional<T> apply(String id, SessionOperation<T> action) {
		return apply(id, Caller.anyone(), action);
	}

	/** @return whether there was such a session */
	boolean remove(String id);

	/** The number of live sessions. */
	long size();

	/**
	 * Runs {@code action} on up to {@code limit} of the caller's live sessions, oldest first, starting after
	 * {@code after} (from the start when {@code null}), without counting as a use. Other keys' sessions are passed
	 * over in the walk, so a page holds {@code limit} of the caller's sessions when it has that many more.
	 * @return the actions' results, in that order
	 */
	<T> List<T> page(Key after, int limit, Caller caller, SessionOperation<T> action);

	/** {@link #page(Key, int, Caller, SessionOperation)} over every session. */
	default <T> List<T> page(Key after, int limit, SessionOperation<T> action) {
		return page(after, limit, Caller.anyone(), action);
	}

	/**
	 * Runs {@code action} on every live session this node is responsible for, without counting as a use: its own work
	 * (its files, its figures). A store of one node visits every session; in a cluster each node visits the sessions
	 * it owns, so that together they visit each once.
	 */
	void forEach(Consumer<OptimizerSession> action);

	/** A session's place in the order of creation. */
	record Key(Instant createdAt, String id) implements Comparable<Key>, Serializable {

		@Override
		public int compareTo(Key other) {
			int byTime = this.createdAt.compareTo(other.createdAt);
			return (byTime != 0) ? byTime : this.id.compareTo(other.id);
		}

	}

}
