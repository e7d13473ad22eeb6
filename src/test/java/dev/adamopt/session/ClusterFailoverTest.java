package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Training goes on, bit for bit, while the cluster changes under it: ten sessions step in parallel through one member
 * while another member dies (no goodbye) or a new one joins, and every session ends exactly where the same steps
 * taken one after another in a single session end: no step lost, none applied twice.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClusterFailoverTest {

	private static final int SESSIONS = 10;

	private static final int STEPS = 40;

	/** The step after which every session has taken, when the cluster changes. */
	private static final int CHANGE_AFTER = 15;

	private static final int ELEMENTS = 257;

	private final Clock clock = Clock.fixed(Instant.parse("2026-03-01T00:00:00Z"), ZoneOffset.UTC);

	private final ExecutorService trainers = Executors.newFixedThreadPool(SESSIONS);

	private TestCluster cluster;

	@AfterEach
	void stop() {
		this.trainers.shutdownNow();
		if (this.cluster != null) {
			this.cluster.close();
		}
	}

	@Test
	void aMemberThatDiesMidTrainingShouldLoseNoStepAndDoubleNoneOfTenSessions() throws Exception {
		this.cluster = TestCluster.started(3, 1);
		trainThrough(() -> this.cluster.terminate(2));
		assertThat(this.cluster.instance(0).getCluster().getMembers()).hasSize(2);
	}

	@Test
	void aMemberThatJoinsMidTrainingShouldTakeSessionsWithoutChangingABit() throws Exception {
		this.cluster = new TestCluster(3, 1, index -> SessionCapacity.unlimited());
		this.cluster.start();
		this.cluster.start();
		trainThrough(() -> this.cluster.start());
		assertThat(this.cluster.instance(0).getCluster().getMembers()).hasSize(3);
		// the new member owns sessions now
		assertThat(this.cluster.instance(2).getMap(HazelcastSessionStore.MAP).localKeySet()).isNotEmpty();
	}

	/**
	 * Trains {@link #SESSIONS} sessions through member 0, one thread each; once every session has taken
	 * {@link #CHANGE_AFTER} steps, {@code change} runs while they go on; then each is compared with its replay.
	 */
	private void trainThrough(Runnable change) throws Exception {
		HazelcastSessionStore store = this.cluster.store(0, this.clock, Duration.ofHours(1));
		List<String> ids = new ArrayList<>();
		for (int s = 0; s < SESSIONS; s++) {
			OptimizerSession session = newSession("session-" + s);
			session.holdParameters(initial(s), null, this.clock.instant());
			store.add(session);
			ids.add(session.id());
		}
		AtomicInteger reached = new AtomicInteger();
		Object changed = new Object();
		boolean[] done = new boolean[1];
		List<Future<List<Long>>> runs = new ArrayList<>();
		for (int s = 0; s < SESSIONS; s++) {
			int index = s;
			runs.add(this.trainers.submit(() -> {
				List<Long> steps = new ArrayList<>();
				for (int k = 1; k <= STEPS; k++) {
					StepResult result = store
						.apply(ids.get(index), new SessionOperation.Step(null, gradient(index, k), Double.NaN, null,
								null, this.clock.instant()))
						.orElseThrow();
					steps.add(result.step());
					if (k == CHANGE_AFTER) {
						reached.incrementAndGet();
						synchronized (changed) {
							while (!done[0]) {
								changed.wait(TimeUnit.MINUTES.toMillis(2));
							}
						}
					}
				}
				return steps;
			}));
		}
		long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
		while (reached.get() < SESSIONS && System.nanoTime() < deadline) {
			Thread.sleep(10);
		}
		assertThat(reached.get()).as("sessions at step %d", CHANGE_AFTER).isEqualTo(SESSIONS);
		// the change starts while the steps after it are already being sent
		synchronized (changed) {
			done[0] = true;
			changed.notifyAll();
		}
		change.run();
		for (Future<List<Long>> run : runs) {
			assertThat(run.get(4, TimeUnit.MINUTES)).as("the step numbers each answer gave")
				.containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, STEPS).boxed().toList());
		}
		// the cluster has settled (every partition has its backups): what is compared is what it holds from now on
		await().atMost(2, TimeUnit.MINUTES)
			.until(() -> this.cluster.instance(0).getPartitionService().isClusterSafe());
		for (int s = 0; s < SESSIONS; s++) {
			OptimizerSession replay = newSession("replay-" + s);
			replay.holdParameters(initial(s), null, this.clock.instant());
			for (int k = 1; k <= STEPS; k++) {
				replay.step(null, gradient(s, k), null, null, this.clock.instant());
			}
			Checkpoint expected = replay.checkpoint();
			Checkpoint actual = store.apply(ids.get(s), new SessionOperation.TakeCheckpoint()).orElseThrow();
			assertThat(actual.step()).isEqualTo(STEPS);
			for (String name : expected.tensors().keySet()) {
				TensorCheckpoint want = expected.tensors().get(name);
				TensorCheckpoint got = actual.tensors().get(name);
				assertThat(bits(got.parameter())).as("%s %s parameter", ids.get(s), name)
					.isEqualTo(bits(want.parameter()));
				assertThat(bits(got.firstMoment())).as("%s %s first moment", ids.get(s), name)
					.isEqualTo(bits(want.firstMoment()));
				assertThat(bits(got.secondMoment())).as("%s %s second moment", ids.get(s), name)
					.isEqualTo(bits(want.secondMoment()));
			}
		}
	}

	private OptimizerSession newSession(String id) {
		return new OptimizerSession(id, null, OptimizerConfig.create(Hyperparameters.defaults(Algorithm.ADAM),
				List.of(), null, null, NonFinitePolicy.ERROR), Precision.FLOAT64, this.clock.instant(),
				SessionCapacity.unlimited());
	}

	private static Map<String, Tensor> initial(int session) {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		parameters.put("W1", Tensor.ofFloat64(new int[] { ELEMENTS }, values(session, 0, 0.5)));
		parameters.put("b1", Tensor.ofFloat64(new int[] { 3 }, new double[] { session, -session, 0.125 }));
		return parameters;
	}

	private static Map<String, Tensor> gradient(int session, int step) {
		Map<String, Tensor> gradients = new LinkedHashMap<>();
		gradients.put("dW1", Tensor.ofFloat64(new int[] { ELEMENTS }, values(session, step, 1e-2)));
		gradients.put("db1", Tensor.ofFloat64(new int[] { 3 }, values(session + 7, step, 3.0)));
		return gradients;
	}

	/** Deterministic, irregular values (no two steps alike). */
	private static double[] values(int session, int step, double scale) {
		double[] values = new double[(scale == 3.0) ? 3 : ELEMENTS];
		for (int i = 0; i < values.length; i++) {
			values[i] = scale * Math.sin(1.0 + session * 31.0 + step * 7.3 + i * 0.61);
		}
		return values;
	}

	private static long[] bits(Tensor tensor) {
		return java.util.Arrays.stream(tensor.float64()).mapToLong(Double::doubleToRawLongBits).toArray();
	}

}
