package dev.adamopt.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Members built by {@link ClusterConfigs#member} find each other on loopback by the listed ports alone, and the
 * others notice within the failure timeout when one dies.
 */
class ClusterMembershipTest {

	private final List<HazelcastInstance> members = new ArrayList<>();

	@AfterEach
	void terminateMembers() {
		this.members.forEach(member -> member.getLifecycleService().terminate());
	}

	@Test
	@Timeout(value = 3, unit = TimeUnit.MINUTES)
	void threeMembersListingEachOtherShouldFormOneClusterAndTheSurvivorsShouldDropAKilledOne() {
		int[] ports = LoopbackPorts.free(3);
		List<String> all = Arrays.stream(ports).mapToObj(port -> "127.0.0.1:" + port).toList();
		String name = "membership-" + ports[0];
		List<CompletableFuture<HazelcastInstance>> starting = Arrays.stream(ports)
			.mapToObj(port -> new ClusterProperties(name, all, port, null, 1, Duration.ofSeconds(1),
					Duration.ofSeconds(8)))
			.map(properties -> CompletableFuture
				.supplyAsync(() -> Hazelcast.newHazelcastInstance(ClusterConfigs.member(properties))))
			.toList();
		CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).exceptionally(failure -> null).join();
		starting.stream().filter(member -> !member.isCompletedExceptionally()).forEach(member -> this.members.add(member.join()));
		assertThat(this.members).as("members started").hasSize(3);

		await().atMost(Duration.ofSeconds(60))
			.untilAsserted(() -> this.members
				.forEach(member -> assertThat(member.getCluster().getMembers()).hasSize(3)));
		assertThat(this.members).allSatisfy(member -> assertThat(member.getConfig().getClusterName()).isEqualTo(name));

		HazelcastInstance killed = this.members.remove(1);
		String killedAddress = killed.getCluster().getLocalMember().getAddress().toString();
		killed.getLifecycleService().terminate();

		await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> this.members.forEach(member -> {
			assertThat(member.getCluster().getMembers()).hasSize(2);
			assertThat(member.getCluster().getMembers())
				.noneMatch(other -> other.getAddress().toString().equals(killedAddress));
		}));
	}

}
