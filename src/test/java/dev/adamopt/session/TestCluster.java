package dev.adamopt.session;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.adamopt.cluster.ClusterConfigs;
import dev.adamopt.cluster.ClusterProperties;
import dev.adamopt.cluster.LoopbackPorts;
import tools.jackson.databind.json.JsonMapper;

import static org.awaitility.Awaitility.await;

/**
 * Hazelcast members in this JVM, on loopback, that hold sessions as the service's members do
 * ({@link HazelcastSessionStore#configure}); with fast failure detection (a heartbeat a second, dead after 8 silent
 * seconds), as the tests ask.
 */
final class TestCluster implements AutoCloseable {

	static final JsonMapper MAPPER = JsonMapper.builder().build();

	private final String name = "test-" + System.nanoTime();

	private final int[] ports;

	private final int backupCount;

	private final IntFunction<SessionCapacity> capacities;

	/** Each member's session files, by its index ({@code null}: none). */
	private final IntFunction<ClusterFiles> files;

	private final List<HazelcastInstance> instances = new ArrayList<>();

	private final List<ClusterMember> members = new ArrayList<>();

	/**
	 * @param size how many members may join (their ports are reserved now); {@link #start} starts them
	 * @param capacities each member's capacity, by its index
	 */
	TestCluster(int size, int backupCount, IntFunction<SessionCapacity> capacities) {
		this(size, backupCount, capacities, index -> null);
	}

	/** @param files each member's session files, by its index ({@code null}: none) */
	TestCluster(int size, int backupCount, IntFunction<SessionCapacity> capacities, IntFunction<ClusterFiles> files) {
		this.ports = LoopbackPorts.free(size);
		this.backupCount = backupCount;
		this.capacities = capacities;
		this.files = files;
	}

	/** {@code size} members with unlimited capacities, started. */
	static TestCluster started(int size, int backupCount) {
		TestCluster cluster = new TestCluster(size, backupCount, index -> SessionCapacity.unlimited());
		for (int i = 0; i < size; i++) {
			cluster.start();
		}
		return cluster;
	}

	/** Starts the next member and waits until it has joined the others. */
	HazelcastInstance start() {
		int index = this.instances.size();
		ClusterProperties properties = new ClusterProperties(this.name,
				Arrays.stream(this.ports).mapToObj(port -> "127.0.0.1:" + port).toList(), this.ports[index], null,
				this.backupCount, Duration.ofSeconds(1), Duration.ofSeconds(8));
		Config config = ClusterConfigs.member(properties);
		config.setInstanceName(this.name + "-" + index);
		ClusterMember member = new ClusterMember(this.capacities.apply(index), new ClusterCodec(MAPPER),
				this.files.apply(index));
		HazelcastSessionStore.configure(config, this.backupCount, member);
		HazelcastInstance instance = Hazelcast.newHazelcastInstance(config);
		this.instances.add(instance);
		this.members.add(member);
		int expected = (int) this.instances.stream().filter(i -> i.getLifecycleService().isRunning()).count();
		await().atMost(60, TimeUnit.SECONDS)
			.until(() -> instance.getCluster().getMembers().size() == expected);
		return instance;
	}

	HazelcastInstance instance(int index) {
		return this.instances.get(index);
	}

	ClusterMember member(int index) {
		return this.members.get(index);
	}

	HazelcastSessionStore store(int index, java.time.Clock clock, Duration idleTimeout) {
		return new HazelcastSessionStore(instance(index), member(index), clock, idleTimeout);
	}

	/** Waits until no partition of the running members is migrating or short of its backups. */
	void awaitSafe() {
		await().atMost(60, TimeUnit.SECONDS)
			.until(() -> this.instances.stream()
				.filter(i -> i.getLifecycleService().isRunning())
				.allMatch(i -> i.getPartitionService().isClusterSafe()));
	}

	/** Stops a member as a clean shutdown does: its partitions are handed over to the others first. */
	void shutdown(int index) {
		instance(index).shutdown();
	}

	/** Kills a member as a crash would: no goodbye, its partitions are not handed over. */
	void terminate(int index) {
		instance(index).getLifecycleService().terminate();
	}

	@Override
	public void close() {
		this.instances.forEach(instance -> instance.getLifecycleService().terminate());
	}

}
