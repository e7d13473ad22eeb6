package dev.adamopt.session;

import java.util.Collection;
import java.util.Optional;

/** Where sessions live; the in-memory store can be replaced by another implementation of this interface. */
public interface SessionStore {

	void put(OptimizerSession session);

	/** The session, counting as a use for expiry. */
	Optional<OptimizerSession> find(String id);

	/** @return whether there was such a session */
	boolean remove(String id);

	/** Every live session, without counting as a use. */
	Collection<OptimizerSession> all();

}
