package dev.adamopt.session;

import java.io.IOException;

import dev.adamopt.session.PersistenceProperties.Mode;
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
	SessionWriter sessionWriter(SessionDirectory directory, PersistenceProperties properties) {
		return new SessionWriter(directory, properties.mode() == Mode.EVERY_STEP);
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
