package dev.adamopt.session;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.memory.MemoryBudgetExceededException;
import dev.adamopt.memory.RequestMemory;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The memory budget, the session limits and the all-or-nothing step, on the session layer alone. */
class SessionMemoryTest {

	private static final Duration IDLE_TIMEOUT = Duration.ofHours(1);

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private MemoryBudget budget = MemoryBudget.unlimited();

	private CaffeineSessionStore store;

	private SessionService service = service(SessionCapacity.unlimited());

	private SessionService service(SessionCapacity capacity) {
		this.budget = capacity.budget();
		this.store = new CaffeineSessionStore(IDLE_TIMEOUT, () -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()),
				capacity::release);
		this.service = new SessionService(this.store, this.clock, capacity, new MemoryCreateKeys());
		return this.service;
	}

	private void limit(long bytes, int maxSessions, int maxTensors) {
		service(new SessionCapacity(new MemoryBudget(bytes), maxSessions, maxTensors));
	}

	@Test
	void sessionShouldHoldExactlyWhatItsStateTakesAndGiveItBackWhenDeleted() {
		limit(1 << 20, 10, 10);
		String id = heldSession(Precision.FLOAT64, false, 100, 10);
		// two moments and the parameter per tensor, 8 bytes each, plus the fixed overheads
		long expected = SessionCapacity.SESSION_OVERHEAD_BYTES + (3 * 100 * 8 + Tensor.OVERHEAD_BYTES)
				+ (3 * 10 * 8 + Tensor.OVERHEAD_BYTES);
		assertThat(this.service.get(id).bytes()).isEqualTo(expected);
		assertThat(this.budget.used()).isEqualTo(expected);
		this.service.delete(id);
		assertThat(this.budget.used()).isZero();
	}

	@Test
	void float32AmsgradSessionShouldCountItsMaximumAndFourByteElements() {
		limit(1 << 20, 10, 10);
		String id = heldSession(Precision.FLOAT32, true, 100);
		assertThat(this.service.get(id).bytes())
			.isEqualTo(SessionCapacity.SESSION_OVERHEAD_BYTES + 4 * 100 * 4 + Tensor.OVERHEAD_BYTES);
	}

	@Test
	void expiredSessionShouldGiveBackItsMemoryAndItsPlace() {
		limit(1 << 20, 1, 10);
		heldSession(Precision.FLOAT64, false, 1000);
		assertThat(this.budget.used()).isPositive();
		this.clock.advance(IDLE_TIMEOUT.plusMinutes(1));
		assertThat(this.service.list(null, 10)).isEmpty();
		assertThat(this.budget.used()).isZero();
		// its place is free again
		heldSession(Precision.FLOAT64, false, 1000);
	}

	@Test
	void createBeyondTheBudgetShouldBeRefusedNamingTheBytesAndLeaveOtherSessionsUntouched() {
		limit(64 * 1024, 10, 10);
		String first = heldSession(Precision.FLOAT64, false, 1000);
		this.service.step(first, null, Map.of("w0", ramp(1000, 0.5)));
		Checkpoint before = this.service.checkpoint(first);
		long used = this.budget.used();

		assertThatThrownBy(() -> heldSession(Precision.FLOAT64, false, 4000))
			.isInstanceOfSatisfying(MemoryBudgetExceededException.class, ex -> {
				// two moments and the parameter
				assertThat(ex.needed()).isEqualTo(4000 * 8 * 3 + Tensor.OVERHEAD_BYTES);
				assertThat(ex.free()).isEqualTo(64 * 1024 - used - SessionCapacity.SESSION_OVERHEAD_BYTES);
				assertThat(ex.getMessage()).contains("needs " + ex.needed() + " bytes", "only " + ex.free());
			});

		assertThat(this.budget.used()).isEqualTo(used);
		assertThat(this.service.list(null, 10)).extracting(SessionSnapshot::id).containsExactly(first);
		assertSameState(this.service.checkpoint(first), before);
	}

	@Test
	void firstStepOfAClientHeldSessionBeyondTheBudgetShouldChangeNothing() {
		limit(16 * 1024, 10, 10);
		String id = this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null).id();
		long used = this.budget.used();
		Map<String, Tensor> parameters = Map.of("w", ramp(2000, 1));
		assertThatThrownBy(() -> this.service.step(id, parameters, Map.of("w", ramp(2000, 0.1))))
			.isInstanceOf(MemoryBudgetExceededException.class);
		assertThat(this.budget.used()).isEqualTo(used);
		SessionSnapshot after = this.service.get(id);
		assertThat(after.step()).isZero();
		assertThat(after.tensors()).isEmpty();
		// a smaller model still fits
		assertThat(this.service.step(id, Map.of("w", ramp(100, 1)), Map.of("w", ramp(100, 0.1))).step()).isEqualTo(1);
	}

	@Test
	void replacingHeldParametersShouldCountTheNewArrayUntilTheOldIsGone() {
		limit(1 << 20, 10, 10);
		String id = heldSession(Precision.FLOAT64, false, 100);
		long bytes = this.service.get(id).bytes();
		this.service.holdParameters(id, Map.of("w0", ramp(100, 3)));
		assertThat(this.service.get(id).bytes()).isEqualTo(bytes);
		assertThat(this.budget.used()).isEqualTo(bytes);
		// a budget that holds the session but not a second copy of its parameter refuses the PUT
		long tight = bytes + 100 * 8 - 1;
		limit(tight, 10, 10);
		String held = heldSession(Precision.FLOAT64, false, 100);
		Checkpoint before = this.service.checkpoint(held);
		assertThatThrownBy(() -> this.service.holdParameters(held, Map.of("w0", ramp(100, 7))))
			.isInstanceOf(MemoryBudgetExceededException.class);
		assertSameState(this.service.checkpoint(held), before);
		assertThat(this.budget.used()).isEqualTo(bytes);
	}

	@Test
	void resumeBeyondTheBudgetShouldBeRefusedAndCountNoSession() {
		// room for one session of 5000 parameters with amsgrad (160,640 bytes), not for two
		limit(250_000, 10, 10);
		String id = heldSession(Precision.FLOAT64, true, 5000);
		Checkpoint checkpoint = this.service.checkpoint(id);
		long used = this.budget.used();
		assertThat(this.budget.free()).isLessThan(used);
		assertThatThrownBy(() -> this.service.resume(checkpoint)).isInstanceOf(MemoryBudgetExceededException.class);
		assertThat(this.budget.used()).isEqualTo(used);
		assertThat(this.service.list(null, 10)).hasSize(1);
		this.service.delete(id);
		assertThat(this.service.resume(checkpoint).step()).isEqualTo(checkpoint.step());
	}

	@Test
	void sessionsBeyondTheLimitShouldBeRefusedUntilOneIsDeleted() {
		limit(1 << 20, 2, 10);
		String first = this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null).id();
		this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null);
		long used = this.budget.used();
		assertThatThrownBy(() -> this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null))
			.isInstanceOfSatisfying(SessionException.class, ex -> {
				assertThat(ex.reason()).isEqualTo(Reason.TOO_MANY_SESSIONS);
				assertThat(ex.getMessage()).contains("2 sessions", "adam.limits.max-sessions");
			});
		assertThat(this.budget.used()).isEqualTo(used);
		this.service.delete(first);
		this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null);
		assertThat(this.service.list(null, 10)).hasSize(2);
	}

	@Test
	void aFailedCreateShouldNotTakeAPlace() {
		limit(1 << 20, 1, 10);
		Map<String, Tensor> tooMany = Map.of("a", ramp(1, 1), "b", ramp(1, 1));
		limit(1 << 20, 1, 1);
		assertThatThrownBy(() -> this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64,
				tooMany))
			.isInstanceOfSatisfying(SessionException.class, ex -> {
				assertThat(ex.reason()).isEqualTo(Reason.TOO_MANY_TENSORS);
				assertThat(ex.getMessage()).contains("2 tensors", "at most 1", "adam.limits.max-tensors-per-session");
			});
		assertThat(this.budget.used()).isZero();
		this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, Map.of("a", ramp(1, 1)));
	}

	/**
	 * Measured with the thread's allocation counter around the apply phase of every kind of step, 125 tensors of 1,000
	 * elements each. The code allocates nothing there from the first step on (run with {@code -Xint} every step
	 * measures 0 bytes), but while the JIT replaces interpreted frames with compiled ones, or deoptimizes them, the
	 * JVM itself may put a few hundred bytes of its own on the heap at any step. So: after a warm-up pass, every kind
	 * of step must have steps that allocate exactly nothing, and no step may allocate as much as one small object per
	 * tensor (which any allocation of the code's, per tensor or per element, would).
	 */
	@Test
	void applyPhaseShouldAllocateNothing() {
		com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory
			.getThreadMXBean();
		int tensors = 125;
		for (int pass = 0; pass < 2; pass++) {
			for (Precision precision : Precision.values()) {
				for (boolean held : new boolean[] { true, false }) {
					for (boolean amsgrad : new boolean[] { true, false }) {
						// plain Adam with amsgrad; without it, the training features: a schedule, clipping by norm,
						// groups, the history (the step's statistics and the schedule's move are made before the
						// apply phase, which only swaps them in)
						OptimizerConfig config = amsgrad
								? OptimizerSettings.resolve(new OptimizerSettings(null, 0.01, null, null, null, 0.01,
										true, null, null, null, null, null, null))
								: training();
						String id = held ? this.service.create(config, precision, manyTensors(tensors, 1000)).id()
								: this.service.create(config, precision, null).id();
						long[] allocated = new long[2];
						this.store.apply(id, session -> session.observer = new OptimizerSession.ApplyPhaseObserver() {
							@Override
							public void beforeApply() {
								allocated[0] = threads.getCurrentThreadAllocatedBytes();
							}

							@Override
							public void afterApply() {
								allocated[1] = threads.getCurrentThreadAllocatedBytes();
							}
						});
						long least = Long.MAX_VALUE;
						for (int step = 0; step < 6; step++) {
							this.service.step(id, held ? null : manyTensors(tensors, 1000),
									gradientsOf(manyTensors(tensors, 1000)));
							long bytes = allocated[1] - allocated[0];
							least = Math.min(least, bytes);
							if (pass == 1) {
								assertThat(bytes)
									.as("bytes allocated in the apply phase, %s %s amsgrad (else training features) %s, step %d", precision,
											held ? "held" : "client-held", amsgrad, step)
									.isLessThan(tensors * 16L);
							}
						}
						if (pass == 1) {
							assertThat(least).as("the least bytes allocated in an apply phase, %s %s amsgrad %s",
									precision, held ? "held" : "client-held", amsgrad)
								.isZero();
						}
					}
				}
			}
		}
	}

	@Test
	void outOfMemoryInjectedIntoTheApplyPhaseShouldLeaveEveryTensorAsItWas() {
		limit(64 << 20, 10, 1000);
		for (boolean held : new boolean[] { true, false }) {
			Map<String, Tensor> parameters = manyTensors(125, 250);
			String id = held ? this.service.create(adam(false), Precision.FLOAT64, parameters).id()
					: this.service.create(adam(false), Precision.FLOAT64, null).id();
			this.service.step(id, held ? null : manyTensors(125, 250), gradientsOf(manyTensors(125, 250)));
			Checkpoint before = this.service.checkpoint(id);
			long used = this.budget.used();
			this.store.apply(id, session -> session.observer = new OptimizerSession.ApplyPhaseObserver() {
				@Override
				public void beforeApply() {
					throw new OutOfMemoryError("injected");
				}
			});
			for (int attempt = 0; attempt < 3; attempt++) {
				assertThatThrownBy(() -> this.service.step(id, held ? null : manyTensors(125, 250),
						gradientsOf(manyTensors(125, 250))))
					.isInstanceOf(OutOfMemoryError.class);
				assertSameState(this.service.checkpoint(id), before);
				assertThat(this.budget.used()).isEqualTo(used);
			}
			this.store.apply(id, session -> session.observer = OptimizerSession.ApplyPhaseObserver.NONE);
			// the retry that finally goes through gives what one step from the saved state gives
			String replay = this.service.resume(before).id();
			Map<String, Tensor> fromReplay = this.service
				.step(replay, held ? null : manyTensors(125, 250), gradientsOf(manyTensors(125, 250)))
				.parameters();
			Map<String, Tensor> fromRetry = this.service
				.step(id, held ? null : manyTensors(125, 250), gradientsOf(manyTensors(125, 250)))
				.parameters();
			fromReplay.forEach((name, tensor) -> assertThat(fromRetry.get(name).float64()).isEqualTo(tensor.float64()));
		}
	}

	@Test
	void answerCopiesAndCheckpointCopiesShouldBeChargedToTheRequestAndGivenBackAfterIt() {
		limit(1 << 20, 10, 10);
		String id = heldSession(Precision.FLOAT64, false, 1000);
		long held = this.budget.used();
		try (RequestMemory request = RequestMemory.open(this.budget)) {
			this.service.step(id, null, Map.of("w0", ramp(1000, 0.5)));
			assertThat(RequestMemory.held()).isEqualTo(1000 * 8);
			this.service.checkpoint(id);
			assertThat(RequestMemory.held()).isEqualTo(1000 * 8 + 3 * 1000 * 8);
			// the session itself now also holds its history's first block
			held += 16 * StepHistory.ENTRY_BYTES;
			assertThat(this.budget.used()).isEqualTo(held + RequestMemory.held());
		}
		assertThat(this.budget.used()).isEqualTo(held);
	}

	@Test
	void checkpointThatDoesNotFitShouldBeRefusedBeforeCopying() {
		limit(48 * 1024, 10, 10);
		String id = heldSession(Precision.FLOAT64, false, 1500);
		long held = this.budget.used();
		try (RequestMemory request = RequestMemory.open(this.budget)) {
			assertThatThrownBy(() -> this.service.checkpoint(id)).isInstanceOf(MemoryBudgetExceededException.class);
		}
		assertThat(this.budget.used()).isEqualTo(held);
	}

	private static OptimizerConfig training() {
		return OptimizerSettings.resolve(tools.jackson.databind.json.JsonMapper.builder()
			.build()
			.readValue("{\"algorithm\": \"adamw\", \"learningRate\": 0.01, \"nonFinite\": \"skip\", "
					+ "\"clipping\": {\"maxNorm\": 0.5}, \"groups\": [{\"match\": [\"t1*\"], \"weightDecay\": 0}], "
					+ "\"schedule\": {\"type\": \"sequential\", \"milestones\": [2], \"schedules\": [{\"type\": "
					+ "\"linear\", \"totalIters\": 2}, {\"type\": \"cosine\", \"tMax\": 10}]}}", OptimizerSettings.class));
	}

	private static Hyperparameters adam(boolean amsgrad) {
		Hyperparameters defaults = Hyperparameters.defaults(Algorithm.ADAM);
		return new Hyperparameters(Algorithm.ADAM, 0.01, defaults.beta1(), defaults.beta2(), defaults.epsilon(), 0.01,
				amsgrad, false);
	}

	private String heldSession(Precision precision, boolean amsgrad, int... sizes) {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		for (int i = 0; i < sizes.length; i++) {
			parameters.put("w" + i, ramp(sizes[i], i + 1));
		}
		return this.service.create(adam(amsgrad), precision, parameters).id();
	}

	private static Map<String, Tensor> manyTensors(int count, int size) {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		for (int i = 0; i < count; i++) {
			tensors.put("t" + i, ramp(size, 0.01 * (i + 1)));
		}
		return tensors;
	}

	private static Map<String, Tensor> gradientsOf(Map<String, Tensor> tensors) {
		Map<String, Tensor> gradients = new LinkedHashMap<>();
		tensors.forEach((name, tensor) -> gradients.put("d" + name, tensor));
		return gradients;
	}

	private static Tensor ramp(int size, double scale) {
		double[] data = new double[size];
		for (int i = 0; i < size; i++) {
			data[i] = scale * Math.sin(i + 1);
		}
		return Tensor.ofFloat64(new int[] { size }, data);
	}

	private static void assertSameState(Checkpoint actual, Checkpoint expected) {
		assertThat(actual.step()).isEqualTo(expected.step());
		assertThat(actual.tensors().keySet()).containsExactlyElementsOf(expected.tensors().keySet());
		expected.tensors().forEach((name, tensor) -> {
			TensorCheckpoint now = actual.tensors().get(name);
			assertThat(now.step()).as(name).isEqualTo(tensor.step());
			assertThat(bits(now.firstMoment())).as(name).isEqualTo(bits(tensor.firstMoment()));
			assertThat(bits(now.secondMoment())).as(name).isEqualTo(bits(tensor.secondMoment()));
			if (tensor.parameter() != null) {
				assertThat(bits(now.parameter())).as(name).isEqualTo(bits(tensor.parameter()));
			}
		});
	}

	private static long[] bits(Tensor tensor) {
		return Arrays.stream(tensor.float64()).mapToLong(Double::doubleToRawLongBits).toArray();
	}

}
