package dev.adamopt.session;

import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

import dev.adamopt.session.PersistenceProperties.Mode;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Durable sessions ({@link PersistenceProperties}), unless {@code adam.persistence.directory} is empty. The session
 * store itself is wired in {@link SessionConfiguration}.
 */
@Configuration(proxyBeanMethods = false)
@Conditional(PersistenceConfiguration.DirectoryGiven.class)
class PersistenceConfiguration {

	@Bean
	SessionDirectory sessionDirectory(PersistenceProperties properties, JsonMapper jsonMapper) throws IOException {
		return SessionDirectory.open(properties.path(), new SessionFile(new CheckpointFormat(jsonMapper)));
	}

	@Bean
	SessionWriter sessionWriter(SessionDirectory directory, PersistenceProperties properties, Clock clock) {
		return new SessionWriter(directory, properties.mode() == Mode.EVERY_STEP, clock);
	}

	/**
	 * {@code adam.persistence.writes} and {@code adam.persistence.failures} (session files written, writes that
	 * failed and are retried) and {@code adam.persistence.lag} (how long the oldest change not yet on disk has waited).
	 */
	@Bean
	MeterBinder persistenceMetrics(SessionWriter writer) {
		return registry -> {
			FunctionCounter.builder("adam.persistence.writes", writer, SessionWriter::writes)
				.description("Session files written")
				.register(registry);
			FunctionCounter.builder("adam.persistence.failures", writer, SessionWriter::failures)
				.description("Session file writes that failed (the change stays in memory and is written again)")
				.register(registry);
			TimeGauge.builder("adam.persistence.lag", writer, TimeUnit.MILLISECONDS, w -> w.lag().toMillis())
				.description("How long the oldest change that is not yet on disk has waited")
				.register(registry);
		};
	}

	/** Restores the sessions when created, before the server takes requests; writes them all when closed. */
	@Bean
	SessionPersistence sessionPersistence(SessionWriter writer, SessionStore store, SessionService service,
			PersistenceProperties properties) {
		return new SessionPersistence(writer, store, service, properties.interval(),
				SessionPersistence.Scheduler.thread("session-writer"));
	}

	/** Matches unless {@code adam.persistence.directory} is set to an empty value. */
	static final class DirectoryGiven extends SpringBootCondition {

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			String directory = Binder.get(context.getEnvironment())
				.bind("adam.persistence.directory", String.class)
				.orElse(PersistenceProperties.DEFAULT_DIRECTORY);
			return directory.isBlank() ? ConditionOutcome.noMatch("adam.persistence.directory is empty: sessions are "
					+ "kept in memory only") : ConditionOutcome.match("sessions are kept in " + directory);
		}

	}

}
