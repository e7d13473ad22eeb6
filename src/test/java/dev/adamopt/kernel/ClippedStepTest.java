package dev.adamopt.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fused step with clipping and the update statistic: both twins against {@link StepOracle} bit for bit in every
 * loop variant, the unclipped form against the plain step bit for bit.
 */
class ClippedStepTest {

	/** Not a multiple of 8 or of the float32 update-norm block, and more than one block. */
	private static final int LENGTH = 2 * AdamKernel.UPDATE_NORM_BLOCK + 37;

	static Stream<Arguments> variants() {
		return variants(new double[][] { { 1.0, Double.POSITIVE_INFINITY }, { 0.37, Double.POSITIVE_INFINITY },
				{ 1.0, 0.05 }, { 0.6, 0.02 }, { 0.0, Double.POSITIVE_INFINITY }, { 1.0, 0.0 } });
	}

	static Stream<Arguments> unclippedVariants() {
		return variants(new double[][] { { 1.0, Double.POSITIVE_INFINITY } });
	}

	private static Stream<Arguments> variants(double[][] clippings) {
		List<Arguments> variants = new ArrayList<>();
		for (boolean float32 : new boolean[] { false, true }) {
			for (Algorithm algorithm : Algorithm.values()) {
				for (double weightDecay : new double[] { 0.0, 0.1 }) {
					for (boolean amsgrad : new boolean[] { false, true }) {
						for (boolean maximize : new boolean[] { false, true }) {
							for (double[] clipping : clippings) {
								variants.add(Arguments.of(float32, new Hyperparameters(algorithm, 0.01, 0.9, 0.999,
										1e-8, weightDecay, amsgrad, maximize), clipping[0], clipping[1]));
							}
						}
					}
				}
			}
		}
		return variants.stream();
	}

	@ParameterizedTest(name = "float32 {0}, {1}, scale {2}, clip {3}")
	@MethodSource("variants")
	void clippedStepShouldMatchTheOracleBitForBit(boolean float32, Hyperparameters h, double gradScale,
			double clipValue) {
		SplittableRandom random = new SplittableRandom(float32 ? 17 : 71);
		TensorCase start = randomCase(random, LENGTH);
		if (float32) {
			start = start.roundedToFloat();
		}
		StepOracle oracle = new StepOracle(float32);
		TensorCase actual = start.copy();
		long step = 1;
		for (; step <= 3; step++) {
			TensorCase before = actual.copy();
			double sum = actual.step(float32, step, h, gradScale, clipValue);
			double expectedSum = 0;
			for (int i = 0; i < LENGTH; i++) {
				double[] expected = oracle.step(before.param[i], before.grad[i], before.firstMoment[i],
						before.secondMoment[i], before.maxSecondMoment[i], step, h, gradScale, clipValue);
				String at = "step " + step + " element " + i;
				assertBits(expected[0], actual.param[i], at + " parameter");
				assertBits(expected[1], actual.firstMoment[i], at + " firstMoment");
				assertBits(expected[2], actual.secondMoment[i], at + " secondMoment");
				if (h.amsgrad()) {
					assertBits(expected[3], actual.maxSecondMoment[i], at + " maxSecondMoment");
				}
				double d = actual.param[i] - before.param[i];
				expectedSum += d * d;
			}
			// float64: the same squares summed in the same order; float32: squares and block sums in float.
			assertEquals(expectedSum, sum, float32 ? 2e-5 * expectedSum : 0.0, "update sum at step " + step);
		}
	}

