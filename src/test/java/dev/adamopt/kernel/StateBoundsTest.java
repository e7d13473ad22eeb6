package dev.adamopt.kernel;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The non-finite result policy: {@link StateBounds#provesFinite} never says "finite" for a step whose result is not,
 * the dry run names exactly the first element the real step makes non-finite, and ordinary training stays proven
 * (so the dry run does not run) over thousands of steps.
 */
class StateBoundsTest {

	private static final double[] LEARNING_RATES = { 1e-3, 1, 1e10, 1e30, 1e38, 1e300, Double.MAX_VALUE };

	private static final double[] BETA1S = { 0, 0.9, 0.999999, Math.nextDown(1.0) };

	private static final double[] BETA2S = { 0, 0.999, 1 - 1e-12, Math.nextDown(1.0) };

	/** 1e-50 rounds to 0 in float32. */
	private static final double[] EPSILONS = { 0, 1e-300, 1e-50, 1e-12, 1e-8, 1 };

	private static final double[] WEIGHT_DECAYS = { 0, 0.01, 1e10, 1e300 };

	/** Magnitudes of the arrays: ordinary, near √MAX of each precision, beyond it, near MAX, tiny. */
	private static final double[] SCALES = { 0, 1e-30, 1e-3, 1, 1e6, 1e19, 1e20, 1e37, 1e150, 1.3e154, 1e155, 1e300,
			Double.MAX_VALUE };

	private static final double[] GRAD_SCALES = { 1, 0.5, 1e-3, 0, 1e10, -2 };

	private static final double[] CLIP_VALUES = { Double.POSITIVE_INFINITY, 0.1, 1e300, 0 };

	@Test
	void whenProvesFiniteSaysTrueTheRealStepShouldBeFiniteAndTheBoundsShouldHoldItsResult() {
		SplittableRandom random = new SplittableRandom(20261125);
		int proven = 0;
		int notFinite = 0;
		int trials = 30_000;
		for (int trial = 0; trial < trials; trial++) {
			Trial t = Trial.random(random);
			StateBounds bounds = new StateBounds();
			t.tensor.resetBounds(bounds, t.float32, t.h.amsgrad());
			double[] out = new double[3];
			t.tensor.statistics(t.float32, 2, out);
			TensorCase real = t.tensor.copy();
			double sum = real.step(t.float32, t.step, t.h, t.gradScale, t.clipValue);
			int firstBad = real.firstNonFinite(t.h.amsgrad());
			if (firstBad >= 0) {
				notFinite++;
			}
			if (bounds.provesFinite(t.h, t.step, t.float32, t.gradScale, t.clipValue, out[1],
					bounds.parameterBound())) {
				proven++;
				assertThat(firstBad).as("proven finite, but element %d is not: %s", firstBad, t).isEqualTo(-1);
				bounds.advance(t.h, t.step, t.float32, t.gradScale, t.clipValue, out[1], bounds.parameterBound(), sum,
						t.tensor.length());
				assertBoundsHold(bounds, real, t.h.amsgrad(), t.toString());
			}
		}
		// The property is only worth something if both sides were exercised, also near the edge.
		assertThat(proven).as("proven trials").isGreaterThan(trials / 10);
		assertThat(notFinite).as("trials with a non-finite result").isGreaterThan(trials / 10);
	}

	@Test
	void dryRunShouldNameTheFirstElementTheRealStepMakesNonFinite() {
		SplittableRandom random = new SplittableRandom(7);
		int nonFinite = 0;
		int trials = 30_000;
		for (int trial = 0; trial < trials; trial++) {
			Trial t = Trial.random(random);
			if (random.nextInt(4) == 0) {
				// Non-finite input too: a NaN or infinite gradient or state element somewhere.
				double[][] arrays = { t.tensor.grad, t.tensor.param, t.tensor.firstMoment, t.tensor.secondMoment };
				double[] array = arrays[random.nextInt(arrays.length)];
				array[random.nextInt(array.length)] = random.nextBoolean() ? Double.NaN : Double.NEGATIVE_INFINITY;
			}
			TensorCase real = t.tensor.copy();
			real.step(t.float32, t.step, t.h, t.gradScale, t.clipValue);
			int expected = real.firstNonFinite(t.h.amsgrad());
			if (expected >= 0) {
				nonFinite++;
			}
			assertThat(t.tensor.dryRun(t.float32, t.step, t.h, t.gradScale, t.clipValue)).as(t.toString())
				.isEqualTo(expected);
		}
		assertThat(nonFinite).isBetween(trials / 10, trials - trials / 10);
	}

	@Test
	void dryRunShouldReadOnly() {
		SplittableRandom random = new SplittableRandom(3);
		for (int trial = 0; trial < 200; trial++) {
			Trial t = Trial.random(random);
			TensorCase before = t.tensor.copy();
			t.tensor.dryRun(t.float32, t.step, t.h, t.gradScale, t.clipValue);
			assertThat(t.tensor.param).isEqualTo(before.param);
			assertThat(t.tensor.firstMoment).isEqualTo(before.firstMoment);
			assertThat(t.tensor.secondMoment).isEqualTo(before.secondMoment);
			assertThat(t.tensor.maxSecondMoment).isEqualTo(before.maxSecondMoment);
		}
	}

	/**
	 * Ordinary training, with the worst "typical" values (|g| up to 1e6, lr 1, eps 1e-12) and L2 weight decay (which
	 * feeds the parameter back into the gradient): every one of 3,000 steps is proven, the bounds hold the real state
	 * after every step, and they stay within a small factor of it.
	 */
	@ParameterizedTest(name = "float32 {0}")
	@ValueSource(booleans = { false, true })
	void typicalTrainingShouldStayProvenForThousandsOfStepsWithoutTheBoundsDrifting(boolean float32) {
		Hyperparameters[] configurations = {
				new Hyperparameters(Algorithm.ADAM, 1e-3, 0.9, 0.999, 1e-8, 0, false, false),
				new Hyperparameters(Algorithm.ADAM, 1, 0.9, 0.999, 1e-12, 0.01, false, false),
				new Hyperparameters(Algorithm.ADAM, 0.1, 0.99, 0.9999, 1e-12, 0.1, true, true),
				new Hyperparameters(Algorithm.ADAMW, 1, 0.9, 0.999, 1e-12, 0.01, true, false),
				new Hyperparameters(Algorithm.ADAMW, 1e-3, 0, 0, 1e-8, 0.5, false, false) };
		SplittableRandom random = new SplittableRandom(float32 ? 1 : 2);
		for (Hyperparameters h : configurations) {
			int n = 64;
			TensorCase tensor = ClippedStepTest.randomCase(random, n);
			java.util.Arrays.fill(tensor.firstMoment, 0);
			java.util.Arrays.fill(tensor.secondMoment, 0);
			java.util.Arrays.fill(tensor.maxSecondMoment, 0);
			if (float32) {
				tensor = tensor.roundedToFloat();
			}
			StateBounds bounds = new StateBounds();
			bounds.reset(TensorCase.maxAbs(tensor.param));
			double[] out = new double[3];
			for (long step = 1; step <= 3000; step++) {
				for (int i = 0; i < n; i++) {
					double g = random.nextGaussian() * Math.pow(10, random.nextDouble(-3, 6));
					tensor.grad[i] = float32 ? (float) g : g;
				}
				tensor.statistics(float32, 2, out);
				double gradScale = (step % 3 == 0) ? 0.25 : 1.0;
				double clipValue = (step % 5 == 0) ? 1e3 : Double.POSITIVE_INFINITY;
				double maxAbsParam = bounds.parameterBound();
				assertThat(bounds.provesFinite(h, step, float32, gradScale, clipValue, out[1], maxAbsParam))
					.as("%s step %d, bounds m %s v %s p %s", h, step, bounds.firstMomentBound(),
							bounds.secondMomentBound(), maxAbsParam)
					.isTrue();
				double sum = tensor.step(float32, step, h, gradScale, clipValue);
				bounds.advance(h, step, float32, gradScale, clipValue, out[1], maxAbsParam, sum, n);
				assertBoundsHold(bounds, tensor, h.amsgrad(), h + " step " + step);
			}
			assertThat(tensor.firstNonFinite(h.amsgrad())).isEqualTo(-1);
			assertThat(bounds.firstMomentBound()).as("no drift of the moment bound")
				.isLessThanOrEqualTo(1e7 * 1.01);
			assertThat(bounds.parameterBound()).as("parameter bound against the parameter (%s)", h)
				.isLessThanOrEqualTo(10 * TensorCase.maxAbs(tensor.param) + 3000 * Math.sqrt(n) * 1e3);
		}
	}

	@Test
	void epsilonZeroShouldNotBeProvenAndTheDryRunShouldFindZeroOverZero() {
		Hyperparameters h = new Hyperparameters(Algorithm.ADAM, 1e-3, 0.9, 0.999, 0, 0, false, false);
		for (boolean float32 : new boolean[] { false, true }) {
			TensorCase tensor = new TensorCase(new double[] { 1, 2 }, new double[] { 0.5, 0 }, new double[2],
					new double[2], new double[2]);
			StateBounds bounds = new StateBounds();
			bounds.reset(2);
			assertThat(bounds.provesFinite(h, 1, float32, 1, Double.POSITIVE_INFINITY, 0.5, 2)).isFalse();
			assertThat(tensor.dryRun(float32, 1, h, 1, Double.POSITIVE_INFINITY)).isEqualTo(1);
			tensor.step(float32, 1, h, 1, Double.POSITIVE_INFINITY);
			assertThat(tensor.param[0]).isFinite();
			assertThat(tensor.param[1]).isNaN();
		}
	}

	@Test
	void float32EpsilonThatRoundsToZeroShouldNotBeProvenButFloat64Should() {
		Hyperparameters h = new Hyperparameters(Algorithm.ADAM, 1e-3, 0.9, 0.999, 1e-50, 0, false, false);
		StateBounds bounds = new StateBounds();
		bounds.reset(1);
		assertThat(bounds.provesFinite(h, 1, true, 1, Double.POSITIVE_INFINITY, 1, 1)).isFalse();
		// float64: |update| <= lr / (1 - beta1) * |m| / 1e-50 = 1e-2 * 0.1 / 1e-50: finite.
		assertThat(bounds.provesFinite(h, 1, false, 1, Double.POSITIVE_INFINITY, 1, 1)).isTrue();
	}

	@Test
	void unknownOrNegativeStateShouldNotBeProven() {
		Hyperparameters h = Hyperparameters.defaults(Algorithm.ADAM);
		StateBounds bounds = new StateBounds();
		assertThat(bounds.momentsKnown()).isFalse();
		assertThat(bounds.provesFinite(h, 1, false, 1, Double.POSITIVE_INFINITY, 1, 1)).isFalse();
		bounds.resetFromArraysFloat64(new double[] { 1 }, new double[] { 0.1 }, new double[] { -1e-9 }, null);
		assertThat(bounds.provesFinite(h, 1, false, 1, Double.POSITIVE_INFINITY, 1, 1))
			.as("a negative second moment: sqrt of a negative is NaN")
			.isFalse();
		bounds.resetFromArraysFloat64(new double[] { 1 }, new double[] { 0.1 }, new double[] { 1e-9 }, null);
		assertThat(bounds.provesFinite(h, 1, false, 1, Double.POSITIVE_INFINITY, 1, 1)).isTrue();
		assertThat(bounds.provesFinite(h, 1, false, 1, Double.POSITIVE_INFINITY, Double.NaN, 1)).isFalse();
		assertThat(bounds.provesFinite(h, 1, false, 1, Double.POSITIVE_INFINITY, 1, Double.POSITIVE_INFINITY))
			.isFalse();
		bounds.invalidate();
		assertThat(bounds.provesFinite(h, 1, false, 1, Double.POSITIVE_INFINITY, 1, 1)).isFalse();
	}

	@Test
	void gradientsWhoseSquareOverflowsShouldNotBeProvenAndTheirStepIsNotFinite() {
		Hyperparameters h = Hyperparameters.defaults(Algorithm.ADAM);
		// float64: (1 - 0.999) * g * g overflows from about 4e155 on; float32 from about 6e20.
		double[][] cases = { { 0, 1e155, 1 }, { 0, 1e156, -1 }, { 1, 1e20, 1 }, { 1, 1e21, -1 } };
		for (double[] c : cases) {
			boolean float32 = c[0] == 1;
			double g = c[1];
			boolean finite = c[2] > 0;
			TensorCase tensor = new TensorCase(new double[] { 0.5, 0.25 }, new double[] { 1, g }, new double[2],
					new double[2], new double[2]);
			StateBounds bounds = new StateBounds();
			tensor.resetBounds(bounds, float32, false);
			double[] out = new double[3];
			tensor.statistics(float32, 2, out);
			boolean proven = bounds.provesFinite(h, 1, float32, 1, Double.POSITIVE_INFINITY, out[1],
					bounds.parameterBound());
			int dryRun = tensor.dryRun(float32, 1, h, 1, Double.POSITIVE_INFINITY);
			tensor.step(float32, 1, h, 1, Double.POSITIVE_INFINITY);
			assertThat(tensor.firstNonFinite(false)).as("g %s float32 %s", g, float32).isEqualTo(finite ? -1 : 1);
			assertThat(dryRun).isEqualTo(finite ? -1 : 1);
			if (!finite) {
				assertThat(proven).isFalse();
			}
		}
	}

	@Test
	void hugeWeightDecayOrLearningRateShouldNotBeProvenWhenTheStepOverflows() {
		TensorCase tensor = new TensorCase(new double[] { 3, -2 }, new double[] { 0.1, 0.2 }, new double[2],
				new double[2], new double[2]);
		for (Hyperparameters h : new Hyperparameters[] {
				new Hyperparameters(Algorithm.ADAMW, 1e300, 0.9, 0.999, 1e-8, 1e300, false, false),
				new Hyperparameters(Algorithm.ADAM, 1e-3, 0.9, 0.999, 1e-8, Double.MAX_VALUE, false, false),
				new Hyperparameters(Algorithm.ADAM, Double.MAX_VALUE, 0.9, 0.999, 1e-8, 0, false, false) }) {
			StateBounds bounds = new StateBounds();
			tensor.resetBounds(bounds, false, false);
			assertThat(bounds.provesFinite(h, 1, false, 1, Double.POSITIVE_INFINITY, 0.2, bounds.parameterBound()))
				.as(h.toString())
				.isFalse();
			TensorCase real = tensor.copy();
			real.step(false, 1, h, 1, Double.POSITIVE_INFINITY);
			assertThat(real.firstNonFinite(false)).as(h.toString()).isEqualTo(0);
			assertThat(tensor.dryRun(false, 1, h, 1, Double.POSITIVE_INFINITY)).isEqualTo(0);
		}
	}

	@Test
	void advanceShouldFollowTheStateAlsoWhenTheBoundsWereResetAfterProvesFiniteOrItWasNotCalled() {
		Hyperparameters h = new Hyperparameters(Algorithm.ADAM, 0.1, 0.9, 0.999, 1e-8, 0.01, true, false);
		TensorCase small = new TensorCase(new double[] { 1, -1 }, new double[] { 0.5, 0.25 }, new double[2],
				new double[2], new double[2]);
		TensorCase large = new TensorCase(new double[] { 1e3, -1 }, new double[] { 0.5, 0.25 },
				new double[] { 40, 1 }, new double[] { 1e4, 1 }, new double[] { 2e4, 1 });
		double[] out = new double[3];
		small.statistics(false, 2, out);
		StateBounds bounds = new StateBounds();
		small.resetBounds(bounds, false, true);
		assertThat(bounds.provesFinite(h, 3, false, 1, Double.POSITIVE_INFINITY, out[1], 1e3)).isTrue();
		// A PUT of the state between the proof and the step: advance must not use what the proof computed.
		large.resetBounds(bounds, false, true);
		double sum = large.step(false, 3, h, 1, Double.POSITIVE_INFINITY);
		bounds.advance(h, 3, false, 1, Double.POSITIVE_INFINITY, out[1], 1e3, sum, 2);
		assertBoundsHold(bounds, large, true, "after a reset");
		// And without provesFinite at all.
		double before = bounds.parameterBound();
		sum = large.step(false, 4, h, 1, Double.POSITIVE_INFINITY);
		bounds.advance(h, 4, false, 1, Double.POSITIVE_INFINITY, out[1], before, sum, 2);
		assertBoundsHold(bounds, large, true, "without provesFinite");
	}

	private static void assertBoundsHold(StateBounds bounds, TensorCase state, boolean amsgrad, String where) {
		assertThat(bounds.firstMomentBound()).as("first moment bound, %s", where)
			.isGreaterThanOrEqualTo(TensorCase.maxAbs(state.firstMoment));
		assertThat(bounds.secondMomentBound()).as("second moment bound, %s", where)
			.isGreaterThanOrEqualTo(TensorCase.maxAbs(state.secondMoment));
		if (amsgrad) {
			assertThat(bounds.maxSecondMomentBound()).as("max second moment bound, %s", where)
				.isGreaterThanOrEqualTo(TensorCase.maxAbs(state.maxSecondMoment));
		}
		assertThat(bounds.parameterBound()).as("parameter bound, %s", where)
			.isGreaterThanOrEqualTo(TensorCase.maxAbs(state.param));
	}

	/** One random, often adversarial step: precision, hyperparameters, state, gradient and clipping. */
	private record Trial(boolean float32, Hyperparameters h, long step, TensorCase tensor, double gradScale,
			double clipValue) {

		static Trial random(SplittableRandom random) {
			boolean float32 = random.nextBoolean();
			Hyperparameters h = new Hyperparameters(random.nextBoolean() ? Algorithm.ADAM : Algorithm.ADAMW,
					pick(random, LEARNING_RATES), pick(random, BETA1S), pick(random, BETA2S), pick(random, EPSILONS),
					pick(random, WEIGHT_DECAYS), random.nextBoolean(), random.nextBoolean());
			long step = new long[] { 1, 2, 10, 1000 }[random.nextInt(4)];
			int n = 1 + random.nextInt(8);
			double gradScale = pick(random, GRAD_SCALES);
			double clipValue = pick(random, CLIP_VALUES);
			TensorCase tensor = new TensorCase(values(random, n, true), values(random, n, true),
					values(random, n, true), values(random, n, false), values(random, n, false));
			if (float32) {
				tensor = tensor.roundedToFloat();
				// Values beyond the float range would be infinite already: keep the state finite to start with.
				for (double[] array : new double[][] { tensor.param, tensor.grad, tensor.firstMoment,
						tensor.secondMoment, tensor.maxSecondMoment }) {
					for (int i = 0; i < n; i++) {
						if (!Double.isFinite(array[i])) {
							array[i] = Math.copySign(Float.MAX_VALUE, array[i]);
						}
					}
				}
			}
			return new Trial(float32, h, step, tensor, gradScale, clipValue);
		}

		private static double[] values(SplittableRandom random, int n, boolean signed) {
			double scale = pick(random, SCALES);
			double[] values = new double[n];
			for (int i = 0; i < n; i++) {
				double value = random.nextDouble() * scale;
				if (random.nextInt(8) == 0) {
					value = scale; // the bound itself
				}
				if (random.nextInt(8) == 0) {
					value = 0;
				}
				values[i] = (signed && random.nextBoolean()) ? -value : value;
			}
			return values;
		}

		private static double pick(SplittableRandom random, double[] values) {
			return values[random.nextInt(values.length)];
		}

	}

}
