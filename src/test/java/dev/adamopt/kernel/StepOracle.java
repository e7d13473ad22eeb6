package dev.adamopt.kernel;

/**
 * torch's Adam step with clipping, one element and one IEEE operation at a time, written once for both precisions:
 * every operation is computed in double and rounded to float for float32, which gives the correctly rounded float
 * result for +, -, *, / and sqrt (double has more than 2 x 24 + 2 bits), and the fused multiply-add is the float one.
 * The tests hold both twins of the fused, branch-free kernel to it bit for bit.
 */
final class StepOracle {

	private final boolean float32;

	StepOracle(boolean float32) {
		this.float32 = float32;
	}

	private double round(double x) {
		return this.float32 ? (float) x : x;
	}

	private double fma(double a, double b, double c) {
		return this.float32 ? Math.fma((float) a, (float) b, (float) c) : Math.fma(a, b, c);
	}

	/** The new values of element i: {parameter, firstMoment, secondMoment, maxSecondMoment (amsgrad, else NaN)}. */
	double[] step(double param, double grad, double firstMoment, double secondMoment, double maxSecondMoment,
			long step, Hyperparameters h, double gradScale, double clipValue) {
		double lr = h.learningRate();
		double beta1 = round(h.beta1());
		double beta2 = round(h.beta2());
		double oneMinusBeta1 = round(1 - h.beta1());
		double oneMinusBeta2 = round(1 - h.beta2());
		double eps = round(h.epsilon());
		double negStepSize = round(-(lr / (1 - AdamKernel.power(h.beta1(), step))));
		double biasCorrection2Sqrt = round(Math.sqrt(1 - AdamKernel.power(h.beta2(), step)));
		boolean decoupled = h.algorithm() == Algorithm.ADAMW;
		double decay = round(decoupled ? 1 - lr * h.weightDecay() : 1.0);
		double l2 = round(decoupled ? 0.0 : h.weightDecay());
		double scale = round(gradScale);
		double clip = round(clipValue);

		// clip_grad_norm_ then clip_grad_value_ on the gradient as sent, then maximize, then weight decay.
		double g = round(grad * scale);
		g = Math.min(Math.max(g, -clip), clip);
		if (h.maximize()) {
			g = -g;
		}
		double p = param;
		if (l2 != 0) {
			g = fma(p, l2, g);
		}
		else {
			p = round(p * decay);
		}
		double m = fma(g, oneMinusBeta1, round(firstMoment * beta1));
		double v = fma(round(oneMinusBeta2 * g), g, round(secondMoment * beta2));
		double vMax = h.amsgrad() ? Math.max(maxSecondMoment, v) : Double.NaN;
		double denominator = round(round(round(Math.sqrt(h.amsgrad() ? vMax : v)) / biasCorrection2Sqrt) + eps);
		double pNew = round(p + round(round(negStepSize * m) / denominator));
		return new double[] { pNew, m, v, vMax };
	}

}
