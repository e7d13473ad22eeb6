package dev.adamopt.session;

import java.lang.ref.Cleaner;

/**
 * A session as a cluster member holds it in the sessions' map: the live session (in-memory format OBJECT, so steps
 * run on it in place), the capacity it is counted in on this member, and when it was last used (by the service's
 * clock, for the idle timeout).
 * <p>
 * Hazelcast drops a member's copy without telling it when the session moves to another member or a backup is no
 * longer needed; the copy then gives its memory back once the JVM has collected it. Every other way out (deletion,
 * expiry) gives it back at once, through {@link #release()}.
 */
final class ClusterSession {

	private static final Cleaner CLEANER = Cleaner.create();

	final OptimizerSession session;

	/** Milliseconds of the service's clock at the last use. */
	volatile long lastUsed;

	private final Cleaner.Cleanable release;

	ClusterSession(OptimizerSession session, SessionCapacity capacity, long lastUsed) {
		this.session = session;
		this.lastUsed = lastUsed;
		this.release = CLEANER.register(this, new Release(session, capacity));
	}

	boolean expired(long now, long idleTimeout) {
		return now - this.lastUsed >= idleTimeout;
	}

	/** Closes the session and gives its memory and place back (once). */
	void release() {
		this.release.clean();
	}

	/** Holds no reference to the {@link ClusterSession}, so that it can be collected. */
	private record Release(OptimizerSession session, SessionCapacity capacity) implements Runnable {

		@Override
		public void run() {
			this.capacity.release(this.session);
		}

	}

}
