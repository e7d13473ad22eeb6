package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.github.benmanes.caffeine.cache.Ticker;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({ SessionConfiguration.SessionProperties.class, LimitsProperties.class,
		PersistenceProperties.class })
class SessionConfiguration {

	@Bean
	Clock clock() {
		return Clock.systemUTC();
	}

	@Bean
	SessionStore sessionStore(SessionProperties properties, PersistenceProperties persistence, Clock clock,
			ObjectProvider<SessionWriter> files) {
		// expiry follows the injected clock, so tests move time instead of sleeping
		Ticker ticker = () -> TimeUnit.MILLISECONDS.toNanos(clock.millis());
		SessionWriter writer = files.getIfAvailable();
		if (writer == null) {
			return new CaffeineSessionStore(properties.idleTimeout(), ticker);
		}
		// a session deleted or expired loses its file
		return new PersistentSessionStore(new CaffeineSessionStore(properties.idleTimeout(), ticker, writer::removed),
				writer, persistence.mode() == PersistenceProperties.Mode.EVERY_STEP);
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
