package dev.adamopt.session;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes sessions to their files in order. Each session's writes take turns, and each takes the session's state
 * (under the session's lock, one copy) only once it has its turn: a file never goes from a newer state back to an
 * older one. A session that has left the store is never written again, so its deleted file stays deleted.
 */
final class SessionWriter {

	private static final Logger log = LoggerFactory.getLogger(SessionWriter.class);

	private final SessionDirectory directory;

	private final boolean durableDeletes;

	private final Clock clock;

	/** The file of every session in the store. */
	private final ConcurrentHashMap<String, FileState> files = new ConcurrentHashMap<>();

	private final AtomicLong writes = new AtomicLong();

	private final AtomicLong failures = new AtomicLong();

	/**
	 * @param durableDeletes whether a deletion is forced to disk before it returns (every-step mode)
	 * @param clock tells how long changes wait for the disk ({@link #lag})
	 */
	SessionWriter(SessionDirectory directory, boolean durableDeletes, Clock clock) {
		this.directory = directory;
		this.durableDeletes = durableDeletes;
		this.clock = clock;
	}

	/** One session's file: the version on disk, and whether the session is gone. Its lock orders the writes. */
	private static final class FileState {

		final ReentrantLock lock = new ReentrantLock();

		long written;

		boolean removed;

		/** When the oldest change not yet written was made (epoch millis), 0 when the file is up to date. */
		final AtomicLong pendingSince = new AtomicLong();

		FileState(long written) {
			this.written = written;
		}

	}

	SessionDirectory directory() {
		return this.directory;
	}

	/**
	 * Starts tracking a session that is being added to the store; {@code written} is the version already on disk (0
	 * for none). Does nothing if the session is tracked already.
	 */
	void track(String id, long written) {
		this.files.putIfAbsent(id, new FileState(written));
	}

	boolean tracks(String id) {
		return this.files.containsKey(id);
	}

	/** The ids of the sessions tracked now. */
	Set<String> tracked() {
		return Set.copyOf(this.files.keySet());
	}

	/** Notes that a session has changed: its file is behind from now on, until it is written. */
	void changed(String id) {
		FileState file = this.files.get(id);
		if (file != null) {
			file.pendingSince.compareAndSet(0, this.clock.millis());
		}
	}

	/**
	 * Writes the session's current state if it is newer than its file.
	 * @return whether this call wrote the file; {@code false} when it was up to date (another write took the change
	 * with it) or the session is no longer tracked
	 * @throws IOException if the file could not be written; it is left as it was
	 */
	boolean write(OptimizerSession session) throws IOException {
		FileState file = this.files.get(session.id());
		if (file == null) {
			return false;
		}
		file.lock.lock();
		try {
			if (file.removed || session.version() <= file.written) {
				return false;
			}
			long takenAt = this.clock.millis();
			PersistedSession state;
			try {
				state = session.persisted();
			}
			catch (SessionException ex) {
				if (ex.reason() == SessionException.Reason.SESSION_NOT_FOUND) {
					// it left the store meanwhile: its file goes with it
					return false;
				}
				throw ex;
			}
			try {
				this.directory.write(state);
			}
			catch (IOException | RuntimeException ex) {
				this.failures.incrementAndGet();
				throw ex;
			}
			file.written = state.version();
			this.writes.incrementAndGet();
			file.pendingSince.set(0);
			if (session.version() > state.version()) {
				// changed while it was written: those changes wait at most since the state was taken
				file.pendingSince.compareAndSet(0, takenAt);
			}
			return true;
		}
		finally {
			file.lock.unlock();
		}
	}

	/**
	 * The session has left the store (deleted or expired): deletes its file, after any write in progress, and never
	 * writes it again.
	 */
	void removed(OptimizerSession session) {
		forget(session.id());
	}

	/** Stops tracking a session and deletes its file: it was removed, or never made it into the store. */
	void forget(String id) {
		FileState file = this.files.remove(id);
		if (file == null) {
			return;
		}
		file.lock.lock();
		try {
			file.removed = true;
			this.directory.delete(id, this.durableDeletes);
		}
		catch (IOException ex) {
			log.warn("Could not delete the file of session {}: {}", id, ex.toString());
		}
		finally {
			file.lock.unlock();
		}
	}

	/**
	 * Another node owns the session now and writes it (a cluster): its file here waits, older, until the session is
	 * gone, and its changes are no longer this writer's to write.
	 */
	void ownedElsewhere(String id) {
		FileState file = this.files.get(id);
		if (file != null) {
			file.pendingSince.set(0);
		}
	}

	/** Stops tracking a session that did not make it into the store, leaving its file alone. */
	void stopTracking(String id) {
		this.files.remove(id);
	}

	/** How long the oldest change that is not yet on disk has waited; zero when every file is up to date. */
	Duration lag() {
		long oldest = Long.MAX_VALUE;
		for (FileState file : this.files.values()) {
			long since = file.pendingSince.get();
			if (since != 0 && since < oldest) {
				oldest = since;
			}
		}
		return (oldest == Long.MAX_VALUE) ? Duration.ZERO : Duration.ofMillis(Math.max(0, this.clock.millis() - oldest));
	}

	/** Files written so far. */
	long writes() {
		return this.writes.get();
	}

	/** Writes that failed so far. */
	long failures() {
		return this.failures.get();
	}

}
