package dev.adamopt.session;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SessionServiceTest {

	private static final Duration IDLE_TIMEOUT = Duration.ofHours(24);

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final SessionCapacity capacity = SessionCapacity.unlimited();

	private final SessionService service = new SessionService(new CaffeineSessionStore(IDLE_TIMEOUT,
			() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), this.capacity::release), this.clock,
			this.capacity, new MemoryCreateKeys());

	private final ExecutorService executor = Executors.newFixedThreadPool(8);

	@AfterEach
	void shutdown() {
		this.executor.shutdownNow();
	}

	@Test
	void concurrentStepsOnOneSessionShouldEachGetTheirOwnStepAndLoseNone() throws Exception {
		String id = heldSession();
		int threads = 8;
		int stepsPerThread = 50;
		Set<Long> seen = ConcurrentHashMap.newKeySet();
		CountDownLatch start = new CountDownLatch(1);
		List<Future<?>> futures = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			futures.add(this.executor.submit(() -> {
				start.await();
				for (int i = 0; i < stepsPerThread; i++) {
					seen.add(this.service.step(id, null, gradients(0.25)).step());
				}
				return null;
			}));
		}
		start.countDown();
		for (Future<?> future : futures) {
			future.get(60, TimeUnit.SECONDS);
		}
		int total = threads * stepsPerThread;
		assertThat(seen).hasSize(total).allMatch(step -> step >= 1 && step <= total);
		SessionSnapshot snapshot = this.service.get(id);
		assertThat(snapshot.step()).isEqualTo(total);
		assertThat(snapshot.tensors()).allMatch(tensor -> tensor.step() == total);
		// the same gradients applied one after another give the same bits as the concurrent run
		String sequential = heldSession();
		for (int i = 0; i < total; i++) {
			this.service.step(sequential, null, gradients(0.25));
		}
		assertThat(this.service.checkpoint(id).tensors().get("w").parameter().float64())
			.isEqualTo(this.service.checkpoint(sequential).tensors().get("w").parameter().float64());
	}

	@Test
	void stepOnOneSessionShouldNotWaitForAStepInProgressOnAnother() throws Exception {
		String busy = heldSession();
		String other = heldSession();
		CountDownLatch inside = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		// gradients whose iteration blocks: the first step holds the busy session's lock until released
		Map<String, Tensor> blocking = new LinkedHashMap<>(gradients(0.5)) {
			@Override
			public Set<Map.Entry<String, Tensor>> entrySet() {
				inside.countDown();
				try {
					release.await();
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				return super.entrySet();
			}
		};
		Future<StepResult> first = this.executor.submit(() -> this.service.step(busy, null, blocking));
		assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
		Future<StepResult> queued = this.executor.submit(() -> this.service.step(busy, null, gradients(0.5)));

		assertThat(this.executor.submit(() -> this.service.step(other, null, gradients(0.5)))
			.get(10, TimeUnit.SECONDS)
			.step()).isEqualTo(1);
		assertThatExceptionOfType(TimeoutException.class).isThrownBy(() -> queued.get(200, TimeUnit.MILLISECONDS));

		release.countDown();
		assertThat(first.get(10, TimeUnit.SECONDS).step()).isEqualTo(1);
		assertThat(queued.get(10, TimeUnit.SECONDS).step()).isEqualTo(2);
	}

	@Test
	void sessionShouldExpireAfterIdleTimeoutAndNotBefore() {
		String id = heldSession();
		this.clock.advance(IDLE_TIMEOUT.minusMinutes(1));
		assertThat(this.service.get(id).id()).isEqualTo(id);
		// that read was a use: the timeout starts again
		this.clock.advance(IDLE_TIMEOUT.minusMinutes(1));
		this.service.step(id, null, gradients(1));
		this.clock.advance(IDLE_TIMEOUT.minusMinutes(1));
		assertThat(this.service.list(null, 1000)).extracting(SessionSnapshot::id).containsExactly(id);
		this.clock.advance(Duration.ofMinutes(2));
		assertThat(this.service.list(null, 1000)).isEmpty();
		assertThatThrownBy(() -> this.service.get(id)).isInstanceOfSatisfying(SessionException.class,
				ex -> assertThat(ex.reason()).isEqualTo(Reason.SESSION_NOT_FOUND));
	}

	@Test
	void failedStepShouldChangeNothing() {
		String id = heldSession();
		this.service.step(id, null, gradients(0.5));
		Checkpoint before = this.service.checkpoint(id);
		Map<String, Tensor> bad = new LinkedHashMap<>(gradients(0.5));
		bad.put("db", Tensor.ofFloat64(new int[] { 3 }, new double[] { 1, 2, 3 }));
		assertThatThrownBy(() -> this.service.step(id, null, bad)).isInstanceOfSatisfying(SessionException.class,
				ex -> assertThat(ex.getMessage()).contains("'db'").contains("[3]").contains("[2]"));
		Checkpoint after = this.service.checkpoint(id);
		assertThat(after.step()).isEqualTo(before.step());
		before.tensors().forEach((name, tensor) -> {
			TensorCheckpoint now = after.tensors().get(name);
			assertThat(now.step()).isEqualTo(tensor.step());
			assertThat(now.parameter().float64()).isEqualTo(tensor.parameter().float64());
			assertThat(now.firstMoment().float64()).isEqualTo(tensor.firstMoment().float64());
			assertThat(now.secondMoment().float64()).isEqualTo(tensor.secondMoment().float64());
		});
	}

	@Test
	void float32SessionWhenValueOverflowsFloatShouldRejectAndChangeNothing() {
		SessionSnapshot created = this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT32,
				null);
		Map<String, Tensor> parameters = Map.of("w", Tensor.ofFloat64(new int[] { 2 }, new double[] { 1, 1e39 }));
		assertThatThrownBy(() -> this.service.step(created.id(), parameters, Map.of()))
			.isInstanceOfSatisfying(SessionException.class, ex -> assertThat(ex.getMessage()).contains("float32"));
		assertThat(this.service.get(created.id()).tensors()).isEmpty();
		assertThat(this.service.get(created.id()).step()).isZero();
	}

	@Test
	void resumeWhenFloat32CheckpointHoldsValueBeyondFloatShouldRejectTheCheckpoint() {
		Tensor moment = Tensor.ofFloat64(new int[] { 2 }, new double[] { 0.5, 1e39 });
		Tensor zeros = Tensor.ofFloat64(new int[] { 2 }, new double[] { 0, 0 });
		Checkpoint checkpoint = new Checkpoint(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT32, 1, false,
				Map.of("w", new TensorCheckpoint(1, moment, zeros, null, null)));
		assertThatThrownBy(() -> this.service.resume(checkpoint)).isInstanceOfSatisfying(SessionException.class,
				ex -> {
					assertThat(ex.reason()).isEqualTo(Reason.INVALID_CHECKPOINT);
					assertThat(ex.getMessage()).contains("firstMoment", "'w'", "float32");
				});
		assertThat(this.service.list(null, 1000)).isEmpty();
	}

	private String heldSession() {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		parameters.put("w", Tensor.ofFloat64(new int[] { 2, 2 }, new double[] { 1, -2, 3, -4 }));
		parameters.put("b", Tensor.ofFloat64(new int[] { 2 }, new double[] { 0.5, -0.5 }));
		return this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters).id();
	}

	private static Map<String, Tensor> gradients(double value) {
		Map<String, Tensor> gradients = new LinkedHashMap<>();
		gradients.put("dw", Tensor.ofFloat64(new int[] { 2, 2 }, new double[] { value, -value, value, value }));
		gradients.put("db", Tensor.ofFloat64(new int[] { 2 }, new double[] { value, value }));
		return gradients;
	}

}
