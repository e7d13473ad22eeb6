package dev.adamopt.session;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

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
		return SessionConfiguration.store(idleTimeout, () -> TimeUnit.MILLISECONDS.toNanos(clock.millis()),
				this.capacity, new MemoryCreateKeys(), this.writer, true);
	}

	// what only this store does: its sessions' files

	@Test
	void anAddedSessionAndEveryChangeAnActionMakesShouldBeInTheSessionsFileWhenTheCallReturns() throws IOException {
		String id = addHeld("s-1", "team-a", 1.0);
		assertThat(this.directory.read(this.directory.fileOf(id)).version())
			.isEqualTo(store().apply(id, SNAPSHOT).map(SessionSnapshot::version).orElseThrow());
		long writes = this.writer.writes();
		store().apply(id, step());
		PersistedSession file = this.directory.read(this.directory.fileOf(id));
		assertThat(file.checkpoint().step()).isEqualTo(1);
		assertThat(file.version()).isEqualTo(store().apply(id, SNAPSHOT).map(SessionSnapshot::version).orElseThrow());
		assertThat(file.metadata().entries()).containsEntry(OptimizerSession.OWNER_ENTRY, "team-a");
		assertThat(this.writer.writes()).isEqualTo(writes + 1);
	}

	@Test
	void actionsThatChangeNothingAndListingShouldWriteNoFile() {
		String id = addHeld("s-1", null, 1.0);
		long writes = this.writer.writes();
		store().apply(id, SNAPSHOT);
		store().apply(id, Caller.key("team-a"), step());
		store().page(null, 10, SNAPSHOT);
		store().forEach(OptimizerSession::checkpoint);
		assertThat(this.writer.writes()).isEqualTo(writes);
	}

	@Test
	void aSessionThatLeavesTheStoreByRemovalOrExpiryShouldLoseItsFile() {
		String removed = addHeld("removed", null, 1.0);
		String expired = addHeld("expired", null, 1.0);
		this.clock.advance(IDLE_TIMEOUT.dividedBy(2));
		String kept = addHeld("kept", null, 1.0);
		assertThat(this.directory.fileOf(removed)).exists();
		assertThat(this.directory.fileOf(expired)).exists();
		store().remove(removed);
		assertThat(this.directory.fileOf(removed)).doesNotExist();
		this.clock.advance(IDLE_TIMEOUT.dividedBy(2));
		// expiry is noticed on the next look at the store
		assertThat(store().size()).isEqualTo(1);
		assertThat(this.directory.fileOf(expired)).doesNotExist();
		assertThat(this.directory.fileOf(kept)).exists();
	}

	@AfterEach
	void closeDirectory() throws IOException {
		if (this.directory != null) {
			this.directory.close();
		}
	}

}
