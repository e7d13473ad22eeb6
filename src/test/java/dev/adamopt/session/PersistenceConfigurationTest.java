package dev.adamopt.session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.session.PersistenceProperties.Mode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/** adam.persistence.* as the application binds and wires them. */
class PersistenceConfigurationTest {

	@TempDir
	Path dir;

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class))
		.withUserConfiguration(SessionConfiguration.class, PersistenceConfiguration.class, SessionService.class);

	@Test
	void defaultsShouldBeTheDataDirectoryWrittenEveryTenSeconds() {
		PersistenceProperties defaults = new Binder(new MapConfigurationPropertySource(Map.of()))
			.bindOrCreate("adam.persistence", PersistenceProperties.class);

		assertThat(defaults.directory()).isEqualTo("./data");
		assertThat(defaults.enabled()).isTrue();
		assertThat(defaults.mode()).isEqualTo(Mode.INTERVAL);
		assertThat(defaults.interval()).isEqualTo(Duration.ofSeconds(10));
	}

	@Test
	void directoryShouldMakeTheStoreWriteFilesThere() {
		this.runner.withPropertyValues("adam.persistence.directory=" + this.dir, "adam.persistence.mode=every-step")
			.run(context -> {
				assertThat(context).hasNotFailed().hasSingleBean(SessionPersistence.class);
				assertThat(context.getBean(PersistenceProperties.class).mode()).isEqualTo(Mode.EVERY_STEP);
				assertThat(context.getBean(SessionStore.class)).isInstanceOf(PersistentSessionStore.class);
				String id = context.getBean(SessionService.class)
					.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null)
					.id();
				assertThat(this.dir.resolve(id + ".session")).exists();
			});
	}

	@Test
	void emptyDirectoryShouldKeepSessionsInMemoryOnly() {
		this.runner.withPropertyValues("adam.persistence.directory=").run(context -> {
			assertThat(context).hasNotFailed().doesNotHaveBean(SessionPersistence.class);
			assertThat(context.getBean(SessionStore.class)).isInstanceOf(CaffeineSessionStore.class);
			assertThat(context.getBean(PersistenceProperties.class).enabled()).isFalse();
		});
	}

	@Test
	void sessionsShouldSurviveAClosedContext() {
		String[] id = new String[1];
		this.runner.withPropertyValues("adam.persistence.directory=" + this.dir, "adam.persistence.interval=1h")
			.run(context -> id[0] = context.getBean(SessionService.class)
				.create(Hyperparameters.defaults(Algorithm.ADAMW), Precision.FLOAT32, null)
				.id());

		assertThat(this.dir.resolve(id[0] + ".session")).as("written when the context closed").exists();
		this.runner.withPropertyValues("adam.persistence.directory=" + this.dir)
			.run(context -> assertThat(context.getBean(SessionService.class).get(id[0]).precision())
				.isEqualTo(Precision.FLOAT32));
	}

	@Test
	void directoryInUseByAnotherServiceShouldStopTheStart() throws IOException {
		try (SessionDirectory taken = SessionDirectory.open(this.dir, new SessionFile(PersistenceTestSupport.FORMAT))) {
			this.runner.withPropertyValues("adam.persistence.directory=" + this.dir)
				.run(context -> assertThat(context).hasFailed()
					.getFailure()
					.rootCause()
					.hasMessageContaining("is in use by another service process"));
		}
	}

	@Test
	void directoryThatIsAFileShouldStopTheStart() throws IOException {
		Path file = Files.writeString(this.dir.resolve("a-file"), "");
		this.runner.withPropertyValues("adam.persistence.directory=" + file)
			.run(context -> assertThat(context).hasFailed());
	}

	@Test
	void intervalThatIsNotPositiveShouldStopTheStart() {
		this.runner.withPropertyValues("adam.persistence.directory=", "adam.persistence.interval=0s")
			.run(context -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("adam.persistence.interval must be positive, got PT0S"));
	}

	@Test
	void unknownModeShouldStopTheStart() {
		this.runner.withPropertyValues("adam.persistence.directory=", "adam.persistence.mode=sometimes")
			.run(context -> assertThat(context).hasFailed());
	}

}
