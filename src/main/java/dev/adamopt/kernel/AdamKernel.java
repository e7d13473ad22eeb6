package dev.adamopt.kernel;

/**
 * One Adam / AdamW step over one tensor, exactly as {@code torch.optim.Adam} and {@code AdamW} compute it (torch 1.13,
 * single-tensor path), in a single fused pass over primitive arrays that the caller owns.
 * <p>
 * Shapes are the caller's business: every array passed for one tensor must have the same length (checked once here,
 * plain loops inside). Nothing is allocated.
 * <p>
 * Bit-exactness notes, each checked against torch's trajectories in the tests:
 * <ul>
 * <li>torch's vectorised CPU kernels compute {@code m.mul_(b1).add_(g, alpha=1-b1)}, {@code addcmul_} and the L2
 * {@code grad.add(p, alpha=wd)} with fused multiply-adds, so this kernel does too ({@link Math#fma}). Without them
 * about one element in ten differs by an ulp.</li>
 * <li>The bias corrections {@code 1 - beta^t} are computed in double as Python does: {@code beta ** t} is glibc's
 * {@code pow}, which is not always correctly rounded (0.9999^494 is an ulp below the exact value's rounding), so
 * {@link #power} is a port of glibc's {@code pow} ({@link GlibcPow}), not a correctly rounded power.</li>
 * <li>In float32 every scalar coefficient is computed in double and rounded to float once, as torch converts Python
 * scalars to the tensor's dtype.</li>
 * </ul>
 */
public final class AdamKernel {

	private AdamKernel() {
	}

