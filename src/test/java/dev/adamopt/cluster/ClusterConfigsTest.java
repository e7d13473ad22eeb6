package dev.adamopt.cluster;

import java.time.Duration;
import java.util.List;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The member configuration {@link ClusterConfigs#member} builds from {@code adam.cluster.*}. */
class ClusterConfigsTest {

	@Test
	void aMemberShouldJoinByTcpIpOnlyWithEveryListedMemberOnItsOwnPort() {
		Config config = ClusterConfigs.member(new ClusterProperties("training",
				List.of("10.0.0.1:5801", "10.0.0.2:5801-5802"), 5801, "10.0.0.1", 2, Duration.ofSeconds(1),
				Duration.ofSeconds(8)));

		assertThat(config.getClusterName()).isEqualTo("training");
		assertThat(config.getNetworkConfig().getPort()).isEqualTo(5801);
		assertThat(config.getNetworkConfig().isPortAutoIncrement()).isFalse();
		JoinConfig join = config.getNetworkConfig().getJoin();
		assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
		assertThat(join.getTcpIpConfig().getMembers()).containsExactly("10.0.0.1:5801", "10.0.0.2:5801",
				"10.0.0.2:5802");
		assertThat(join.getMulticastConfig().isEnabled()).isFalse();
		assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
		assertThat(join.getAwsConfig().isEnabled()).isFalse();
		assertThat(join.getGcpConfig().isEnabled()).isFalse();
		assertThat(join.getAzureConfig().isEnabled()).isFalse();
		assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
		assertThat(join.getEurekaConfig().isEnabled()).isFalse();
		assertThat(join.getDiscoveryConfig().getDiscoveryStrategyConfigs()).isEmpty();
		assertThat(config.getJetConfig().isEnabled()).isFalse();
	}

	@Test
	void aGivenInterfaceShouldBeTheOnlyAddressBoundAndTheOneAnnounced() {
		Config config = ClusterConfigs.member(new ClusterProperties("training", List.of("10.0.0.2:5801"), 5801,
				"10.0.0.1", 1, Duration.ofSeconds(5), Duration.ofSeconds(60)));

		assertThat(config.getNetworkConfig().getInterfaces().isEnabled()).isTrue();
		assertThat(config.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("10.0.0.1");
		assertThat(config.getNetworkConfig().getPublicAddress()).isEqualTo("10.0.0.1:5801");
		assertThat(config.getProperty("hazelcast.socket.bind.any")).isEqualTo("false");
	}

	@Test
	void withoutInterfaceAmongNonLoopbackMembersHazelcastShouldPickTheAddress() {
		Config config = ClusterConfigs.member(new ClusterProperties("training", List.of("10.0.0.2:5701"), 5701, null,
				1, Duration.ofSeconds(5), Duration.ofSeconds(60)));

		assertThat(config.getNetworkConfig().getInterfaces().isEnabled()).isFalse();
		assertThat(config.getNetworkConfig().getPublicAddress()).isNull();
		assertThat(config.getProperty("hazelcast.socket.bind.any")).isNull();
	}

	@Test
	void noMembersShouldMakeAClusterOfThisMemberAloneOnLoopback() {
		Config config = ClusterConfigs.member(new ClusterProperties("solo", List.of(), 5901, null, 1,
				Duration.ofSeconds(5), Duration.ofSeconds(60)));

		assertThat(config.getNetworkConfig().getJoin().getTcpIpConfig().getMembers())
			.containsExactly("127.0.0.1:5901");
		assertThat(config.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("127.0.0.1");
		assertThat(config.getNetworkConfig().getPublicAddress()).isEqualTo("127.0.0.1:5901");
	}

	@Test
	void failureDetectionLoggingPhoneHomeShutdownHookAndBackupsShouldComeFromTheProperties() {
		Config config = ClusterConfigs.member(new ClusterProperties("training", List.of(), 5701, null, 3,
				Duration.ofSeconds(2), Duration.ofSeconds(9)));

		assertThat(config.getProperty("hazelcast.heartbeat.interval.seconds")).isEqualTo("2");
		assertThat(config.getProperty("hazelcast.max.no.heartbeat.seconds")).isEqualTo("9");
		assertThat(config.getProperty("hazelcast.logging.type")).isEqualTo("slf4j");
		assertThat(config.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
		assertThat(config.getProperty("hazelcast.shutdownhook.enabled")).isEqualTo("false");
		assertThat(config.getMapConfig("default").getBackupCount()).isEqualTo(3);
		assertThat(config.getMapConfig("default").getAsyncBackupCount()).isZero();
		assertThat(config.getMapConfig("any-map").getBackupCount()).as("inherited from default").isEqualTo(3);
	}

}
