package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.IntStream;

import com.hazelcast.cluster.Member;
import com.hazelcast.partition.PartitionService;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The store contract on a cluster of three members in this JVM, on loopback, with one synchronous backup: the store
 * is used through the first member, and most sessions live on the others.
 */
class HazelcastSessionStoreContractTest extends SessionStoreContract {

	private static TestCluster cluster;

	@BeforeAll
	static void startCluster() {
		cluster = TestCluster.started(3, 1);
	}

	@AfterAll
	static void stopCluster() {
		cluster.close();
	}

	/** Each member visits the sessions it owns: together, every session once. */
	@Override
	protected void forEachEverywhere(Consumer<OptimizerSession> action) {
		for (int i = 0; i < 3; i++) {
			cluster.store(i, this.clock, IDLE_TIMEOUT).forEach(action);
		}
	}

	/**
	 * A session owned by another member: a member runs the operations of a partition on one of its partition threads,
	 * so sessions whose partitions share a thread wait for each other, as the store's documentation says.
	 */
	@Override
	protected String independentOf(String id) {
		PartitionService partitions = cluster.instance(0).getPartitionService();
		Member owner = partitions.getPartition(id).getOwner();
		return IntStream.range(0, 1000)
			.mapToObj(i -> "free-" + i)
			.filter(free -> !partitions.getPartition(free).getOwner().equals(owner))
			.findFirst()
			.orElseThrow();
	}

	@Override
	protected SessionStore newStore(Clock clock, Duration idleTimeout) {
		cluster.instance(0).getMap(HazelcastSessionStore.MAP).clear();
		return cluster.store(0, clock, idleTimeout);
	}

}
