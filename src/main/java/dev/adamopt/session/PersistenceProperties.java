package dev.adamopt.session;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Durable sessions: each session is kept in a file of its own, so that a restart (a deploy, a crash, an exit on
 * OutOfMemoryError) puts every session back with the same id, step and state.
 *
 * @param directory where the session files live, created when missing; empty keeps sessions in memory only (they are
 * gone when the service stops)
 * @param mode when a change reaches the disk: interval (in the background, every interval: a crash loses at most
 * that much) or every-step (a create, step, PATCH or PUT answers only once it is on disk: a crash loses nothing that
 * was answered)
 * @param interval how often changed sessions are written in interval mode (in every-step mode, how soon a write that
 * failed is tried again)
 */
@ConfigurationProperties("adam.persistence")
public record PersistenceProperties(@DefaultValue(DEFAULT_DIRECTORY) String directory,
		@DefaultValue("interval") Mode mode, @DefaultValue("10s") Duration interval) {

	static final String DEFAULT_DIRECTORY = "./data";

	public PersistenceProperties {
		Objects.requireNonNull(directory, "adam.persistence.directory");
		if (interval.isNegative() || interval.isZero()) {
			throw new IllegalArgumentException("adam.persistence.interval must be positive, got " + interval);
		}
	}

	/** When a change reaches the disk. */
	public enum Mode {

		/** Changed sessions are written in the background, every {@code adam.persistence.interval}. */
		INTERVAL,

		/** A change is answered only once it is on disk. */
		EVERY_STEP

	}

	/** Whether sessions are kept on disk at all. */
	public boolean enabled() {
		return !this.directory.isBlank();
	}

	/** The directory of the session files; only when {@link #enabled()}. */
	public Path path() {
		return Path.of(this.directory.strip());
	}

}
