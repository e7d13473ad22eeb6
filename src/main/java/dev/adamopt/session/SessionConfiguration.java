package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.adamopt.memory.MemoryBudget;

import dev.adamopt.cluster.StoreProperties;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({ SessionConfiguration.SessionProperties.class, LimitsProperties.class,
		PerKeyLimitsProperties.class, PersistenceProperties.class, HistoryProperties.class })
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
	KeyQuotas keyQuotas(MemoryBudget budget, PerKeyLimitsProperties perKey) {
		return new KeyQuotas(budget, (perKey.memory() != null) ? perKey.memory().toBytes() : 0,
				(perKey.maxSessions() != null) ? perKey.maxSessions() : 0);
	}

	@Bean
	SessionCapacity sessionCapacity(MemoryBudget budget, LimitsProperties limits, HistoryProperties history,
			KeyQuotas quotas) {
		return new SessionCapacity(budget, limits.maxSessions(), limits.maxTensorsPerSession(), history.size(),
				quotas);
	}

	/** The create keys of this process's sessions (adam.store=memory); see {@link ClusterSessionConfiguration}. */
	@Bean
	@ConditionalOnProperty(name = StoreProperties.PROPERTY, havingValue = "memory", matchIfMissing = true)
	MemoryCreateKeys createKeys() {
		return new MemoryCreateKeys();
	}

	/** Sessions in this process (adam.store=memory, the default); see {@link ClusterSessionConfiguration}. */
	@Bean
	@ConditionalOnProperty(name = StoreProperties.PROPERTY, havingValue = "memory", matchIfMissing = true)
	SessionStore sessionStore(SessionProperties properties, PersistenceProperties persistence, Clock clock,
			SessionCapacity capacity, MemoryCreateKeys createKeys, ObjectProvider<SessionWriter> files) {
		// expiry follows the injected clock, so tests move time instead of sleeping
		return store(properties.idleTimeout(), () -> TimeUnit.MILLISECONDS.toNanos(clock.millis()), capacity,
				createKeys, files.getIfAvailable(), persistence.mode() == PersistenceProperties.Mode.EVERY_STEP);
	}

	/**
	 * The session store: in memory, and in files when {@code writer} is given ({@code null}: memory only). A session
	 * that leaves it (deleted or expired) loses its file, gives its memory back and forgets its create key.
	 */
	static SessionStore store(Duration idleTimeout, Ticker ticker, SessionCapacity capacity, MemoryCreateKeys createKeys,
			SessionWriter writer, boolean everyStep) {
		CaffeineSessionStore sessions = new CaffeineSessionStore(idleTimeout, ticker, session -> {
			if (writer != null) {
				writer.removed(session);
			}
			capacity.release(session);
			createKeys.forget(session.id());
		});
		createKeys.answerWhile(sessions::holds);
		return (writer != null) ? new PersistentSessionStore(sessions, writer, everyStep) : sessions;
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
