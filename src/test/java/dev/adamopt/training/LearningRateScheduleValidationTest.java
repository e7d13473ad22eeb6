package dev.adamopt.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import dev.adamopt.training.LearningRateSchedule.Cosine;
import dev.adamopt.training.LearningRateSchedule.CosineWarmRestarts;
import dev.adamopt.training.LearningRateSchedule.Exponential;
import dev.adamopt.training.LearningRateSchedule.Linear;
import dev.adamopt.training.LearningRateSchedule.MultiStep;
import dev.adamopt.training.LearningRateSchedule.Sequential;
import dev.adamopt.training.LearningRateSchedule.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNoException;

/**
 * Every invalid schedule parameter is refused with an {@link IllegalArgumentException} whose message starts with the
 * parameter's name and shows the value: torch's own checks (T_0, T_mult, start and end factors) and the ones torch
 * lacks (it divides by zero, or takes NaN, infinities and negative numbers).
 */
class LearningRateScheduleValidationTest {

	private static final double NAN = Double.NaN;

	private static final double INF = Double.POSITIVE_INFINITY;

	private static final long TOO_LARGE = (1L << 53) + 1;

	interface Construction {

		LearningRateSchedule build();

	}

	static Stream<Arguments> invalid() {
		List<Arguments> cases = new ArrayList<>();
		add(cases, "stepSize", "0", () -> new Step(0, 0.5));
		add(cases, "stepSize", "-1", () -> Step.of(-1));
		for (double gamma : new double[] { NAN, INF, -INF, -0.5 }) {
			add(cases, "gamma", String.valueOf(gamma), () -> new Step(3, gamma));
			add(cases, "gamma", String.valueOf(gamma), () -> new MultiStep(new int[] { 2 }, gamma));
			add(cases, "gamma", String.valueOf(gamma), () -> new Exponential(gamma));
		}
		add(cases, "milestones", "null", () -> new MultiStep(null, 0.5));
		add(cases, "milestones", "-1", () -> MultiStep.of(2, -1));
		add(cases, "milestones", "3 after 5", () -> MultiStep.of(2, 5, 3));
		add(cases, "tMax", "0", () -> Cosine.of(0));
		add(cases, "tMax", "-3", () -> new Cosine(-3, 0.0));
		add(cases, "tMax", String.valueOf(TOO_LARGE), () -> Cosine.of(TOO_LARGE));
		for (double etaMin : new double[] { NAN, INF, -1e-3 }) {
			add(cases, "etaMin", String.valueOf(etaMin), () -> new Cosine(10, etaMin));
			add(cases, "etaMin", String.valueOf(etaMin), () -> new CosineWarmRestarts(10, 1, etaMin));
		}
		add(cases, "t0", "0", () -> CosineWarmRestarts.of(0));
		add(cases, "t0", "-1", () -> new CosineWarmRestarts(-1, 2, 0.0));
		add(cases, "t0", String.valueOf(TOO_LARGE), () -> CosineWarmRestarts.of(TOO_LARGE));
		add(cases, "tMult", "0", () -> new CosineWarmRestarts(3, 0, 0.0));
		add(cases, "tMult", "-2", () -> new CosineWarmRestarts(3, -2, 0.0));
		add(cases, "tMult", String.valueOf(TOO_LARGE), () -> new CosineWarmRestarts(3, TOO_LARGE, 0.0));
		for (double factor : new double[] { 0.0, -0.1, 1.5, NAN, INF }) {
			add(cases, "startFactor", String.valueOf(factor), () -> new Linear(factor, 1.0, 5));
		}
		for (double factor : new double[] { -0.1, Math.nextUp(1.0), NAN, -INF }) {
			add(cases, "endFactor", String.valueOf(factor), () -> new Linear(0.5, factor, 5));
		}
		add(cases, "totalIters", "0", () -> new Linear(0.5, 1.0, 0));
		add(cases, "totalIters", "-1", () -> new Linear(0.5, 1.0, -1));
		LearningRateSchedule cosine = Cosine.of(10);
		LearningRateSchedule linear = Linear.of();
		add(cases, "schedules", "null", () -> new Sequential(null, new long[0]));
		add(cases, "schedules", "none", () -> new Sequential(List.of(), new long[0]));
		add(cases, "schedules", "null at index 1", () -> new Sequential(Arrays.asList(linear, null), new long[] { 3 }));
		add(cases, "schedules", "index 1", () -> new Sequential(
				List.of(linear, new Sequential(List.of(cosine), new long[0])), new long[] { 3 }));
		add(cases, "milestones", "null", () -> new Sequential(List.of(linear, cosine), null));
		add(cases, "milestones", "(1), got 0", () -> new Sequential(List.of(linear, cosine), new long[0]));
		add(cases, "milestones", "(1), got 2", () -> new Sequential(List.of(linear, cosine), new long[] { 3, 5 }));
		add(cases, "milestones", "got 0 at index 0", () -> new Sequential(List.of(linear, cosine), new long[] { 0 }));
		add(cases, "milestones", "got -4", () -> new Sequential(List.of(linear, cosine), new long[] { -4 }));
		add(cases, "milestones", String.valueOf(TOO_LARGE),
				() -> new Sequential(List.of(linear, cosine), new long[] { TOO_LARGE }));
		add(cases, "milestones", "4 after 4",
				() -> new Sequential(List.of(linear, cosine, linear), new long[] { 4, 4 }));
		add(cases, "milestones", "2 after 4",
				() -> new Sequential(List.of(linear, cosine, linear), new long[] { 4, 2 }));
		add(cases, "position", "-1", () -> {
			Cosine.of(10).learningRate(-1, 0.1, 0.1);
			return null;
		});
		return cases.stream();
	}

	private static void add(List<Arguments> cases, String field, String shown, Construction construction) {
		cases.add(Arguments.of(field, shown, construction));
	}

	@ParameterizedTest(name = "{0}: {1}")
	@MethodSource("invalid")
	void anInvalidParameterShouldBeRefusedNamingTheFieldAndTheValue(String field, String shown,
			Construction construction) {
		assertThatIllegalArgumentException().isThrownBy(construction::build)
			.withMessageStartingWith(field + " must ")
			.withMessageContaining(shown);
	}

	@Test
	void theEdgesOfTorchsRangesShouldBeAccepted() {
		assertThatNoException().isThrownBy(() -> {
			new Linear(1.0, 0.0, 1);
			new Linear(Double.MIN_VALUE, 1.0, 1L << 53);
			new Step(1, 0.0);
			new Step(Integer.MAX_VALUE, 2.5);
			new Exponential(1.5);
			new MultiStep(new int[0], 0.5);
			MultiStep.of(0, 0, 3, 3);
			new Cosine(1L << 53, 0.0);
			new CosineWarmRestarts(1, 1L << 53, 0.0);
			new Sequential(List.of(Cosine.of(3)), new long[0]);
			new Sequential(List.of(Linear.of(), Cosine.of(3)), new long[] { 1L << 53 });
		});
	}

	@Test
	void validationShouldNameTheFieldAsTheWireFormatDoes() {
		// The lead's JSON layer reports these messages as they are: the names must be the wire's camelCase.
		assertThatIllegalArgumentException().isThrownBy(() -> Cosine.of(0))
			.withMessage("tMax must be an integer >= 1 and <= 2^53, got 0");
		assertThatIllegalArgumentException().isThrownBy(() -> new Linear(0.0, 1.0, 5))
			.withMessage("startFactor must be a number in (0, 1], got 0.0");
		assertThat(new Exponential(0.5).type()).isEqualTo("exponential");
	}

}
