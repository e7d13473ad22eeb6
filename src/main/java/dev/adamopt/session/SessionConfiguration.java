package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.adamopt.memory.MemoryBudget;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({ SessionConfiguration.SessionProperties.class, LimitsProperties.class })
class SessionConfiguration {

	@Bean
	Clock clock() {
		return Clock.systemUTC();
	}

	@Bean
	MemoryBudget memoryBudget(LimitsProperties limits) {
		return new MemoryBudget(limits.memoryBytes());
	}

	@Bean
	SessionCapacity sessionCapacity(MemoryBudget budget, LimitsProperties limits) {
		return new SessionCapacity(budget, limits.maxSessions(), limits.maxTensorsPerSession());
	}

	@Bean
	CreateKeys createKeys() {
		return new CreateKeys();
	}

	@Bean
	SessionStore sessionStore(SessionProperties properties, Clock clock, SessionCapacity capacity,
			CreateKeys createKeys) {
		// expiry follows the injected clock, so tests move time instead of sleeping
		return new CaffeineSessionStore(properties.idleTimeout(), () -> TimeUnit.MILLISECONDS.toNanos(clock.millis()),
				session -> {
					capacity.release(session);
					createKeys.forget(session.id());
				});
	}

	/**
	 * @param idleTimeout how long a session lives without being used
	 */
	@ConfigurationProperties("adam.sessions")
	record SessionProperties(@DefaultValue("24h") Duration idleTimeout) {

		SessionProperties {
			if (idleTimeout.isNegative() || idleTimeout.isZero()) {
				throw new IllegalArgumentException("adam.sessions.idle-timeout must be positive, got " + idleTimeout);
			}
		}

	}

}
