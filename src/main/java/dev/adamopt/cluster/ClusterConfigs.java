package dev.adamopt.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.spi.properties.ClusterProperty;

/** Hazelcast member configurations built from {@code adam.cluster.*}. */
public final class ClusterConfigs {

	private ClusterConfigs() {
	}

	/**
	 * A member of the cluster {@code properties} describe: the cluster's name; this member on
	 * {@code adam.cluster.port} only (no other port is tried); joining by TCP/IP with every listed member (or itself
	 * alone), with multicast, auto-detection and cloud discovery off; bound to {@link ClusterProperties#bindAddress()}
	 * when there is one (which Hazelcast needs for members on loopback); failure detection from the heartbeat
	 * interval and failure timeout; logging through SLF4J; no phone-home; no JVM shutdown hook (Spring shuts the
	 * member down, gracefully: its partitions move to the others first); the backup count on the default map
	 * configuration (a map configured by name sets its own).
	 */
	public static Config member(ClusterProperties properties) {
		Config config = new Config();
		config.setClusterName(properties.name());
		config.setProperty(ClusterProperty.PHONE_HOME_ENABLED.getName(), "false");
		config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
		config.setProperty(ClusterProperty.SHUTDOWNHOOK_ENABLED.getName(), "false");
		config.setProperty(ClusterProperty.HEARTBEAT_INTERVAL_SECONDS.getName(),
				String.valueOf(properties.heartbeatInterval().toSeconds()));
		config.setProperty(ClusterProperty.MAX_NO_HEARTBEAT_SECONDS.getName(),
				String.valueOf(properties.failureTimeout().toSeconds()));
		config.getJetConfig().setEnabled(false);

		NetworkConfig network = config.getNetworkConfig();
		network.setPort(properties.port()).setPortAutoIncrement(false);
		String bindAddress = properties.bindAddress();
		if (bindAddress != null) {
			network.getInterfaces().setEnabled(true).addInterface(bindAddress);
			network.setPublicAddress(ClusterProperties.hostPort(bindAddress, properties.port()));
			config.setProperty(ClusterProperty.SOCKET_BIND_ANY.getName(), "false");
		}

		JoinConfig join = network.getJoin();
		join.getMulticastConfig().setEnabled(false);
		join.getAutoDetectionConfig().setEnabled(false);
		join.getAwsConfig().setEnabled(false);
		join.getGcpConfig().setEnabled(false);
		join.getAzureConfig().setEnabled(false);
		join.getKubernetesConfig().setEnabled(false);
		join.getEurekaConfig().setEnabled(false);
		join.getTcpIpConfig().setEnabled(true).setMembers(properties.joinMembers());

		config.getMapConfig("default").setBackupCount(properties.backupCount()).setAsyncBackupCount(0);
		return config;
	}

}
