package dev.adamopt.cluster;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** {@code adam.store} and {@code adam.cluster.*}: defaults, binding, and each refusal saying what to fix. */
class ClusterPropertiesTest {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withUserConfiguration(Properties.class);

	@Test
	void defaultsShouldBeTheInMemoryStoreAndAOneMemberClusterOnPort5701() {
		this.runner.run(context -> {
			assertThat(context.getBean(StoreProperties.class).store()).isEqualTo(StoreKind.MEMORY);
			assertThat(context.getBean(StoreProperties.class).clustered()).isFalse();
			ClusterProperties cluster = context.getBean(ClusterProperties.class);
			assertThat(cluster).isEqualTo(new ClusterProperties("adam-optimizer", List.of(), 5701, null, 1,
					Duration.ofSeconds(5), Duration.ofSeconds(60)));
			assertThat(cluster.bindAddress()).isEqualTo("127.0.0.1");
			assertThat(cluster.joinMembers()).containsExactly("127.0.0.1:5701");
		});
	}

	@Test
	void everyPropertyShouldBindIncludingInterfaceWhichIsAJavaKeyword() {
		this.runner
			.withPropertyValues("adam.store=hazelcast", "adam.cluster.name=training",
					"adam.cluster.members=10.0.0.1:5801, 10.0.0.2:5801", "adam.cluster.port=5801",
					"adam.cluster.interface=10.0.0.1", "adam.cluster.backup-count=2",
					"adam.cluster.heartbeat-interval=1s", "adam.cluster.failure-timeout=8s")
			.run(context -> {
				assertThat(context.getBean(StoreProperties.class).clustered()).isTrue();
				assertThat(context.getBean(ClusterProperties.class)).isEqualTo(new ClusterProperties("training",
						List.of("10.0.0.1:5801", "10.0.0.2:5801"), 5801, "10.0.0.1", 2, Duration.ofSeconds(1),
						Duration.ofSeconds(8)));
			});
	}

	@Test
	void aMisspeltStoreShouldFailStartupInsteadOfQuietlyKeepingSessionsInMemory() {
		this.runner.withPropertyValues("adam.store=hazelcst").run(context -> {
			assertThat(context).hasFailed();
			// what Boot's failure analyzer reports at startup: the property, its value, and the valid values
			Throwable failure = context.getStartupFailure();
			while (!(failure instanceof BindException) && failure != null) {
				failure = failure.getCause();
			}
			assertThat(failure).isInstanceOf(BindException.class);
			assertThat(((BindException) failure).getProperty().getName()).hasToString("adam.store");
			assertThat(((BindException) failure).getProperty().getValue()).isEqualTo("hazelcst");
		});
	}

	@Test
	void anEmptyInterfaceShouldMeanNoneSoThatPropertiesFilesCanLeaveItBlank() {
		this.runner.withPropertyValues("adam.cluster.interface=", "adam.cluster.members=10.0.0.1:5701")
			.run(context -> {
				assertThat(context.getBean(ClusterProperties.class).networkInterface()).isNull();
				assertThat(context.getBean(ClusterProperties.class).bindAddress()).as("Hazelcast picks").isNull();
			});
	}

	@Test
	void membersAllOnLoopbackShouldBindTheMemberToLoopbackAndOthersShouldLetHazelcastPick() {
		assertThat(members("127.0.0.1:5701", "localhost:5702", "[::1]:5703").bindAddress()).isEqualTo("127.0.0.1");
		assertThat(members("127.0.0.1:5701", "10.0.0.2:5701").bindAddress()).isNull();
		assertThat(properties(List.of("10.0.0.2:5701"), 5701, "10.0.0.1").bindAddress()).isEqualTo("10.0.0.1");
	}

	@Test
	void aPortRangeShouldStandForAMemberOnEachOfItsPorts() {
		assertThat(members("127.0.0.1:5701-5703", "[fd00::2]:5701", "127.0.0.1:5702").joinMembers())
			.containsExactly("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703", "[fd00::2]:5701");
	}

	@Test
	void aMemberWithoutAPortShouldBeRefusedWithAnExample() {
		assertThatIllegalArgumentException().isThrownBy(() -> members("10.0.0.2"))
			.withMessage("adam.cluster.members: '10.0.0.2' has no port. Write each member as host:port, "
					+ "e.g. 10.0.0.2:5701 or [fd00::2]:5701");
		assertThatIllegalArgumentException().isThrownBy(() -> members("[fd00::2]"))
			.withMessageStartingWith("adam.cluster.members: '[fd00::2]' has no port after the IPv6 address.");
		assertThatIllegalArgumentException().isThrownBy(() -> members("fd00::2"))
			.withMessageStartingWith("adam.cluster.members: 'fd00::2' looks like an IPv6 address: put it in brackets");
		assertThatIllegalArgumentException().isThrownBy(() -> members("10.0.0.2:"))
			.withMessage("adam.cluster.members: '10.0.0.2:' needs a port between 1 and 65535, got ''");
	}

