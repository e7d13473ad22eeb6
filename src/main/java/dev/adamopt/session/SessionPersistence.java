package dev.adamopt.session;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable sessions. When created it puts every session back from its file (setting aside, with one WARN line each,
 * the files it cannot read); from then on it writes the changed sessions every interval, off the request path (in
 * every-step mode this only retries writes that failed); when closed, which Spring does after the server has
 * finished the requests in flight, it writes every changed session one last time and marks the directory clean.
 * <p>
 * After a stop that was not clean (a crash, {@code kill -9}, an exit on OutOfMemoryError) the restored sessions'
 * versions jump by {@link #VERSION_GAP}: a step lost in the crash had been answered with the next version as its
 * ETag, and that ETag must not match the state the session came back with.
 */
final class SessionPersistence implements AutoCloseable {

	private static final Logger log = LoggerFactory.getLogger(SessionPersistence.class);

	/** More changes than one session could make between two writes. */
	static final long VERSION_GAP = 1L << 32;

	private final SessionWriter writer;

	private final SessionStore store;

	private final Duration interval;

	/** One flush at a time: the scheduled ones and the last one at shutdown. */
	private final ReentrantLock flushing = new ReentrantLock();

	private final Runnable stopSchedule;

	private volatile boolean closed;

	/**
	 * @param writer writes the sessions of {@code store}
	 * @param store a store that tracks its sessions for {@code writer} ({@link PersistentSessionStore})
	 * @param service restores the sessions from their files into {@code store}
	 * @param interval how often changed sessions are written
	 * @param scheduler runs the periodic writes
	 */
	SessionPersistence(SessionWriter writer, SessionStore store, SessionService service, Duration interval,
			Scheduler scheduler) {
		this.writer = writer;
		this.store = store;
		this.interval = interval;
		restore(service);
		this.stopSchedule = scheduler.schedule(this::flushQuietly, interval);
	}

	/** Runs a task periodically; tests run it by hand. */
	@FunctionalInterface
	interface Scheduler {

		/**
		 * Runs {@code task} every {@code period} (a run that overruns delays the next, never overlaps it).
		 * @return stops the runs, waiting for one in progress
		 */
		Runnable schedule(Runnable task, Duration period);

		/** A scheduler with a daemon thread of its own. */
		static Scheduler thread(String name) {
			return (task, period) -> {
				ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
					Thread thread = new Thread(runnable, name);
					thread.setDaemon(true);
					return thread;
				});
				ScheduledFuture<?> runs = executor.scheduleAtFixedRate(task, period.toNanos(), period.toNanos(),
						TimeUnit.NANOSECONDS);
				return () -> {
					runs.cancel(false);
					executor.shutdown();
					try {
						executor.awaitTermination(1, TimeUnit.MINUTES);
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
					}
				};
			};
		}

	}

	private void restore(SessionService service) {
		long start = System.nanoTime();
		SessionDirectory directory = this.writer.directory();
		int restored = 0;
		int setAside = 0;
		int skipped = 0;
		try {
			boolean clean = directory.takeCleanMark();
			long versionGap = (clean && !this.store.sharedWithOtherNodes()) ? 0 : VERSION_GAP;
			for (Path file : directory.files()) {
				PersistedSession saved;
				try {
					saved = directory.read(file);
				}
				catch (IOException ex) {
					setAside(directory, file, ex.getMessage());
					setAside++;
					continue;
				}
				this.writer.track(saved.id(), saved.version());
				try {
					service.restore(saved, versionGap);
					if (versionGap != 0) {
						// its new version is not on disk yet
						this.writer.changed(saved.id());
					}
					restored++;
				}
				catch (SessionException ex) {
					this.writer.stopTracking(saved.id());
					if (ex.reason() == SessionException.Reason.INVALID_CHECKPOINT
							|| ex.reason() == SessionException.Reason.TENSOR_MISMATCH) {
						setAside(directory, file, "its checkpoint is not valid: " + ex.getMessage());
						setAside++;
					}
					else {
						leftInPlace(file, ex);
						skipped++;
					}
				}
				catch (RuntimeException ex) {
					// the memory budget is full: the session is not lost, a start with a larger budget restores it
					this.writer.stopTracking(saved.id());
					leftInPlace(file, ex);
					skipped++;
				}
			}
		}
		catch (IOException ex) {
			throw new IllegalStateException("cannot list the session directory " + directory.path(), ex);
		}
		log.info("Restored {} sessions from {} in {} ms ({} set aside, {} left in place)", restored, directory.path(),
				TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), setAside, skipped);
	}

	private static void leftInPlace(Path file, RuntimeException ex) {
		log.warn("Session file {} was not restored, and is left in place for a later start: {}", file,
				ex.getMessage());
	}

	private static void setAside(SessionDirectory directory, Path file, String reason) {
		try {
			Path aside = directory.setAside(file);
			log.warn("Session file {} cannot be read ({}); set aside as {}", file, reason, aside.getFileName());
		}
		catch (IOException ex) {
			log.warn("Session file {} cannot be read ({}) nor set aside ({})", file, reason, ex.toString());
		}
	}

	/** What one pass over the sessions wrote, and how many writes failed. */
	record Flush(int written, int failed) {

	}

	/** Writes every session that has changed since its file was written. */
	Flush flush() {
		this.flushing.lock();
		try {
			AtomicInteger written = new AtomicInteger();
			AtomicInteger failed = new AtomicInteger();
			AtomicReference<String> firstFailure = new AtomicReference<>();
			this.store.forEach(session -> {
				try {
					if (this.writer.write(session)) {
						written.incrementAndGet();
					}
				}
				catch (IOException | RuntimeException ex) {
					failed.incrementAndGet();
					firstFailure.compareAndSet(null, session.id() + ": " + ex);
				}
			});
			if (failed.get() > 0) {
				log.error("Could not write {} changed sessions to {} (first: {}); they stay in memory and are tried "
						+ "again in {}", failed.get(), this.writer.directory().path(), firstFailure.get(), this.interval);
			}
			return new Flush(written.get(), failed.get());
		}
		finally {
			this.flushing.unlock();
		}
	}

	private void flushQuietly() {
		if (this.closed) {
			return;
		}
		try {
			flush();
		}
		catch (RuntimeException ex) {
			// a scheduled task that throws is never run again: log and carry on
			log.error("Writing changed sessions failed", ex);
		}
	}

	/** Stops the periodic writes, writes every changed session and, when all of them are written, marks it so. */
	@Override
	public void close() {
		this.closed = true;
		this.stopSchedule.run();
		long start = System.nanoTime();
		Flush flush = flush();
		log.info("Wrote {} changed sessions to {} on shutdown in {} ms", flush.written(),
				this.writer.directory().path(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
		if (flush.failed() == 0) {
			try {
				this.writer.directory().markClean();
			}
			catch (IOException ex) {
				log.warn("Could not mark {} as cleanly stopped: {}", this.writer.directory().path(), ex.toString());
			}
		}
	}

}