	@ParameterizedTest(name = "float32 {0}, {1}")
	@MethodSource("unclippedVariants")
	void unclippedStepShouldGiveThePlainStepsBitsAlsoForAwkwardValues(boolean float32, Hyperparameters h,
			double gradScale, double clipValue) {
		double[] awkward = { 0.0, -0.0, Double.MIN_VALUE, -Double.MIN_NORMAL, 1e300, -1e-300, Double.MAX_VALUE,
				Double.NaN, Double.POSITIVE_INFINITY, 1.0, -0.5, 123.456, 3e-8 };
		int n = awkward.length;
		SplittableRandom random = new SplittableRandom(5);
		TensorCase start = randomCase(random, n * n);
		for (int i = 0; i < n * n; i++) {
			start.param[i] = awkward[i % n];
			start.grad[i] = awkward[i / n];
		}
		if (float32) {
			start = start.roundedToFloat();
		}
		TensorCase plain = start.copy();
		TensorCase clipped = start.copy();
		for (long step = 1; step <= 2; step++) {
			plain.plainStep(float32, step, h);
			clipped.step(float32, step, h, 1.0, Double.POSITIVE_INFINITY);
			for (int i = 0; i < n * n; i++) {
				assertBits(plain.param[i], clipped.param[i], "parameter " + i);
				assertBits(plain.firstMoment[i], clipped.firstMoment[i], "firstMoment " + i);
				assertBits(plain.secondMoment[i], clipped.secondMoment[i], "secondMoment " + i);
				assertBits(plain.maxSecondMoment[i], clipped.maxSecondMoment[i], "maxSecondMoment " + i);
			}
		}
	}

	@Test
	void clipValueShouldClampTheGradientAsSentBeforeMaximizeAndWeightDecay() {
		// A clamped gradient of +0.05 whatever was sent above it: the first moment is (1 - beta1) * 0.05, negated by
		// maximize after the clamp, and L2 decay adds wd * p to the clamped value.
		Hyperparameters h = new Hyperparameters(Algorithm.ADAM, 0.01, 0.9, 0.999, 1e-8, 0.5, false, true);
		double[] param = { 2.0, 2.0 };
		double[] grad = { 7.0, -0.01 };
		double[] m = new double[2];
		double[] v = new double[2];
		AdamKernel.stepFloat64(param, grad, m, v, null, 1, h, 1.0, 0.05);
		assertThat(m[0]).isEqualTo(Math.fma(Math.fma(2.0, 0.5, -0.05), 1 - 0.9, 0.0));
		assertThat(m[1]).isEqualTo(Math.fma(Math.fma(2.0, 0.5, 0.01), 1 - 0.9, 0.0));
	}

	@Test
	void invalidClippingArgumentsShouldBeRejectedBeforeAnythingChanges() {
		Hyperparameters h = Hyperparameters.defaults(Algorithm.ADAM);
		double[] param = { 1.0 };
		double[] grad = { 1.0 };
		double[] m = new double[1];
		double[] v = new double[1];
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AdamKernel.stepFloat64(param, grad, m, v, null, 1, h, Double.NaN, 1))
			.withMessageContaining("gradScale");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AdamKernel.stepFloat64(param, grad, m, v, null, 1, h, Double.POSITIVE_INFINITY, 1))
			.withMessageContaining("gradScale");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AdamKernel.stepFloat64(param, grad, m, v, null, 1, h, 1, -0.5))
			.withMessageContaining("clipValue");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AdamKernel.stepFloat32(new float[1], new float[1], new float[1], new float[1], null, 1,
					h, 1, Double.NaN))
			.withMessageContaining("clipValue");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AdamKernel.stepFloat64(param, grad, m, v, null, 0, h, 1, 1))
			.withMessageContaining("step");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AdamKernel.stepFloat64(param, new double[2], m, v, null, 1, h, 1, 1))
			.withMessageContaining("equal lengths");
		assertThat(param).containsExactly(1.0);
		assertThat(m).containsExactly(0.0);
	}

	static TensorCase randomCase(SplittableRandom random, int n) {
		double[] param = random.doubles(n, -1, 1).toArray();
		double[] grad = new double[n];
		double[] m = new double[n];
		double[] v = new double[n];
		double[] vMax = new double[n];
		for (int i = 0; i < n; i++) {
			grad[i] = random.nextDouble(-1, 1) * Math.pow(10, random.nextInt(-4, 3));
			m[i] = random.nextDouble(-0.1, 0.1);
			v[i] = random.nextDouble(0, 0.01);
			vMax[i] = v[i] * random.nextDouble(1, 1.5);
		}
		return new TensorCase(param, grad, m, v, vMax);
	}

	static void assertBits(double expected, double actual, String where) {
		if (Double.doubleToLongBits(expected) != Double.doubleToLongBits(actual)) {
			throw new AssertionError(where + ": expected " + expected + " (" + Double.toHexString(expected)
					+ ") but was " + actual + " (" + Double.toHexString(actual) + ")");
		}
	}

}
