package dev.adamopt.kernel;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GradientStatisticsTest {

	/**
	 * Three gradients and torch 1.13's {@code clip_grad_norm_} over them (Debian's {@code python3-torch}): the total
	 * norm it returns and two elements of the clipped gradients, as hex literals. Made with
	 * <pre>
	 * params = [torch.nn.Parameter(torch.zeros(len(g), dtype=dtype)) for g in grads]
	 * for param, g in zip(params, grads): param.grad = torch.tensor(g, dtype=dtype)
	 * total = torch.nn.utils.clip_grad_norm_(params, 0.75, p)
	 * print(total.item().hex(), params[0].grad[0].item().hex(), params[1].grad[2].item().hex())
	 * </pre>
	 */
	private static final double[][] TORCH_GRADIENTS = { { 3.0, -4.0, 0.5, 1e-3, -2.25 }, { 0.1, -0.2, 7.5 },
			{ -1.5 } };

	/**
	 * Bit for bit but for the L1 norm: torch sums each tensor's {@code |g|} in its own vectorised order (in float for
	 * float32), the accumulator sums exactly and rounds once, so the two may differ by rounding (here 1 ulp in
	 * float64, 2 in float32): the "relative" column.
	 */
	@ParameterizedTest(name = "float32 {0}, p = {1}")
	@CsvSource({ //
			"false, 2, 0x1.2da773a365100p+3, 0x1.e8d320b5bc72ep-3, 0x1.3183f47195c7dp-1, 0",
			"false, 1, 0x1.30d0e56041894p+4, 0x1.e3c10d3cf9ca0p-4, 0x1.2e58a8461c1e4p-2, 1e-15",
			"false, 3, 0x1.029a41214d495p+3, 0x1.1d19ff7eb94b2p-2, 0x1.64607f5e679dep-1, 0",
			"false, Infinity, 0x1.e000000000000p+2, 0x1.33333084015cep-2, 0x1.7ffffca501b42p-1, 0",
			"true, 2, 0x1.2da7740000000p+3, 0x1.e8d3200000000p-3, 0x1.3183f40000000p-1, 0",
			"true, 1, 0x1.30d0e40000000p+4, 0x1.e3c10e0000000p-4, 0x1.2e58a80000000p-2, 2.5e-7",
			"true, 3, 0x1.029a440000000p+3, 0x1.1d19fc0000000p-2, 0x1.64607c0000000p-1, 0",
			"true, Infinity, 0x1.e000000000000p+2, 0x1.3333300000000p-2, 0x1.7ffffa0000000p-1, 0" })
	void accumulatorShouldReproduceTorchsClipGradNorm(boolean float32, double normType, String total,
			String firstClipped, String lastClipped, double relative) {
		GradientStatistics.Accumulator accumulator = new GradientStatistics.Accumulator(float32, normType);
		double[] out = new double[3];
		for (double[] gradient : TORCH_GRADIENTS) {
			if (float32) {
				GradientStatistics.gradientStatisticsFloat32(toFloat(gradient), normType, out);
			}
			else {
				GradientStatistics.gradientStatisticsFloat64(gradient, normType, out);
			}
			accumulator.add(out);
		}
		assertThat(accumulator.count()).isEqualTo(3);
		assertEquals(Double.parseDouble(total), accumulator.totalNorm(), relative * Double.parseDouble(total));
		double coefficient = accumulator.clipCoefficient(0.75);
		// The step multiplies in the dtype: torch's g.mul_(clip_coef_clamped).
		double first = float32 ? (float) TORCH_GRADIENTS[0][0] * (float) coefficient
				: TORCH_GRADIENTS[0][0] * coefficient;
		double last = float32 ? (float) TORCH_GRADIENTS[1][2] * (float) coefficient
				: TORCH_GRADIENTS[1][2] * coefficient;
		assertEquals(Double.parseDouble(firstClipped), first, relative * Math.abs(first));
		assertEquals(Double.parseDouble(lastClipped), last, relative * Math.abs(last));
		if (float32) {
			assertThat((double) (float) coefficient).as("a float32 coefficient is a float").isEqualTo(coefficient);
		}
	}

	@Test
	void clipCoefficientShouldBeTheReciprocalTimesMaxNormNotTheQuotient() {
		// 1 / (t + 1e-6) * maxNorm and maxNorm / (t + 1e-6) differ in the last bit here; torch gives the former.
		double[] gradient = { 0.6, 0.8, 1.7 };
		GradientStatistics.Accumulator accumulator = new GradientStatistics.Accumulator(false, 2);
		double[] out = new double[3];
		GradientStatistics.gradientStatisticsFloat64(gradient, 2, out);
		accumulator.add(out);
		double total = accumulator.totalNorm();
		double maxNorm = findMaxNormWhereTheFormsDiffer(total);
		assertThat(accumulator.clipCoefficient(maxNorm)).isEqualTo((1.0 / (total + 1e-6)) * maxNorm)
			.isNotEqualTo(maxNorm / (total + 1e-6));
	}

	private static double findMaxNormWhereTheFormsDiffer(double total) {
		for (double maxNorm = 0.01; maxNorm < 1; maxNorm += 0.01) {
			if ((1.0 / (total + 1e-6)) * maxNorm != maxNorm / (total + 1e-6)) {
				return maxNorm;
			}
		}
		throw new AssertionError("no max norm in (0, 1) where the two forms differ for " + total);
	}

	@Test
	void clipCoefficientShouldBeClampedToOneAndOneWithoutTensors() {
		GradientStatistics.Accumulator accumulator = new GradientStatistics.Accumulator(false, 2);
		assertThat(accumulator.clipCoefficient(0.5)).as("no tensor: torch scales nothing").isEqualTo(1.0);
		assertThat(accumulator.totalNorm()).isZero();
		double[] out = new double[3];
		GradientStatistics.gradientStatisticsFloat64(new double[] { 0.1, 0.2, -0.3 }, 2, out);
		accumulator.add(out);
		// torch: clip_grad_norm_(p, 100.0) of [0.1, 0.2, -0.3] returns 0x1.7f254dab9cc3bp-2 and leaves the gradient.
		assertThat(accumulator.totalNorm()).isEqualTo(0x1.7f254dab9cc3bp-2);
		assertThat(accumulator.clipCoefficient(100.0)).isEqualTo(1.0);
		accumulator.clear();
		assertThat(accumulator.count()).isZero();
		assertThat(accumulator.l2Norm()).isZero();
	}

	@Test
	void nonFiniteTotalShouldGiveANaNOrZeroCoefficientAsTorch() {
		double[] out = new double[3];
		GradientStatistics.Accumulator nan = new GradientStatistics.Accumulator(false, 2);
		GradientStatistics.gradientStatisticsFloat64(new double[] { 1, Double.NaN }, 2, out);
		nan.add(out);
		assertThat(nan.clipCoefficient(1.0)).isNaN();
		// float32 squares beyond Float.MAX_VALUE: torch's float accumulator overflows, the norm is inf, coef 0.
		GradientStatistics.Accumulator overflow = new GradientStatistics.Accumulator(true, 2);
		GradientStatistics.gradientStatisticsFloat32(new float[] { 2e19f, 2e19f }, 2, out);
		overflow.add(out);
		assertThat(overflow.totalNorm()).isEqualTo(Double.POSITIVE_INFINITY);
		assertThat(overflow.clipCoefficient(1.0)).isZero();
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(doubles = { 0.5, 0, Double.NaN, Double.NEGATIVE_INFINITY })
	void accumulatorShouldRejectNormTypesBelowOne(double normType) {
		assertThatIllegalArgumentException().isThrownBy(() -> new GradientStatistics.Accumulator(false, normType))
			.withMessageContaining("normType");
	}

	@Test
	void l2NormShouldBeTheNormOverEveryTensorWhateverTheClippingNorm() {
		GradientStatistics.Accumulator accumulator = new GradientStatistics.Accumulator(false, 1);
		double[] out = new double[3];
		GradientStatistics.gradientStatisticsFloat64(new double[] { 3, 4 }, 1, out);
		accumulator.add(out);
		GradientStatistics.gradientStatisticsFloat64(new double[] { 12 }, 1, out);
		accumulator.add(out);
		assertThat(accumulator.l2Norm()).isEqualTo(13.0);
		assertThat(accumulator.totalNorm()).isEqualTo(19.0);
	}

	// The statistics of one tensor

	@Test
	void sumOfSquaresShouldBeTheExactSumToRoundingForEveryLength() {
		SplittableRandom random = new SplittableRandom(7);
		double[] out = new double[3];
		for (int length = 0; length < 40; length++) {
			double[] gradient = random.doubles(length, -3, 3).toArray();
			float[] gradient32 = toFloat(gradient);
			GradientStatistics.gradientStatisticsFloat64(gradient, 2, out);
			assertEquals(exactSumOfSquares(gradient), out[0], 1e-15 * Math.max(1, out[0]), "length " + length);
			assertThat(out[1]).as("a bound of max |g|").isGreaterThanOrEqualTo(maxAbs(gradient));
			assertThat(out[1]).isLessThanOrEqualTo(Math.sqrt(out[0]) * 1.00001 + 1e-300);
			assertThat(out[2]).isZero();
			GradientStatistics.gradientStatisticsFloat32(gradient32, 2, out);
			assertEquals(exactSumOfSquares(widen(gradient32)), out[0], 1e-15 * Math.max(1, out[0]), "length " + length);
		}
	}

	@Test
	void maxAbsShouldBeExactForTheInfinityNorm() {
		double[] gradient = { 0.25, -7.5, 3, -0.0, 7.25 };
		double[] out = new double[3];
		GradientStatistics.gradientStatisticsFloat64(gradient, Double.POSITIVE_INFINITY, out);
		assertThat(out[1]).isEqualTo(7.5);
		GradientStatistics.gradientStatisticsFloat32(toFloat(gradient), Double.POSITIVE_INFINITY, out);
		assertThat(out[1]).isEqualTo(7.5);
	}

	@Test
	void maxAbsBoundShouldHoldForTinyGradientsWhoseSquaresUnderflow() {
		double[] gradient = { 1e-170, -3e-170, Double.MIN_VALUE, 2e-165 };
		double[] out = new double[3];
		GradientStatistics.gradientStatisticsFloat64(gradient, 2, out);
		assertThat(out[0]).isZero();
		assertThat(out[1]).isGreaterThanOrEqualTo(2e-165);
	}

	@Test
	void maxAbsShouldMarkNaNAndInfinityWhateverTheOtherElements() {
		double[] out = new double[3];
		double[][] withNaN = { { 1, Double.NaN, 2 }, { Double.POSITIVE_INFINITY, Double.NaN },
				{ Double.NaN, Double.NEGATIVE_INFINITY, 3, 4, 5, 6, 7, 8, 9, 10 } };
		for (double[] gradient : withNaN) {
			GradientStatistics.gradientStatisticsFloat64(gradient, 2, out);
			assertThat(out[1]).isNaN();
			GradientStatistics.gradientStatisticsFloat32(toFloat(gradient), 2, out);
			assertThat(out[1]).isNaN();
		}
		double[] infinite = { 1, 2, 3, 4, 5, 6, 7, 8, Double.NEGATIVE_INFINITY };
		GradientStatistics.gradientStatisticsFloat64(infinite, 2, out);
		assertThat(out[1]).isEqualTo(Double.POSITIVE_INFINITY);
		GradientStatistics.gradientStatisticsFloat32(toFloat(infinite), 2, out);
		assertThat(out[1]).isEqualTo(Double.POSITIVE_INFINITY);
		// A NaN whose sign bit is set and one with a payload: still NaN.
		double negativeNaN = Double.longBitsToDouble(0xfff8000000000001L);
		GradientStatistics.gradientStatisticsFloat64(new double[] { 1, negativeNaN }, 2, out);
		assertThat(out[1]).isNaN();
	}

	@Test
	void squaresThatOverflowShouldStillGiveTheExactFiniteMax() {
		double[] gradient = { 1e200, -3e200, 5 };
		double[] out = new double[3];
		GradientStatistics.gradientStatisticsFloat64(gradient, 2, out);
		assertThat(out[0]).isEqualTo(Double.POSITIVE_INFINITY);
		assertThat(out[1]).as("finite gradient: finite max").isEqualTo(3e200);
	}

	@ParameterizedTest(name = "p = {0}")
	@ValueSource(doubles = { 1, 1.5, 3, 4 })
	void powerSumShouldBeTheSumOfAbsolutePowers(double p) {
		SplittableRandom random = new SplittableRandom(11);
		double[] gradient = random.doubles(37, -2, 2).toArray();
		double expected = 0;
		for (double g : gradient) {
			expected += Math.pow(Math.abs(g), p);
		}
		double[] out = new double[3];
		GradientStatistics.gradientStatisticsFloat64(gradient, p, out);
		assertEquals(expected, out[2], 1e-14 * expected);
		float[] gradient32 = toFloat(gradient);
		double expected32 = 0;
		for (float g : gradient32) {
			expected32 += Math.pow(Math.abs(g), p);
		}
		GradientStatistics.gradientStatisticsFloat32(gradient32, p, out);
		assertEquals(expected32, out[2], 1e-14 * expected32);
	}

	@Test
	void firstNonFiniteShouldGiveTheFirstIndexOrMinusOne() {
		assertThat(GradientStatistics.firstNonFiniteFloat64(new double[] { 1, 2, 3 })).isEqualTo(-1);
		assertThat(GradientStatistics.firstNonFiniteFloat64(new double[0])).isEqualTo(-1);
		assertThat(GradientStatistics
			.firstNonFiniteFloat64(new double[] { 1, Double.MAX_VALUE, Double.NEGATIVE_INFINITY, Double.NaN }))
			.isEqualTo(2);
		assertThat(GradientStatistics.firstNonFiniteFloat32(new float[] { 0, Float.NaN, Float.POSITIVE_INFINITY }))
			.isEqualTo(1);
		assertThat(GradientStatistics.firstNonFiniteFloat32(new float[] { Float.MAX_VALUE, -Float.MIN_VALUE }))
			.isEqualTo(-1);
	}

	private static double exactSumOfSquares(double[] values) {
		BigDecimal sum = BigDecimal.ZERO;
		for (double value : values) {
			BigDecimal exact = new BigDecimal(value);
			sum = sum.add(exact.multiply(exact));
		}
		return sum.round(MathContext.DECIMAL128).doubleValue();
	}

	private static double maxAbs(double[] values) {
		double max = 0;
		for (double value : values) {
			max = Math.max(max, Math.abs(value));
		}
		return max;
	}

	static float[] toFloat(double[] values) {
		float[] floats = new float[values.length];
		for (int i = 0; i < values.length; i++) {
			floats[i] = (float) values[i];
		}
		return floats;
	}

	static double[] widen(float[] values) {
		double[] doubles = new double[values.length];
		for (int i = 0; i < values.length; i++) {
			doubles[i] = values[i];
		}
		return doubles;
	}

}
