package dev.adamopt.kernel;

/** PLACEHOLDER: replaced by the kernel-numerics branch at merge. */
public final class GradientStatistics {

	private GradientStatistics() {
	}

	public static void gradientStatisticsFloat64(double[] grad, double normType, double[] out) {
		throw new UnsupportedOperationException();
	}

	public static void gradientStatisticsFloat32(float[] grad, double normType, double[] out) {
		throw new UnsupportedOperationException();
	}

	public static int firstNonFiniteFloat64(double[] a) {
		throw new UnsupportedOperationException();
	}

	public static int firstNonFiniteFloat32(float[] a) {
		throw new UnsupportedOperationException();
	}

	public static final class Accumulator {

		public void add(double[] out) {
		}

		public double l2Norm() {
			throw new UnsupportedOperationException();
		}

		public double totalNorm(double normType) {
			throw new UnsupportedOperationException();
		}

		public double clipCoefficient(double maxNorm, double normType) {
			throw new UnsupportedOperationException();
		}

	}

}
