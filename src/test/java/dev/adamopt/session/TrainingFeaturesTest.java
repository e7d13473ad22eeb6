package dev.adamopt.session;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.adamopt.kernel.Precision;
import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.Test;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The training features of a session beyond the torch trajectories: the non-finite policy, history, groups, PATCH. */
class TrainingFeaturesTest {

	private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final MemoryBudget budget = new MemoryBudget(1L << 30);

	private final SessionCapacity capacity = new SessionCapacity(this.budget, 100, 100, 5);

	private final SessionService service = new SessionService(new CaffeineSessionStore(Duration.ofHours(1),
			() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), this.capacity::release), this.clock,
			this.capacity, new MemoryCreateKeys());

	private String create(String optimizerJson, Precision precision, Map<String, Tensor> parameters) {
		OptimizerSettings settings = JSON.readValue(optimizerJson, OptimizerSettings.class);
		return this.service.create(OptimizerSettings.resolve(settings), precision, parameters).id();
	}

	private static Map<String, Tensor> tensors(double w0, double w1, double b) {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		tensors.put("layer.weight", Tensor.ofFloat64(new int[] { 2 }, new double[] { w0, w1 }));
		tensors.put("layer.bias", Tensor.ofFloat64(new int[0], new double[] { b }));
		return tensors;
	}

	@Test
	void aNonFiniteGradientUnderErrorShouldBeRefusedNamingTheTensorAndIndexAndChangeNothing() {
		String id = create("{\"schedule\": {\"type\": \"exponential\", \"gamma\": 0.5}}", Precision.FLOAT64,
				tensors(1, 2, 3));
		this.service.step(id, null, tensors(0.1, 0.2, 0.3));
		Checkpoint before = this.service.checkpoint(id);
		long version = this.service.get(id).version();

		assertThatThrownBy(() -> this.service.step(id, null, tensors(0.1, Double.NaN, 0.3)))
			.isInstanceOfSatisfying(SessionException.class, ex -> {
				assertThat(ex.reason()).isEqualTo(Reason.NON_FINITE_GRADIENT);
				assertThat(ex.getMessage()).contains("'layer.weight'").contains("NaN").contains("flat index 1");
			});

		PersistenceTestSupport.assertSameCheckpoint(this.service.checkpoint(id), before);
		assertThat(this.service.get(id).version()).isEqualTo(version);
		assertThat(this.service.history(id, Long.MIN_VALUE)).hasSize(1);
	}

	@Test
	void aNonFiniteGradientUnderSkipShouldChangeNothingButTheSkippedCountAndTheHistory() {
		String id = create("{\"nonFinite\": \"skip\", \"schedule\": {\"type\": \"exponential\", \"gamma\": 0.5}}",
				Precision.FLOAT64, tensors(1, 2, 3));
		this.service.step(id, null, tensors(0.1, 0.2, 0.3));
		Checkpoint before = this.service.checkpoint(id);

		StepResult skipped = this.service.step(id, null, tensors(0.1, Double.POSITIVE_INFINITY, 0.3), 0.75, null,
				null);

		assertThat(skipped.statistics().skipped).isTrue();
		assertThat(skipped.step()).isEqualTo(1);
		assertThat(skipped.parameters().get("layer.weight").float64()).containsExactly(
				before.tensors().get("layer.weight").parameter().float64());
		Checkpoint after = this.service.checkpoint(id);
		assertThat(after.skippedSteps()).isEqualTo(1);
		assertThat(after.optimizer()).isEqualTo(before.optimizer());
		assertThat(after.step()).isEqualTo(before.step());
		PersistenceTestSupport.assertSameCheckpoint(
				new Checkpoint(after.optimizer(), after.precision(), after.step(), 0, after.holdsParameters(),
						after.tensors()),
				before);
		List<StepHistory.Entry> history = this.service.history(id, Long.MIN_VALUE);
		assertThat(history).hasSize(2);
		assertThat(history.get(1).skipped()).isTrue();
		assertThat(history.get(1).loss()).isEqualTo(0.75);
		// the schedule did not move: the next step uses the rate the skipped one would have
		StepResult next = this.service.step(id, null, tensors(0.1, 0.2, 0.3));
		assertThat(next.statistics().learningRate).isEqualTo(skipped.statistics().learningRate).isEqualTo(0.0005);
		assertThat(next.step()).isEqualTo(2);
	}

	@Test
	void aFloat32StepWhoseSecondMomentWouldOverflowShouldBeRefusedUnderErrorAndSkippedUnderSkip() {
		// 1e21 is finite in float32, (1 - beta2) times its square is not
		String refusing = create("{}", Precision.FLOAT32, tensors(1, 2, 3));
		assertThatThrownBy(() -> this.service.step(refusing, null, tensors(0.1, 1e21, 0.3)))
			.isInstanceOfSatisfying(SessionException.class, ex -> {
				assertThat(ex.reason()).isEqualTo(Reason.NON_FINITE_RESULT);
				assertThat(ex.getMessage()).contains("'layer.weight'").contains("flat index 1");
			});
		assertThat(this.service.get(refusing).step()).isZero();

		String skipping = create("{\"nonFinite\": \"skip\"}", Precision.FLOAT32, tensors(1, 2, 3));
		StepResult result = this.service.step(skipping, null, tensors(0.1, 1e21, 0.3));
		assertThat(result.statistics().skipped).isTrue();
		assertThat(this.service.checkpoint(skipping).tensors().get("layer.weight").secondMoment().float32())
			.containsExactly(0f, 0f);
	}

	@Test
	void zeroEpsilonWithAZeroGradientShouldNotMakeNaN() {
		// torch computes 0 / 0 here; the service refuses the step instead of answering NaN
		String id = create("{\"epsilon\": 0}", Precision.FLOAT64, tensors(1, 2, 3));
		assertThatThrownBy(() -> this.service.step(id, null, tensors(0, 0, 0)))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.reason()).isEqualTo(Reason.NON_FINITE_RESULT));
		assertThat(this.service.checkpoint(id).tensors().get("layer.weight").parameter().float64())
			.containsExactly(1, 2);
	}

	@Test
	void nonFiniteParametersShouldBeRefusedWhateverThePolicy() {
		String id = create("{\"nonFinite\": \"skip\"}", Precision.FLOAT64, null);
		assertThatThrownBy(() -> this.service.step(id, tensors(1, Double.NaN, 3), tensors(0.1, 0.2, 0.3)))
			.isInstanceOfSatisfying(SessionException.class, ex -> {
				assertThat(ex.reason()).isEqualTo(Reason.INVALID_TENSOR);
				assertThat(ex.getMessage()).contains("parameter 'layer.weight'").contains("flat index 1");
			});
	}

	@Test
	void theHistoryShouldKeepItsLatestEntriesCountedInTheBudget() {
		String id = create("{}", Precision.FLOAT64, tensors(1, 2, 3));
		long bytesBefore = this.service.get(id).bytes();
		for (int i = 1; i <= 8; i++) {
			this.clock.advance(Duration.ofSeconds(1));
			this.service.step(id, null, tensors(0.1 * i, 0.2, 0.3), i, null, null);
		}
		List<StepHistory.Entry> history = this.service.history(id, Long.MIN_VALUE);
		assertThat(history).extracting(StepHistory.Entry::step).containsExactly(4L, 5L, 6L, 7L, 8L);
		assertThat(history).extracting(StepHistory.Entry::loss).containsExactly(4.0, 5.0, 6.0, 7.0, 8.0);
		assertThat(history.get(4).time()).isEqualTo(this.clock.instant());
		assertThat(history.get(4).updateNorm()).isPositive();
		assertThat(history.get(4).gradNorm()).isCloseTo(Math.sqrt(0.64 + 0.04 + 0.09), org.assertj.core.data.Offset.offset(1e-12));
		assertThat(this.service.history(id, 6)).extracting(StepHistory.Entry::step).containsExactly(7L, 8L);
		assertThat(this.service.get(id).bytes() - bytesBefore).isEqualTo(5L * StepHistory.ENTRY_BYTES);
	}

	@Test
	void tensorsShouldJoinTheFirstGroupWhoseGlobMatchesAndStepWithItsHyperparameters() {
		String id = create("{\"learningRate\": 0.1, \"groups\": [{\"match\": [\"*.bias\"], \"learningRate\": 0.5}, "
				+ "{\"match\": [\"layer.*\"], \"learningRate\": 0.01}]}", Precision.FLOAT64, tensors(1, 2, 3));
		assertThat(this.service.get(id).tensors()).extracting(SessionSnapshot.TensorSummary::group)
			.containsExactly(1, 0);
		StepResult result = this.service.step(id, null, tensors(1, 1, 1));
		// Adam's first step moves each element by its learning rate (the sign of the gradient)
		assertThat(result.parameters().get("layer.weight").float64()[0]).isCloseTo(1 - 0.01,
				org.assertj.core.data.Offset.offset(1e-7));
		assertThat(result.parameters().get("layer.bias").float64()[0]).isCloseTo(3 - 0.5,
				org.assertj.core.data.Offset.offset(1e-7));
	}

	@Test
	void aGroupsMatchShouldNotChangeOnceTheTensorsAreFixedButItsValuesMay() {
		String id = create("{\"groups\": [{\"match\": [\"*.bias\"], \"weightDecay\": 0}]}", Precision.FLOAT64,
				tensors(1, 2, 3));
		assertThatThrownBy(() -> this.service.updateOptimizer(id,
				JSON.readValue("{\"groups\": [{\"match\": [\"*.weight\"]}]}", OptimizerSettings.class)))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.reason()).isEqualTo(Reason.IMMUTABLE_SETTING));
		SessionSnapshot patched = this.service.updateOptimizer(id,
				JSON.readValue("{\"groups\": [{\"learningRate\": 0.125}]}", OptimizerSettings.class));
		assertThat(patched.optimizer().groups().get(0).hyperparameters().learningRate()).isEqualTo(0.125);
		assertThat(patched.optimizer().groups().get(0).match()).containsExactly("*.bias");
	}

	@Test
	void fieldsTheSessionKeepsShouldBeRefusedOnCreateAndPatch() {
		assertThatThrownBy(() -> create("{\"initialLearningRate\": 0.1}", Precision.FLOAT64, null))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.getMessage()).startsWith("optimizer.initialLearningRate is kept by the session"));
		assertThatThrownBy(() -> create("{\"schedule\": {\"type\": \"cosine\", \"tMax\": 5, \"position\": 2}}",
				Precision.FLOAT64, null))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.getMessage()).startsWith("optimizer.schedule.position is kept by the session"));
	}

	@Test
	void aScheduleParameterOfAnotherTypeShouldBeRefusedNamingTheField() {
		assertThatThrownBy(() -> create("{\"schedule\": {\"type\": \"cosine\", \"tMax\": 5, \"gamma\": 0.5}}",
				Precision.FLOAT64, null))
			.isInstanceOfSatisfying(SessionException.class, ex -> {
				assertThat(ex.reason()).isEqualTo(Reason.INVALID_SETTING);
				assertThat(ex.getMessage()).startsWith("optimizer.schedule.gamma is not a parameter of a 'cosine' schedule");
			});
		assertThatThrownBy(() -> create("{\"schedule\": {\"type\": \"sequential\", \"milestones\": [2], "
				+ "\"schedules\": [{\"type\": \"linear\"}, {\"type\": \"cosine\"}]}}", Precision.FLOAT64, null))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.getMessage()).startsWith("optimizer.schedule.schedules[1].tMax is required"));
		assertThatThrownBy(() -> create("{\"clipping\": {\"maxNorm\": 1, \"maxValue\": 1}}", Precision.FLOAT64, null))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.getMessage()).contains("not both"));
	}

	@Test
	void clippingByValueShouldReportClippedOnlyWhenAValueExceedsIt() {
		double[] small = new double[100];
		java.util.Arrays.fill(small, 0.09);
		Map<String, Tensor> parameters = Map.of("w", Tensor.ofFloat64(new int[] { 100 }, new double[100]));
		String id = create("{\"clipping\": {\"maxValue\": 0.1}}", Precision.FLOAT64, parameters);
		// every value within 0.1 though their norm (0.9) is far above it
		StepResult within = this.service.step(id, null, Map.of("w", Tensor.ofFloat64(new int[] { 100 }, small)));
		assertThat(within.statistics().clipped).isFalse();
		assertThat(within.statistics().gradNorm).isCloseTo(0.9, org.assertj.core.data.Offset.offset(1e-12));
		double[] one = small.clone();
		one[57] = -0.2;
		StepResult beyond = this.service.step(id, null, Map.of("w", Tensor.ofFloat64(new int[] { 100 }, one)));
		assertThat(beyond.statistics().clipped).isTrue();
	}

}
