package dev.adamopt.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code /actuator/health}'s {@code cluster} component (adam.store=hazelcast only): this member, the members it sees
 * and whether every session has its backups ({@code safe}; false for a while after a member left or joined). UP while
 * this member runs: a cluster that has lost members still serves every session it holds, so that is no reason to
 * restart this node; DOWN once this member has stopped.
 */
class ClusterHealthIndicator implements HealthIndicator {

	private final HazelcastInstance hazelcast;

	ClusterHealthIndicator(HazelcastInstance hazelcast) {
		this.hazelcast = hazelcast;
	}

	@Override
	public Health health() {
		if (!this.hazelcast.getLifecycleService().isRunning()) {
			return Health.down().withDetail("member", "stopped").build();
		}
		return Health.up()
			.withDetail("name", this.hazelcast.getConfig().getClusterName())
			.withDetail("member", address(this.hazelcast.getCluster().getLocalMember()))
			.withDetail("members",
					this.hazelcast.getCluster().getMembers().stream().map(ClusterHealthIndicator::address).toList())
			.withDetail("safe", this.hazelcast.getPartitionService().isClusterSafe())
			.build();
	}

	private static String address(Member member) {
		return member.getAddress().getHost() + ":" + member.getAddress().getPort();
	}

}
