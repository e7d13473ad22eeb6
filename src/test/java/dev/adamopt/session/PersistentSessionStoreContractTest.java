package dev.adamopt.session;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store whose sessions also live in files, as {@link SessionConfiguration} makes it in every-step mode (a change
 * is on disk when the action returns).
 */
class PersistentSessionStoreContractTest extends SessionStoreContract {

	@TempDir
	Path dir;

	private SessionDirectory directory;

	private SessionWriter writer;

	@Override
	protected SessionStore newStore(Clock clock, Duration idleTimeout) {
		try {
			this.directory = SessionDirectory.open(this.dir, new SessionFile(PersistenceTestSupport.FORMAT));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		this.writer = new SessionWriter(this.directory, true, clock);
		SessionStore store = SessionConfiguration.store(idleTimeout,
				() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()), this.capacity, new CreateKeys(), this.writer, true);
		return store;
	}

	@AfterEach
	void closeDirectory() throws IOException {
		if (this.directory != null) {
			this.directory.close();
		}
	}

}
