package dev.adamopt.kernel;

/**
 * One tensor's arrays in float64 (float32 values are held widened, exactly), with the kernel's entry points applied to
 * a copy in either precision: lets one test body drive both twins.
 */
final class TensorCase {

	final double[] param;

	final double[] grad;

	final double[] firstMoment;

	final double[] secondMoment;

	final double[] maxSecondMoment;

	TensorCase(double[] param, double[] grad, double[] firstMoment, double[] secondMoment, double[] maxSecondMoment) {
		this.param = param;
		this.grad = grad;
		this.firstMoment = firstMoment;
		this.secondMoment = secondMoment;
		this.maxSecondMoment = maxSecondMoment;
	}

	int length() {
		return this.param.length;
	}

	/** The same values rounded to float (for a float32 case). */
	TensorCase roundedToFloat() {
		return new TensorCase(round(this.param), round(this.grad), round(this.firstMoment), round(this.secondMoment),
				round(this.maxSecondMoment));
	}

	TensorCase copy() {
		return new TensorCase(this.param.clone(), this.grad.clone(), this.firstMoment.clone(),
				this.secondMoment.clone(), this.maxSecondMoment.clone());
	}

	/** Runs the clipping step on this case's arrays in place; answers its update sum. */
	double step(boolean float32, long step, Hyperparameters h, double gradScale, double clipValue) {
		if (!float32) {
			return AdamKernel.stepFloat64(this.param, this.grad, this.firstMoment, this.secondMoment,
					this.maxSecondMoment, step, h, gradScale, clipValue);
		}
		float[] p = toFloat(this.param);
		float[] m = toFloat(this.firstMoment);
		float[] v = toFloat(this.secondMoment);
		float[] vMax = toFloat(this.maxSecondMoment);
		double sum = AdamKernel.stepFloat32(p, toFloat(this.grad), m, v, vMax, step, h, gradScale, clipValue);
		copyInto(p, this.param);
		copyInto(m, this.firstMoment);
		copyInto(v, this.secondMoment);
		copyInto(vMax, this.maxSecondMoment);
		return sum;
	}

	/** The plain (unclipped, no statistics) step on this case's arrays in place. */
	void plainStep(boolean float32, long step, Hyperparameters h) {
		if (!float32) {
			AdamKernel.stepFloat64(this.param, this.grad, this.firstMoment, this.secondMoment, this.maxSecondMoment,
					step, h);
			return;
		}
		float[] p = toFloat(this.param);
		float[] m = toFloat(this.firstMoment);
		float[] v = toFloat(this.secondMoment);
		float[] vMax = toFloat(this.maxSecondMoment);
		AdamKernel.stepFloat32(p, toFloat(this.grad), m, v, vMax, step, h);
		copyInto(p, this.param);
		copyInto(m, this.firstMoment);
		copyInto(v, this.secondMoment);
		copyInto(vMax, this.maxSecondMoment);
	}

	int dryRun(boolean float32, long step, Hyperparameters h, double gradScale, double clipValue) {
		if (!float32) {
			return AdamKernel.firstNonFiniteResultFloat64(this.param, this.grad, this.firstMoment, this.secondMoment,
					this.maxSecondMoment, step, h, gradScale, clipValue);
		}
		return AdamKernel.firstNonFiniteResultFloat32(toFloat(this.param), toFloat(this.grad),
				toFloat(this.firstMoment), toFloat(this.secondMoment), toFloat(this.maxSecondMoment), step, h,
				gradScale, clipValue);
	}

	void statistics(boolean float32, double normType, double[] out) {
		if (float32) {
			GradientStatistics.gradientStatisticsFloat32(toFloat(this.grad), normType, out);
		}
		else {
			GradientStatistics.gradientStatisticsFloat64(this.grad, normType, out);
		}
	}

	void resetBounds(StateBounds bounds, boolean float32, boolean amsgrad) {
		if (float32) {
			bounds.resetFromArraysFloat32(toFloat(this.param), toFloat(this.firstMoment), toFloat(this.secondMoment),
					amsgrad ? toFloat(this.maxSecondMoment) : null);
		}
		else {
			bounds.resetFromArraysFloat64(this.param, this.firstMoment, this.secondMoment,
					amsgrad ? this.maxSecondMoment : null);
		}
	}

	/** Index of the first element with a non-finite parameter or moment (max moment when amsgrad), or -1. */
	int firstNonFinite(boolean amsgrad) {
		for (int i = 0; i < length(); i++) {
			if (!Double.isFinite(this.param[i]) || !Double.isFinite(this.firstMoment[i])
					|| !Double.isFinite(this.secondMoment[i]) || (amsgrad && !Double.isFinite(this.maxSecondMoment[i]))) {
				return i;
			}
		}
		return -1;
	}

	static double maxAbs(double[] values) {
		double max = 0;
		for (double value : values) {
			max = Math.max(max, Math.abs(value));
		}
		return max;
	}

	private static double[] round(double[] values) {
		double[] rounded = new double[values.length];
		for (int i = 0; i < values.length; i++) {
			rounded[i] = (float) values[i];
		}
		return rounded;
	}

	private static float[] toFloat(double[] values) {
		float[] floats = new float[values.length];
		for (int i = 0; i < values.length; i++) {
			floats[i] = (float) values[i];
		}
		return floats;
	}

	private static void copyInto(float[] from, double[] to) {
		for (int i = 0; i < from.length; i++) {
			to[i] = from[i];
		}
	}

}
