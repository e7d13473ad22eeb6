package dev.adamopt.session;

import java.util.concurrent.TimeUnit;

import com.hazelcast.map.IMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The create keys of a cluster's sessions, on three members in this JVM: the service runs on the first two (a retry
 * reaches the other one), and most sessions and keys live on the others.
 */
class ClusterCreateKeysContractTest extends CreateKeysContract {

	private static TestCluster cluster;

	private final SessionService[] services = new SessionService[2];

	private final ClusterCreateKeys[] keys = new ClusterCreateKeys[3];

	@BeforeAll
	static void startCluster() {
		cluster = TestCluster.started(3, 1);
	}

	@AfterAll
	static void stopCluster() {
		cluster.close();
	}

	@BeforeEach
	void emptyCluster() {
		cluster.instance(0).getMap(HazelcastSessionStore.MAP).clear();
		cluster.instance(0).getMap(ClusterCreateKeys.MAP).clear();
		// every member forgets the keys of the sessions it owns, as each service node's does
		for (int i = 0; i < 3; i++) {
			HazelcastSessionStore store = cluster.store(i, this.clock, IDLE_TIMEOUT);
			this.keys[i] = new ClusterCreateKeys(cluster.instance(i), store);
			if (i < 2) {
				this.services[i] = new SessionService(store, this.clock, cluster.member(i).capacity, this.keys[i]);
			}
		}
	}

	@AfterEach
	void stopForgetting() {
		for (ClusterCreateKeys member : this.keys) {
			member.close();
		}
	}

	@Override
	protected SessionService through(int node) {
		return this.services[node];
	}

	@Test
	void aSessionThatLeavesTheClusterShouldTakeItsKeyAlong() {
		IdempotencyKey key = new IdempotencyKey("create-1", 42);
		String deleted = through(0).createOnce(ALICE, key, () -> create(through(0), ALICE)).session().id();
		String expiring = through(0).createOnce(BOB, key, () -> create(through(0), BOB)).session().id();
		IMap<String, String> keys = cluster.instance(2).getMap(ClusterCreateKeys.MAP);
		assertThat(keys.get(ClusterCreateKeys.owned("alice", "create-1"))).isEqualTo(deleted);
		assertThat(keys.get(ClusterCreateKeys.owned("bob", "create-1"))).isEqualTo(expiring);

		through(1).delete(ALICE, deleted, null);
		this.clock.advance(IDLE_TIMEOUT.plusSeconds(1));
		// each member removes its expired sessions in its periodic pass
		for (int i = 0; i < 3; i++) {
			cluster.store(i, this.clock, IDLE_TIMEOUT).expireIdle();
		}
		assertThat(cluster.instance(0).getMap(HazelcastSessionStore.MAP).size()).isZero();

		await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> assertThat(keys.size()).isZero());
	}

}