	@Test
	void badPortsHostsAndRangesInMembersShouldBeRefusedNamingTheEntry() {
		assertThatIllegalArgumentException().isThrownBy(() -> members("10.0.0.2:70000"))
			.withMessage("adam.cluster.members: '10.0.0.2:70000' needs a port between 1 and 65535, got '70000'");
		assertThatIllegalArgumentException().isThrownBy(() -> members("10.0.0.2:http"))
			.withMessage("adam.cluster.members: '10.0.0.2:http' needs a port between 1 and 65535, got 'http'");
		assertThatIllegalArgumentException().isThrownBy(() -> members("10.0.0.*:5701"))
			.withMessageStartingWith("adam.cluster.members: '10.0.0.*:5701' needs a host name or IP address");
		assertThatIllegalArgumentException().isThrownBy(() -> members("10.0.0.1:5701", ""))
			.withMessageStartingWith("adam.cluster.members has an empty entry (two commas in a row?).");
		assertThatIllegalArgumentException().isThrownBy(() -> members("127.0.0.1:5703-5701"))
			.withMessageStartingWith("adam.cluster.members: '127.0.0.1:5703-5701' is not a port range this service "
					+ "accepts: write host:first-last with ports between 1 and 65535, first <= last, at most 100 ports");
		assertThatIllegalArgumentException().isThrownBy(() -> members("127.0.0.1:5701-5801"))
			.withMessageContaining("at most 100 ports");
	}

	@Test
	void portOutsideOneTo65535ShouldBeRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> properties(List.of(), 0, null))
			.withMessage("adam.cluster.port needs a port between 1 and 65535, got '0'");
		assertThatIllegalArgumentException().isThrownBy(() -> properties(List.of(), 65536, null))
			.withMessage("adam.cluster.port needs a port between 1 and 65535, got '65536'");
	}

	@Test
	void anInterfaceThatIsNotOneIpAddressShouldBeRefused() {
		for (String bad : List.of("10.0.0.*", "10.0.0.1-9", "node-1.example", "256.0.0.1", "fd00::g")) {
			assertThatIllegalArgumentException().isThrownBy(() -> properties(List.of(), 5701, bad))
				.withMessage("adam.cluster.interface must be one IP address of this host (the member binds to it "
						+ "and gives it to the others), e.g. 10.0.0.1 or fd00::1; got '" + bad
						+ "' (no host names, wildcards or ranges)");
		}
		assertThat(properties(List.of(), 5701, "fd00::1").joinMembers()).containsExactly("[fd00::1]:5701");
	}

	@Test
	void backupCountOutsideZeroToSixShouldBeRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> backups(7))
			.withMessage("adam.cluster.backup-count must be between 0 and 6 (Hazelcast keeps at most 6 backups), got 7");
		assertThatIllegalArgumentException().isThrownBy(() -> backups(-1))
			.withMessageStartingWith("adam.cluster.backup-count must be between 0 and 6");
		assertThat(backups(0).backupCount()).isZero();
	}

	@Test
	void failureDetectionShouldTakeWholeSecondsAndAFailureTimeoutLongerThanTheHeartbeat() {
		assertThatIllegalArgumentException().isThrownBy(() -> timing(Duration.ofMillis(1500), Duration.ofSeconds(8)))
			.withMessage("adam.cluster.heartbeat-interval must be a whole number of seconds, at least 1s (Hazelcast "
					+ "counts it in seconds), got PT1.5S");
		assertThatIllegalArgumentException().isThrownBy(() -> timing(Duration.ofSeconds(1), Duration.ZERO))
			.withMessageStartingWith("adam.cluster.failure-timeout must be a whole number of seconds, at least 1s");
		assertThatIllegalArgumentException().isThrownBy(() -> timing(Duration.ofSeconds(5), Duration.ofSeconds(5)))
			.withMessage("adam.cluster.failure-timeout (5s) must be longer than adam.cluster.heartbeat-interval (5s), "
					+ "or a live member is declared dead between two heartbeats: make it several intervals long");
	}

	@Test
	void aBlankClusterNameShouldBeRefused() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new ClusterProperties(" ", List.of(), 5701, null, 1, Duration.ofSeconds(5),
					Duration.ofSeconds(60)))
			.withMessageStartingWith("adam.cluster.name must not be empty");
	}

	@Test
	void aRefusalShouldFailStartupWithItsMessage() {
		this.runner.withPropertyValues("adam.cluster.members=10.0.0.2")
			.run(context -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageStartingWith("adam.cluster.members: '10.0.0.2' has no port."));
	}

	private static ClusterProperties members(String... members) {
		return properties(List.of(members), 5701, null);
	}

	private static ClusterProperties properties(List<String> members, int port, String networkInterface) {
		return new ClusterProperties("adam-optimizer", members, port, networkInterface, 1, Duration.ofSeconds(5),
				Duration.ofSeconds(60));
	}

	private static ClusterProperties backups(int backupCount) {
		return new ClusterProperties("adam-optimizer", List.of(), 5701, null, backupCount, Duration.ofSeconds(5),
				Duration.ofSeconds(60));
	}

	private static ClusterProperties timing(Duration heartbeatInterval, Duration failureTimeout) {
		return new ClusterProperties("adam-optimizer", List.of(), 5701, null, 1, heartbeatInterval, failureTimeout);
	}

	@Configuration(proxyBeanMethods = false)
	@EnableConfigurationProperties({ StoreProperties.class, ClusterProperties.class })
	static class Properties {

	}

}
