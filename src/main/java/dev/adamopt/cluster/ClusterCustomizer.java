package dev.adamopt.cluster;

import com.hazelcast.config.Config;

/**
 * Adds to the member's configuration before the member starts (serializers, map configurations): every bean of this
 * type is applied, in their order, to the {@link Config} that {@link ClusterConfigs#member} built from
 * {@code adam.cluster.*}. Only called when {@code adam.store=hazelcast}.
 */
@FunctionalInterface
public interface ClusterCustomizer {

	void customize(Config config);

}
