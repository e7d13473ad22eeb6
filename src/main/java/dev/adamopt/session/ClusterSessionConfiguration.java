package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;

import com.hazelcast.core.HazelcastInstance;
import dev.adamopt.cluster.ClusterCustomizer;
import dev.adamopt.cluster.ClusterProperties;
import dev.adamopt.cluster.ConditionalOnHazelcastStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Sessions in a Hazelcast cluster (adam.store=hazelcast): the sessions' map on the member the cluster package starts,
 * and the store over it. This member admits the sessions it owns under its own limits and writes them to its own
 * directory (adam.persistence.*).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnHazelcastStore
class ClusterSessionConfiguration {

	private static final Logger log = LoggerFactory.getLogger(ClusterSessionConfiguration.class);

	@Bean
	ClusterMember clusterMember(SessionCapacity capacity, JsonMapper jsonMapper, ObjectProvider<SessionWriter> files,
			PersistenceProperties persistence) {
		SessionWriter writer = files.getIfAvailable();
		return new ClusterMember(capacity, new ClusterCodec(jsonMapper), (writer != null)
				? new ClusterFiles(writer, persistence.mode() == PersistenceProperties.Mode.EVERY_STEP) : null);
	}

	@Bean
	ClusterCustomizer sessionsMap(ClusterMember member, ClusterProperties cluster) {
		return config -> HazelcastSessionStore.configure(config, cluster.backupCount(), member);
	}

	@Bean
	HazelcastSessionStore sessionStore(HazelcastInstance hazelcast, ClusterMember member, Clock clock,
			SessionConfiguration.SessionProperties properties) {
		return new HazelcastSessionStore(hazelcast, member, clock, properties.idleTimeout());
	}

	/** Create keys of the cluster: a create retried through another member answers the session the first made. */
	@Bean
	ClusterCreateKeys createKeys(HazelcastInstance hazelcast, HazelcastSessionStore store) {
		return new ClusterCreateKeys(hazelcast, store);
	}

	/**
	 * Each member removes its expired sessions (giving their memory back and deleting their files) every tenth of the
	 * idle timeout, at most a minute apart; until then they are passed over as gone.
	 */
	@Bean(destroyMethod = "run")
	Runnable sessionExpiry(HazelcastSessionStore store, SessionConfiguration.SessionProperties properties) {
		Duration period = properties.idleTimeout().dividedBy(10);
		if (period.compareTo(Duration.ofMinutes(1)) > 0) {
			period = Duration.ofMinutes(1);
		}
		return SessionPersistence.Scheduler.thread("session-expiry").schedule(() -> {
			try {
				store.expireIdle();
			}
			catch (RuntimeException ex) {
				log.warn("Removing expired sessions failed; tried again in the next period", ex);
			}
		}, period.isZero() ? Duration.ofSeconds(1) : period);
	}

}
