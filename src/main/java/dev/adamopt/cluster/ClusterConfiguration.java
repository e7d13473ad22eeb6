package dev.adamopt.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The embedded Hazelcast member, only when {@code adam.store=hazelcast}: with the default store there is no
 * {@link Config} or {@link HazelcastInstance} bean and no member starts. The member is built from {@code adam.cluster.*} ({@link ClusterConfigs#member}), then
 * every {@link ClusterCustomizer} bean adds to it, and Spring shuts it down (gracefully) when the context closes.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnHazelcastStore
@EnableConfigurationProperties(ClusterProperties.class)
class ClusterConfiguration {

	@Bean
	Config hazelcastConfig(ClusterProperties properties, ObjectProvider<ClusterCustomizer> customizers) {
		Config config = ClusterConfigs.member(properties);
		customizers.orderedStream().forEach(customizer -> customizer.customize(config));
		return config;
	}

	@Bean(destroyMethod = "shutdown")
	HazelcastInstance hazelcastInstance(Config hazelcastConfig) {
		return Hazelcast.newHazelcastInstance(hazelcastConfig);
	}

	@Bean
	ClusterHealthIndicator clusterHealthIndicator(HazelcastInstance hazelcastInstance) {
		return new ClusterHealthIndicator(hazelcastInstance);
	}

}
