package dev.adamopt.session;

import java.time.Clock;

import com.hazelcast.core.HazelcastInstance;
import dev.adamopt.cluster.ClusterCustomizer;
import dev.adamopt.cluster.ClusterProperties;
import dev.adamopt.cluster.ConditionalOnHazelcastStore;
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

}
