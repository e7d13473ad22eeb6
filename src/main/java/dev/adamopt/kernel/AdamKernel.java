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
	 * {@link #stepFloat64(double[], double[], double[], double[], double[], long, Hyperparameters)} with gradient
	 * clipping and the update statistic. The gradient as the step uses it is {@code grad[i] * gradScale} (torch's
	 * {@code clip_grad_norm_}: {@code grad.mul_(clip_coef_clamped)}, see {@link GradientStatistics.Accumulator}), then
	 * clamped to {@code [-clipValue, clipValue]} (torch's {@code clip_grad_value_}), both before {@code maximize}
	 * negates it and before L2 weight decay is added, as torch orders them (clipping runs before
	 * {@code optimizer.step()}). {@code gradScale} 1.0 and {@code clipValue} +inf give bit for bit the results of the
	 * plain step.
	 * <p>
	 * Still one fused pass. Loop shapes, measured with JMH on the 2-core build machine (AMD EPYC Zen 4, AVX-512, JDK
	 * 17 C2; Adam; Caffeine style, what was tried and what it gained or cost):
	 * <ul>
	 * <li>The update norm as a plain {@code sum += d * d} in the fused loop: {@code AdamKernelBenchmark.scaledStep}
	 * 1.28 us at 1k elements against 1.25 for the plain step, 13.0-13.6 ms at 10M against 12.8-13.2 (same runs). The
	 * float64 loop is bound by the vector divide and square root; C2's in-order reduction of each vector runs on the
	 * adders beside them.</li>
	 * <li>One loop per variant, each in its own small method (generated, eight per precision): with the same eight
	 * loops in one method the clipped step took 1.9x the plain step's time (float32: 3.6x) in the same run, split
	 * 1.3x (float32: 2-3x; a loaded machine, so ratios within one run only). C2 compiles a large method with several
	 * loops less well.</li>
	 * <li>Clipping by norm costs the step nothing: without a clamp, {@code (grad * scale) * gradSign} is exactly
	 * {@code grad * (scale * gradSign)} (gradSign is 1 or -1), so the plain loops run with the scale as their sign.
	 * Only clipping by value runs the clamped loops (min and max with Java's NaN and signed-zero rules are several
	 * vector instructions each): 5-15 % slower than the plain loops (6.3 us against 6.0 in float64, 68 against 59 in
	 * float32 at 65,536 elements). Before this, norm clipping ran the clamped loops: the whole clipped step at 10M float64
	 * was 1.52x the plain step (1.31-1.56, five rounds), now 1.27x.</li>
	 * </ul>
	 * @param gradScale the factor every gradient element is multiplied by (torch's clamped clip coefficient), finite
	 * @param clipValue the bound of {@code clip_grad_value_}, {@code >= 0}; {@link Double#POSITIVE_INFINITY} for none
	 * @return {@code Σ (p_new - p_old)²} over the tensor, accumulated in double: {@code updateNorm}'s share of this
	 * tensor, and what {@link StateBounds#advance} needs
	 */
	public static double stepFloat64(double[] param, double[] grad, double[] firstMoment, double[] secondMoment,
			double[] maxSecondMoment, long step, Hyperparameters h, double gradScale, double clipValue) {
		int n = checkLengths(param.length, grad.length, firstMoment.length, secondMoment.length,
				h.amsgrad() ? maxSecondMoment.length : param.length);
		checkStepAndClipping(step, gradScale, clipValue);
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
		double decay = decoupled ? 1 - lr * h.weightDecay() : 1.0;
		double l2 = decoupled ? 0.0 : h.weightDecay();
		double scale = gradScale;
		double clip = clipValue;
		// Without clamping, (grad * scale) * gradSign == grad * (scale * gradSign) exactly (gradSign is +-1): the
		// scaled loops are the plain step's loops, whose gradSign is the scale.
		boolean clamping = clip != Double.POSITIVE_INFINITY;
		double signedScale = scale * gradSign;
		if (clamping) {
			if (l2 != 0) {
				return h.amsgrad()
						? clampedL2AmsgradFloat64(param, grad, firstMoment, secondMoment, maxSecondMoment, n, gradSign,
							l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
							clip)
						: clampedL2Float64(param, grad, firstMoment, secondMoment, maxSecondMoment, n, gradSign,
							l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
							clip);
			}
			return h.amsgrad()
					? clampedDecayAmsgradFloat64(param, grad, firstMoment, secondMoment, maxSecondMoment, n, gradSign,
							l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
							clip)
					: clampedDecayFloat64(param, grad, firstMoment, secondMoment, maxSecondMoment, n, gradSign,
							l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
							clip);
		}
		if (l2 != 0) {
			return h.amsgrad()
					? scaledL2AmsgradFloat64(param, grad, firstMoment, secondMoment, maxSecondMoment, n, signedScale,
						l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
						clip)
					: scaledL2Float64(param, grad, firstMoment, secondMoment, maxSecondMoment, n, signedScale,
						l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
						clip);
		}
		return h.amsgrad()
				? scaledDecayAmsgradFloat64(param, grad, firstMoment, secondMoment, maxSecondMoment, n, signedScale,
						l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
						clip)
				: scaledDecayFloat64(param, grad, firstMoment, secondMoment, maxSecondMoment, n, signedScale,
						l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
						clip);
	}

	/**
	 * Float32 twin of {@link #stepFloat64(double[], double[], double[], double[], double[], long, Hyperparameters,
	 * double, double)}: {@code gradScale} and {@code clipValue} are rounded to float once (torch multiplies a float32
	 * gradient by a float32 coefficient and clamps it with float32 bounds), the arithmetic is the plain float32 step's.
	 * <p>
	 * The update norm: each {@code d = p_new - p_old} is computed in float and squared in float, summed in float over
	 * blocks of {@value #UPDATE_NORM_BLOCK} elements, the block sums in double. Rounding: each term carries at most
	 * {@value #UPDATE_NORM_BLOCK} float additions, so the sum is within 2e-5 relative of the exact one (in practice
	 * about 1e-6); {@code |d| > 1.8e19} overflows the float square to +inf and {@code |d| < 1e-19} underflows it (both
	 * allowed for by {@link StateBounds#advance}). Measured (JMH, in cache, Caffeine style):
	 * <ul>
	 * <li>A float or double reduction over the whole loop, or a widening to double inside it: C2 (JDK 17) no longer
	 * vectorises the loop, 6x the plain step (3.2 ns per element against 0.54).</li>
	 * <li>Blocked float sums (this): vectorised, but C2 reduces every vector to the scalar sum in order inside the
	 * loop, which costs about 0.5 ns per element: 2.0x the plain float32 step with blocks of 256 (4,096 elements),
	 * 2.1x with blocks of 4,096 (65,536 elements), so the smaller block, for the rounding; 1.8x at 10M.</li>
	 * <li>Tried and dropped: copying the block's old parameters to a scratch array and summing {@code (p - old)^2} in
	 * a second, scalar loop over the block (3.6x); two interleaved halves per iteration to halve the in-order
	 * reduction (C2 no longer vectorises: 8x); storing {@code d} into a scratch array in the fused loop (not
	 * vectorised: 7x). Summing floats faster needs vector reductions that JDK 17 C2 does not make (the Vector API
	 * would, as an incubator module).</li>
	 * </ul>
	 */
	public static double stepFloat32(float[] param, float[] grad, float[] firstMoment, float[] secondMoment,
			float[] maxSecondMoment, long step, Hyperparameters h, double gradScale, double clipValue) {
		int n = checkLengths(param.length, grad.length, firstMoment.length, secondMoment.length,
				h.amsgrad() ? maxSecondMoment.length : param.length);
		checkStepAndClipping(step, gradScale, clipValue);
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
		float scale = (float) gradScale;
		float clip = (float) clipValue;
		boolean clamping = clip != Float.POSITIVE_INFINITY;
		float signedScale = scale * gradSign;
		if (clamping) {
			if (l2 != 0) {
				return h.amsgrad()
						? clampedL2AmsgradFloat32(param, grad, firstMoment, secondMoment, maxSecondMoment, n, gradSign,
							l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
							clip)
						: clampedL2Float32(param, grad, firstMoment, secondMoment, maxSecondMoment, n, gradSign,
							l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
							clip);
			}
			return h.amsgrad()
					? clampedDecayAmsgradFloat32(param, grad, firstMoment, secondMoment, maxSecondMoment, n, gradSign,
							l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
							clip)
					: clampedDecayFloat32(param, grad, firstMoment, secondMoment, maxSecondMoment, n, gradSign,
							l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
							clip);
		}
		if (l2 != 0) {
			return h.amsgrad()
					? scaledL2AmsgradFloat32(param, grad, firstMoment, secondMoment, maxSecondMoment, n, signedScale,
						l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
						clip)
					: scaledL2Float32(param, grad, firstMoment, secondMoment, maxSecondMoment, n, signedScale,
						l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
						clip);
		}
		return h.amsgrad()
				? scaledDecayAmsgradFloat32(param, grad, firstMoment, secondMoment, maxSecondMoment, n, signedScale,
						l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
						clip)
				: scaledDecayFloat32(param, grad, firstMoment, secondMoment, maxSecondMoment, n, signedScale,
						l2, decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negStepSize, biasCorrection2Sqrt, eps, scale,
						clip);
	}





	// Generated loops start: one method per variant, each a single loop (see the step's comment), written from one
	// template for both precisions (GeneratedLoopsTest holds this text to it: change the template there, paste its
	// output here); ClippedStepTest holds every loop to StepOracle bit for bit.
	// scaled*: the plain loops, with the clip scale folded into the sign; clamped*: clip_grad_value_'s clamp.

	private static double clampedL2AmsgradFloat64(double[] param, double[] grad, double[] firstMoment,
			double[] secondMoment, double[] maxSecondMoment, int n, double gradSign, double l2, double decay,
			double beta1, double beta2, double oneMinusBeta1, double oneMinusBeta2, double negStepSize,
			double biasCorrection2Sqrt, double eps, double scale, double clip) {
		double sum = 0;
		for (int i = 0; i < n; i++) {
			double p0 = param[i];
			double p = p0;
			double g = Math.fma(p, l2, Math.min(Math.max(grad[i] * scale, -clip), clip) * gradSign);
			double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			double vMax = Math.max(maxSecondMoment[i], v);
			firstMoment[i] = m;
			secondMoment[i] = v;
			maxSecondMoment[i] = vMax;
			double pNew = p + (negStepSize * m) / (Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
			param[i] = pNew;
			double d = pNew - p0;
			sum += d * d;
		}
		return sum;
	}

	private static double clampedL2Float64(double[] param, double[] grad, double[] firstMoment,
			double[] secondMoment, double[] maxSecondMoment, int n, double gradSign, double l2, double decay,
			double beta1, double beta2, double oneMinusBeta1, double oneMinusBeta2, double negStepSize,
			double biasCorrection2Sqrt, double eps, double scale, double clip) {
		double sum = 0;
		for (int i = 0; i < n; i++) {
			double p0 = param[i];
			double p = p0;
			double g = Math.fma(p, l2, Math.min(Math.max(grad[i] * scale, -clip), clip) * gradSign);
			double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			firstMoment[i] = m;
			secondMoment[i] = v;
			double pNew = p + (negStepSize * m) / (Math.sqrt(v) / biasCorrection2Sqrt + eps);
			param[i] = pNew;
			double d = pNew - p0;
			sum += d * d;
		}
		return sum;
	}

	private static double clampedDecayAmsgradFloat64(double[] param, double[] grad, double[] firstMoment,
			double[] secondMoment, double[] maxSecondMoment, int n, double gradSign, double l2, double decay,
			double beta1, double beta2, double oneMinusBeta1, double oneMinusBeta2, double negStepSize,
			double biasCorrection2Sqrt, double eps, double scale, double clip) {
		double sum = 0;
		for (int i = 0; i < n; i++) {
			double p0 = param[i];
			double p = p0 * decay;
			double g = Math.min(Math.max(grad[i] * scale, -clip), clip) * gradSign;
			double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			double vMax = Math.max(maxSecondMoment[i], v);
			firstMoment[i] = m;
			secondMoment[i] = v;
			maxSecondMoment[i] = vMax;
			double pNew = p + (negStepSize * m) / (Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
			param[i] = pNew;
			double d = pNew - p0;
			sum += d * d;
		}
		return sum;
	}

	private static double clampedDecayFloat64(double[] param, double[] grad, double[] firstMoment,
			double[] secondMoment, double[] maxSecondMoment, int n, double gradSign, double l2, double decay,
			double beta1, double beta2, double oneMinusBeta1, double oneMinusBeta2, double negStepSize,
			double biasCorrection2Sqrt, double eps, double scale, double clip) {
		double sum = 0;
		for (int i = 0; i < n; i++) {
			double p0 = param[i];
			double p = p0 * decay;
			double g = Math.min(Math.max(grad[i] * scale, -clip), clip) * gradSign;
			double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			firstMoment[i] = m;
			secondMoment[i] = v;
			double pNew = p + (negStepSize * m) / (Math.sqrt(v) / biasCorrection2Sqrt + eps);
			param[i] = pNew;
			double d = pNew - p0;
			sum += d * d;
		}
		return sum;
	}

	private static double scaledL2AmsgradFloat64(double[] param, double[] grad, double[] firstMoment,
			double[] secondMoment, double[] maxSecondMoment, int n, double signedScale, double l2, double decay,
			double beta1, double beta2, double oneMinusBeta1, double oneMinusBeta2, double negStepSize,
			double biasCorrection2Sqrt, double eps, double scale, double clip) {
		double sum = 0;
		for (int i = 0; i < n; i++) {
			double p0 = param[i];
			double p = p0;
			double g = Math.fma(p, l2, grad[i] * signedScale);
			double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			double vMax = Math.max(maxSecondMoment[i], v);
			firstMoment[i] = m;
			secondMoment[i] = v;
			maxSecondMoment[i] = vMax;
			double pNew = p + (negStepSize * m) / (Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
			param[i] = pNew;
			double d = pNew - p0;
			sum += d * d;
		}
		return sum;
	}

	private static double scaledL2Float64(double[] param, double[] grad, double[] firstMoment,
			double[] secondMoment, double[] maxSecondMoment, int n, double signedScale, double l2, double decay,
			double beta1, double beta2, double oneMinusBeta1, double oneMinusBeta2, double negStepSize,
			double biasCorrection2Sqrt, double eps, double scale, double clip) {
		double sum = 0;
		for (int i = 0; i < n; i++) {
			double p0 = param[i];
			double p = p0;
			double g = Math.fma(p, l2, grad[i] * signedScale);
			double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			firstMoment[i] = m;
			secondMoment[i] = v;
			double pNew = p + (negStepSize * m) / (Math.sqrt(v) / biasCorrection2Sqrt + eps);
			param[i] = pNew;
			double d = pNew - p0;
			sum += d * d;
		}
		return sum;
	}

	private static double scaledDecayAmsgradFloat64(double[] param, double[] grad, double[] firstMoment,
			double[] secondMoment, double[] maxSecondMoment, int n, double signedScale, double l2, double decay,
			double beta1, double beta2, double oneMinusBeta1, double oneMinusBeta2, double negStepSize,
			double biasCorrection2Sqrt, double eps, double scale, double clip) {
		double sum = 0;
		for (int i = 0; i < n; i++) {
			double p0 = param[i];
			double p = p0 * decay;
			double g = grad[i] * signedScale;
			double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			double vMax = Math.max(maxSecondMoment[i], v);
			firstMoment[i] = m;
			secondMoment[i] = v;
			maxSecondMoment[i] = vMax;
			double pNew = p + (negStepSize * m) / (Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
			param[i] = pNew;
			double d = pNew - p0;
			sum += d * d;
		}
		return sum;
	}

	private static double scaledDecayFloat64(double[] param, double[] grad, double[] firstMoment,
			double[] secondMoment, double[] maxSecondMoment, int n, double signedScale, double l2, double decay,
			double beta1, double beta2, double oneMinusBeta1, double oneMinusBeta2, double negStepSize,
			double biasCorrection2Sqrt, double eps, double scale, double clip) {
		double sum = 0;
		for (int i = 0; i < n; i++) {
			double p0 = param[i];
			double p = p0 * decay;
			double g = grad[i] * signedScale;
			double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			firstMoment[i] = m;
			secondMoment[i] = v;
			double pNew = p + (negStepSize * m) / (Math.sqrt(v) / biasCorrection2Sqrt + eps);
			param[i] = pNew;
			double d = pNew - p0;
			sum += d * d;
		}
		return sum;
	}

	private static double clampedL2AmsgradFloat32(float[] param, float[] grad, float[] firstMoment,
			float[] secondMoment, float[] maxSecondMoment, int n, float gradSign, float l2, float decay,
			float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float negStepSize,
			float biasCorrection2Sqrt, float eps, float scale, float clip) {
		double total = 0;
		for (int base = 0; base < n; base += UPDATE_NORM_BLOCK) {
			int end = Math.min(n, base + UPDATE_NORM_BLOCK);
			float sum = 0;
			for (int i = base; i < end; i++) {
				float p0 = param[i];
				float p = p0;
				float g = Math.fma(p, l2, Math.min(Math.max(grad[i] * scale, -clip), clip) * gradSign);
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				float vMax = Math.max(maxSecondMoment[i], v);
				firstMoment[i] = m;
				secondMoment[i] = v;
				maxSecondMoment[i] = vMax;
				float pNew = p + (negStepSize * m) / ((float) Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
				param[i] = pNew;
				float d = pNew - p0;
				sum += d * d;
			}
			total += sum;
		}
		return total;
	}

	private static double clampedL2Float32(float[] param, float[] grad, float[] firstMoment,
			float[] secondMoment, float[] maxSecondMoment, int n, float gradSign, float l2, float decay,
			float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float negStepSize,
			float biasCorrection2Sqrt, float eps, float scale, float clip) {
		double total = 0;
		for (int base = 0; base < n; base += UPDATE_NORM_BLOCK) {
			int end = Math.min(n, base + UPDATE_NORM_BLOCK);
			float sum = 0;
			for (int i = base; i < end; i++) {
				float p0 = param[i];
				float p = p0;
				float g = Math.fma(p, l2, Math.min(Math.max(grad[i] * scale, -clip), clip) * gradSign);
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				firstMoment[i] = m;
				secondMoment[i] = v;
				float pNew = p + (negStepSize * m) / ((float) Math.sqrt(v) / biasCorrection2Sqrt + eps);
				param[i] = pNew;
				float d = pNew - p0;
				sum += d * d;
			}
			total += sum;
		}
		return total;
	}

	private static double clampedDecayAmsgradFloat32(float[] param, float[] grad, float[] firstMoment,
			float[] secondMoment, float[] maxSecondMoment, int n, float gradSign, float l2, float decay,
			float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float negStepSize,
			float biasCorrection2Sqrt, float eps, float scale, float clip) {
		double total = 0;
		for (int base = 0; base < n; base += UPDATE_NORM_BLOCK) {
			int end = Math.min(n, base + UPDATE_NORM_BLOCK);
			float sum = 0;
			for (int i = base; i < end; i++) {
				float p0 = param[i];
				float p = p0 * decay;
				float g = Math.min(Math.max(grad[i] * scale, -clip), clip) * gradSign;
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				float vMax = Math.max(maxSecondMoment[i], v);
				firstMoment[i] = m;
				secondMoment[i] = v;
				maxSecondMoment[i] = vMax;
				float pNew = p + (negStepSize * m) / ((float) Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
				param[i] = pNew;
				float d = pNew - p0;
				sum += d * d;
			}
			total += sum;
		}
		return total;
	}

	private static double clampedDecayFloat32(float[] param, float[] grad, float[] firstMoment,
			float[] secondMoment, float[] maxSecondMoment, int n, float gradSign, float l2, float decay,
			float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float negStepSize,
			float biasCorrection2Sqrt, float eps, float scale, float clip) {
		double total = 0;
		for (int base = 0; base < n; base += UPDATE_NORM_BLOCK) {
			int end = Math.min(n, base + UPDATE_NORM_BLOCK);
			float sum = 0;
			for (int i = base; i < end; i++) {
				float p0 = param[i];
				float p = p0 * decay;
				float g = Math.min(Math.max(grad[i] * scale, -clip), clip) * gradSign;
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				firstMoment[i] = m;
				secondMoment[i] = v;
				float pNew = p + (negStepSize * m) / ((float) Math.sqrt(v) / biasCorrection2Sqrt + eps);
				param[i] = pNew;
				float d = pNew - p0;
				sum += d * d;
			}
			total += sum;
		}
		return total;
	}

	private static double scaledL2AmsgradFloat32(float[] param, float[] grad, float[] firstMoment,
			float[] secondMoment, float[] maxSecondMoment, int n, float signedScale, float l2, float decay,
			float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float negStepSize,
			float biasCorrection2Sqrt, float eps, float scale, float clip) {
		double total = 0;
		for (int base = 0; base < n; base += UPDATE_NORM_BLOCK) {
			int end = Math.min(n, base + UPDATE_NORM_BLOCK);
			float sum = 0;
			for (int i = base; i < end; i++) {
				float p0 = param[i];
				float p = p0;
				float g = Math.fma(p, l2, grad[i] * signedScale);
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				float vMax = Math.max(maxSecondMoment[i], v);
				firstMoment[i] = m;
				secondMoment[i] = v;
				maxSecondMoment[i] = vMax;
				float pNew = p + (negStepSize * m) / ((float) Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
				param[i] = pNew;
				float d = pNew - p0;
				sum += d * d;
			}
			total += sum;
		}
		return total;
	}

	private static double scaledL2Float32(float[] param, float[] grad, float[] firstMoment,
			float[] secondMoment, float[] maxSecondMoment, int n, float signedScale, float l2, float decay,
			float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float negStepSize,
			float biasCorrection2Sqrt, float eps, float scale, float clip) {
		double total = 0;
		for (int base = 0; base < n; base += UPDATE_NORM_BLOCK) {
			int end = Math.min(n, base + UPDATE_NORM_BLOCK);
			float sum = 0;
			for (int i = base; i < end; i++) {
				float p0 = param[i];
				float p = p0;
				float g = Math.fma(p, l2, grad[i] * signedScale);
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				firstMoment[i] = m;
				secondMoment[i] = v;
				float pNew = p + (negStepSize * m) / ((float) Math.sqrt(v) / biasCorrection2Sqrt + eps);
				param[i] = pNew;
				float d = pNew - p0;
				sum += d * d;
			}
			total += sum;
		}
		return total;
	}

	private static double scaledDecayAmsgradFloat32(float[] param, float[] grad, float[] firstMoment,
			float[] secondMoment, float[] maxSecondMoment, int n, float signedScale, float l2, float decay,
			float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float negStepSize,
			float biasCorrection2Sqrt, float eps, float scale, float clip) {
		double total = 0;
		for (int base = 0; base < n; base += UPDATE_NORM_BLOCK) {
			int end = Math.min(n, base + UPDATE_NORM_BLOCK);
			float sum = 0;
			for (int i = base; i < end; i++) {
				float p0 = param[i];
				float p = p0 * decay;
				float g = grad[i] * signedScale;
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				float vMax = Math.max(maxSecondMoment[i], v);
				firstMoment[i] = m;
				secondMoment[i] = v;
				maxSecondMoment[i] = vMax;
				float pNew = p + (negStepSize * m) / ((float) Math.sqrt(vMax) / biasCorrection2Sqrt + eps);
				param[i] = pNew;
				float d = pNew - p0;
				sum += d * d;
			}
			total += sum;
		}
		return total;
	}

	private static double scaledDecayFloat32(float[] param, float[] grad, float[] firstMoment,
			float[] secondMoment, float[] maxSecondMoment, int n, float signedScale, float l2, float decay,
			float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float negStepSize,
			float biasCorrection2Sqrt, float eps, float scale, float clip) {
		double total = 0;
		for (int base = 0; base < n; base += UPDATE_NORM_BLOCK) {
			int end = Math.min(n, base + UPDATE_NORM_BLOCK);
			float sum = 0;
			for (int i = base; i < end; i++) {
				float p0 = param[i];
				float p = p0 * decay;
				float g = grad[i] * signedScale;
				float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
				float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
				firstMoment[i] = m;
				secondMoment[i] = v;
				float pNew = p + (negStepSize * m) / ((float) Math.sqrt(v) / biasCorrection2Sqrt + eps);
				param[i] = pNew;
				float d = pNew - p0;
				sum += d * d;
			}
			total += sum;
		}
		return total;
	}

	// Generated loops end

	/** Elements per float partial sum of the float32 update norm (see {@link #stepFloat32}). */
	static final int UPDATE_NORM_BLOCK = 256;

	/**
	 * The non-finite result policy's dry run: computes, reading only, exactly what
	 * {@link #stepFloat64(double[], double[], double[], double[], double[], long, Hyperparameters, double, double)}
	 * would write, and answers the index of the first element whose new parameter, first moment, second moment or
	 * (amsgrad) maximum second moment would be NaN or infinite; -1 when all would be finite. One plain loop with the
	 * variants as branches: it runs only when {@link StateBounds#provesFinite} cannot prove the step finite.
	 */
	public static int firstNonFiniteResultFloat64(double[] param, double[] grad, double[] firstMoment,
			double[] secondMoment, double[] maxSecondMoment, long step, Hyperparameters h, double gradScale,
			double clipValue) {
		int n = checkLengths(param.length, grad.length, firstMoment.length, secondMoment.length,
				h.amsgrad() ? maxSecondMoment.length : param.length);
		checkStepAndClipping(step, gradScale, clipValue);
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
		double decay = decoupled ? 1 - lr * h.weightDecay() : 1.0;
		double l2 = decoupled ? 0.0 : h.weightDecay();
		boolean amsgrad = h.amsgrad();
		for (int i = 0; i < n; i++) {
			double p = param[i];
			double g = Math.min(Math.max(grad[i] * gradScale, -clipValue), clipValue) * gradSign;
			if (l2 != 0) {
				g = Math.fma(p, l2, g);
			}
			else {
				p = p * decay;
			}
			double m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			double v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			double vHat = amsgrad ? Math.max(maxSecondMoment[i], v) : v;
			double pNew = p + (negStepSize * m) / (Math.sqrt(vHat) / biasCorrection2Sqrt + eps);
			if (!Double.isFinite(pNew) || !Double.isFinite(m) || !Double.isFinite(v) || !Double.isFinite(vHat)) {
				return i;
			}
		}
		return -1;
	}

	/** Float32 twin of {@link #firstNonFiniteResultFloat64}, computing what {@link #stepFloat32} would write. */
	public static int firstNonFiniteResultFloat32(float[] param, float[] grad, float[] firstMoment,
			float[] secondMoment, float[] maxSecondMoment, long step, Hyperparameters h, double gradScale,
			double clipValue) {
		int n = checkLengths(param.length, grad.length, firstMoment.length, secondMoment.length,
				h.amsgrad() ? maxSecondMoment.length : param.length);
		checkStepAndClipping(step, gradScale, clipValue);
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
		float scale = (float) gradScale;
		float clip = (float) clipValue;
		boolean amsgrad = h.amsgrad();
		for (int i = 0; i < n; i++) {
			float p = param[i];
			float g = Math.min(Math.max(grad[i] * scale, -clip), clip) * gradSign;
			if (l2 != 0) {
				g = Math.fma(p, l2, g);
			}
			else {
				p = p * decay;
			}
			float m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);
			float v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);
			float vHat = amsgrad ? Math.max(maxSecondMoment[i], v) : v;
			float pNew = p + (negStepSize * m) / ((float) Math.sqrt(vHat) / biasCorrection2Sqrt + eps);
			if (!Float.isFinite(pNew) || !Float.isFinite(m) || !Float.isFinite(v) || !Float.isFinite(vHat)) {
				return i;
			}
		}
		return -1;
	}

	private static void checkStepAndClipping(long step, double gradScale, double clipValue) {
		if (step < 1) {
			throw new IllegalArgumentException("step must be >= 1, got " + step);
		}
		if (!Double.isFinite(gradScale)) {
			throw new IllegalArgumentException("gradScale must be finite, got " + gradScale);
		}
		if (!(clipValue >= 0)) {
			throw new IllegalArgumentException("clipValue must be >= 0 (+inf for none), got " + clipValue);
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

}