	/**
	 * Applies step {@code step} (1-based, the tensor's own count after increment) of Adam to one float64 tensor.
	 * @param param the parameter, updated in place
	 * @param grad the gradient, read only
	 * @param firstMoment torch's {@code exp_avg}, updated in place
	 * @param secondMoment torch's {@code exp_avg_sq}, updated in place
	 * @param maxSecondMoment torch's {@code max_exp_avg_sq} when amsgrad, else ignored (may be {@code null})
	 */
	public static void stepFloat64(double[] param, double[] grad, double[] firstMoment, double[] secondMoment,
			double[] maxSecondMoment, long step, Hyperparameters h) {
		int n = checkLengths(param.length, grad.length, firstMoment.length, secondMoment.length,
				h.amsgrad() ? maxSecondMoment.length : param.length);
		if (step < 1) {
			throw new IllegalArgumentException("step must be >= 1, got " + step);
		}
		double lr = h.learningRate();
		double beta1 = h.beta1();
		double beta2 = h.beta2();
		double oneMinusBeta1 = 1 - beta1;
		double oneMinusBeta2 = 1 - beta2;
		double eps = h.epsilon();
		double negStepSize = -(lr / (1 - power(beta1, step)));
		double biasCorrection2Sqrt = Math.sqrt(1 - power(beta2, step));
		double gradSign = h.maximize() ? -1.0 : 1.0;
		boolean decoupled = h.algorithm() == Algorithm.ADAMW;
		// AdamW always multiplies (by exactly 1.0 when weightDecay is 0); Adam adds L2 only when weightDecay != 0.
		double decay = decoupled ? 1 - lr * h.weightDecay() : 1.0;
		double l2 = decoupled ? 0.0 : h.weightDecay();
		// Four plain loops rather than one with branches, so that each compiles to a branch-free vector loop.
		if (l2 != 0) {
			if (h.amsgrad()) {
				for (int i = 0; i < n; i++) {
					double p = param[i];
					double g = Math.fma(p, l2, grad[i] * gradSign);
					double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
					double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
					double vMax = Math.max(maxSecondMoment[i], v);
					firstMoment[i] = m;
					secondMoment[i] = v;
					maxSecondMoment[i] = vMax;
					param[i] = p + (negStepSize * m) / (Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
				}
			}
			else {
				for (int i = 0; i < n; i++) {
					double p = param[i];
					double g = Math.fma(p, l2, grad[i] * gradSign);
					double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
					double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
					firstMoment[i] = m;
					secondMoment[i] = v;
					param[i] = p + (negStepSize * m) / (Math.sqrt(v) / biasCorrection2Sqrt + eps);
				}
			}
		}
		else if (h.amsgrad()) {
			for (int i = 0; i < n; i++) {
				double p = param[i] * decay;
				double g = grad[i] * gradSign;
				double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				double vMax = Math.max(maxSecondMoment[i], v);
				firstMoment[i] = m;
				secondMoment[i] = v;
				maxSecondMoment[i] = vMax;
				param[i] = p + (negStepSize * m) / (Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
			}
		}
		else {
			for (int i = 0; i < n; i++) {
				double p = param[i] * decay;
				double g = grad[i] * gradSign;
				double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				firstMoment[i] = m;
				secondMoment[i] = v;
				param[i] = p + (negStepSize * m) / (Math.sqrt(v) / biasCorrection2Sqrt + eps);
			}
		}
	}

	/**
	 * Float32 twin of {@link #stepFloat64}: state and arithmetic in float, scalars rounded to float once, as torch does
	 * for a float32 tensor.
	 */
	public static void stepFloat32(float[] param, float[] grad, float[] firstMoment, float[] secondMoment,
			float[] maxSecondMoment, long step, Hyperparameters h) {
		int n = checkLengths(param.length, grad.length, firstMoment.length, secondMoment.length,
				h.amsgrad() ? maxSecondMoment.length : param.length);
		if (step < 1) {
			throw new IllegalArgumentException("step must be >= 1, got " + step);
		}
		double lr = h.learningRate();
		float beta1 = (float) h.beta1();
		float beta2 = (float) h.beta2();
		float oneMinusBeta1 = (float) (1 - h.beta1());
		float oneMinusBeta2 = (float) (1 - h.beta2());
		float eps = (float) h.epsilon();
		float negStepSize = (float) -(lr / (1 - power(h.beta1(), step)));
		float biasCorrection2Sqrt = (float) Math.sqrt(1 - power(h.beta2(), step));
		float gradSign = h.maximize() ? -1.0f : 1.0f;
		boolean decoupled = h.algorithm() == Algorithm.ADAMW;
		float decay = decoupled ? (float) (1 - lr * h.weightDecay()) : 1.0f;
		float l2 = decoupled ? 0.0f : (float) h.weightDecay();
		if (l2 != 0) {
			if (h.amsgrad()) {
				for (int i = 0; i < n; i++) {
					float p = param[i];
					float g = Math.fma(p, l2, grad[i] * gradSign);
					float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
					float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
					float vMax = Math.max(maxSecondMoment[i], v);
					firstMoment[i] = m;
					secondMoment[i] = v;
					maxSecondMoment[i] = vMax;
					param[i] = p + (negStepSize * m) / ((float) Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
				}
			}
			else {
				for (int i = 0; i < n; i++) {
					float p = param[i];
					float g = Math.fma(p, l2, grad[i] * gradSign);
					float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
					float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
					firstMoment[i] = m;
					secondMoment[i] = v;
					param[i] = p + (negStepSize * m) / ((float) Math.sqrt(v) / biasCorrection2Sqrt + eps);
				}
			}
		}
		else if (h.amsgrad()) {
			for (int i = 0; i < n; i++) {
				float p = param[i] * decay;
				float g = grad[i] * gradSign;
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				float vMax = Math.max(maxSecondMoment[i], v);
				firstMoment[i] = m;
				secondMoment[i] = v;
				maxSecondMoment[i] = vMax;
				param[i] = p + (negStepSize * m) / ((float) Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
			}
		}
		else {
			for (int i = 0; i < n; i++) {
				float p = param[i] * decay;
				float g = grad[i] * gradSign;
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				firstMoment[i] = m;
				secondMoment[i] = v;
				param[i] = p + (negStepSize * m) / ((float) Math.sqrt(v) / biasCorrection2Sqrt + eps);
			}
		}
	}

	/**
	 * {@code base^exponent} exactly as torch gets it: its bias corrections come from Python's {@code beta ** step}
	 * with a float step, i.e. glibc's {@code pow}. That is accurate to about half an ulp but not correctly rounded
	 * (1 pair in 2,000 of common betas with steps up to 20,000, e.g. 0.9999^494), and an ulp in {@code 1 - beta2^t}
	 * shows in the last bit of the parameters, so this calls the port {@link GlibcPow#pow} rather than anything more
	 * exact. The exponent converts to double exactly up to 2^53.
	 */
	static double power(double base, long exponent) {
		return GlibcPow.pow(base, (double) exponent);
	}

	private static int checkLengths(int param, int grad, int first, int second, int max) {
		if (grad != param || first != param || second != param || max != param) {
			throw new IllegalArgumentException("arrays of one tensor must have equal lengths, got param " + param
					+ ", grad " + grad + ", firstMoment " + first + ", secondMoment " + second + ", maxSecondMoment "
					+ max);
		}
		return param;
	}

	/** PLACEHOLDER: replaced by the kernel-numerics branch at merge. */
	public static double stepFloat64(double[] param, double[] grad, double[] firstMoment, double[] secondMoment,
			double[] maxSecondMoment, long step, Hyperparameters h, double gradScale, double clipValue) {
		throw new UnsupportedOperationException();
	}

	/** PLACEHOLDER: replaced by the kernel-numerics branch at merge. */
	public static double stepFloat32(float[] param, float[] grad, float[] firstMoment, float[] secondMoment,
			float[] maxSecondMoment, long step, Hyperparameters h, double gradScale, double clipValue) {
		throw new UnsupportedOperationException();
	}

	/** PLACEHOLDER: replaced by the kernel-numerics branch at merge. */
	public static int firstNonFiniteResultFloat64(double[] param, double[] grad, double[] m, double[] v,
			double[] vmax, long step, Hyperparameters h, double gradScale, double clipValue) {
		throw new UnsupportedOperationException();
	}

	/** PLACEHOLDER: replaced by the kernel-numerics branch at merge. */
	public static int firstNonFiniteResultFloat32(float[] param, float[] grad, float[] m, float[] v, float[] vmax,
			long step, Hyperparameters h, double gradScale, double clipValue) {
		throw new UnsupportedOperationException();
	}

}
