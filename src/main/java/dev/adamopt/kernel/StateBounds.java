package dev.adamopt.kernel;

/** PLACEHOLDER: replaced by the kernel-numerics branch at merge. */
public final class StateBounds {

	public boolean provesFinite(Hyperparameters h, long step, boolean float32, double gradScale, double clipValue,
			double maxAbsGrad, double maxAbsParam) {
		throw new UnsupportedOperationException();
	}

	public void advance(Hyperparameters h, long step, boolean float32, double gradScale, double clipValue,
			double maxAbsGrad, double maxAbsParam) {
		throw new UnsupportedOperationException();
	}

	public void resetFloat64(double[] param, double[] m, double[] v, double[] vmax) {
		throw new UnsupportedOperationException();
	}

	public void resetFloat32(float[] param, float[] m, float[] v, float[] vmax) {
		throw new UnsupportedOperationException();
	}

}
