package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** What only the Hazelcast store does, beside the store contract. */
class HazelcastSessionStoreTest {

	private final Clock clock = Clock.fixed(Instant.parse("2026-03-01T00:00:00Z"), ZoneOffset.UTC);

	private TestCluster cluster;

	@AfterEach
	void stop() {
		if (this.cluster != null) {
			this.cluster.close();
		}
	}

	@Test
	void aStepWithoutTheClientsKeyShouldAnswerAsAppliedNotAsAReplayAndLeaveTheSessionsKeysToTheClient() {
		this.cluster = TestCluster.started(1, 0);
		HazelcastSessionStore store = this.cluster.store(0, this.clock, Duration.ofHours(1));
		store.add(held("s"));
		StepResult first = store.apply("s", step(null)).orElseThrow();
		assertThat(first.replayed()).isFalse();
		assertThat(first.step()).isEqualTo(1);
		// the client's own key works as on one node: a retry is answered again, with Idempotent-Replayed
		IdempotencyKey key = new IdempotencyKey("client-key", 42);
		StepResult keyed = store.apply("s", step(key)).orElseThrow();
		StepResult retry = store.apply("s", step(key)).orElseThrow();
		assertThat(keyed.replayed()).isFalse();
		assertThat(retry.replayed()).isTrue();
		assertThat(retry.step()).isEqualTo(keyed.step()).isEqualTo(2);
		// the store's guards of unkeyed steps do not push the client's key out of the ones the session remembers
		for (int i = 0; i < OptimizerSession.OLDER_KEYS + 2; i++) {
			store.apply("s", step(null)).orElseThrow();
		}
		SessionException outdated = catchThrowableOfType(SessionException.class, () -> store.apply("s", step(key)));
		assertThat(outdated.reason()).isEqualTo(Reason.IDEMPOTENCY_KEY_OUTDATED);
	}

	@Test
	void aStepSentAgainUnderItsGuardShouldBeAnsweredAsTheStepItWasNotAppliedTwiceNorCalledAReplay() {
		this.cluster = TestCluster.started(1, 0);
		HazelcastSessionStore store = this.cluster.store(0, this.clock, Duration.ofHours(1));
		store.add(held("s"));
		// what the store sends again after a member's departure: the same step under the same guard
		SessionOperation.Step guarded = step(IdempotencyKey.guard());
		StepResult first = store.apply("s", guarded).orElseThrow();
		StepResult again = store.apply("s", guarded).orElseThrow();
		assertThat(again.step()).isEqualTo(first.step()).isEqualTo(1);
		assertThat(again.replayed()).as("to the client its step was applied once").isFalse();
		assertThat(store.apply("s", new SessionOperation.Snapshot()).orElseThrow().step()).isEqualTo(1);
	}

	@Test
	void aSessionClosedForItsDeletionShouldLeaveEveryMemberInThatOneOperation() {
		this.cluster = TestCluster.started(2, 1);
		HazelcastSessionStore store = this.cluster.store(0, this.clock, Duration.ofHours(1));
		store.add(held("s"));
		// the owner's copy and the backup's, each counted on its member
		assertThat(this.cluster.member(0).capacity.budget().used()).isPositive();
		assertThat(this.cluster.member(1).capacity.budget().used()).isPositive();
		assertThat(store.apply("s", new SessionOperation.CloseIfMatch(null))).contains(true);
		assertThat(store.size()).isZero();
		assertThat(this.cluster.instance(0).getMap(HazelcastSessionStore.MAP).size()).isZero();
		// what the service does next finds nothing left to remove
		assertThat(store.remove("s")).isFalse();
		// and no member's copy is left: the owner's and the backup's memory were given back
		assertThat(this.cluster.member(0).capacity.budget().used()).isZero();
		assertThat(this.cluster.member(1).capacity.budget().used()).isZero();
	}

	@Test
	void aMemberThatIsShutDownShouldAnswerClusterUnavailableSayingNothingWasChanged() {
		this.cluster = TestCluster.started(1, 0);
		HazelcastSessionStore store = this.cluster.store(0, this.clock, Duration.ofHours(1));
		store.add(held("s"));
		this.cluster.instance(0).shutdown();
		SessionException refused = catchThrowableOfType(SessionException.class, () -> store.apply("s", step(null)));
		assertThat(refused.reason()).isEqualTo(Reason.CLUSTER_UNAVAILABLE);
		assertThat(refused.getMessage()).contains("nothing was changed", "retry");
	}

	private OptimizerSession held(String id) {
		OptimizerSession session = new OptimizerSession(id, null, OptimizerConfig.create(
				Hyperparameters.defaults(Algorithm.ADAM), List.of(), null, null, NonFinitePolicy.ERROR),
				Precision.FLOAT64, this.clock.instant(), SessionCapacity.unlimited());
		session.holdParameters(Map.of("w", Tensor.ofFloat64(new int[] { 2 }, new double[] { 1, 2 })), null,
				this.clock.instant());
		return session;
	}

	private SessionOperation.Step step(IdempotencyKey key) {
		return new SessionOperation.Step(null, Map.of("dw", Tensor.ofFloat64(new int[] { 2 }, new double[] { 0.5, -1 })),
				Double.NaN, key, null, this.clock.instant());
	}

}
