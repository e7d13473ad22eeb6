package dev.adamopt.kernel;

/**
 * Upper bounds of one tensor's state, so that the non-finite result policy (a step whose result would hold a NaN or
 * an infinite parameter or moment is refused or skipped before anything is written) costs a few scalar operations per
 * tensor instead of a dry run over the arrays ({@link AdamKernel#firstNonFiniteResultFloat64}), which is needed only
 * when {@link #provesFinite} cannot prove the step finite. Mutable, one per tensor, owned by the caller (not
 * thread-safe: used under the session's lock); nothing is allocated by any method.
 * <p>
 * The bounds: {@code M >= max |m_i|} (first moment), {@code V >= max v_i} (second moment), {@code W >= max vmax_i}
 * (amsgrad's maximum; 0 otherwise), {@code P >= max |p_i|} (the held parameter), and every {@code v_i}, {@code vmax_i}
 * is {@code >= 0} (not negative, not NaN). Each +inf while unknown.
 *
 * <h2>The proof behind {@link #provesFinite}</h2>
 * Round-to-nearest is monotone ({@code x <= y} implies {@code fl(x) <= fl(y)}) and odd ({@code fl(-x) = -fl(x)}), and
 * so is every IEEE operation the step uses in each argument's magnitude: {@code |fl(a·b)| = fl(|a|·|b|)},
 * {@code |fl(a·b + c)| <= fl(|a|·|b| + |c|)} (fused, one rounding, as {@link Math#fma}), {@code |fl(a/d)| <= fl(|a|/e)}
 * for {@code d >= e > 0}, {@code |min(max(x, -c), c)| = min(|x|, c)}. So evaluating the step's own formula once, in the
 * step's own precision and order, on the bounds (every input replaced by its bound, every sign made positive) gives a
 * bound of every element's result. Element by element, with {@code G >= max |g_i|} and {@code s}, {@code c} the clip
 * scale and value:
 * <pre>
 * |g·s clamped|       <= G1 = min(fl(G·|s|), c)
 * |g| as used         <= Gs = fl(fma(P, l2, G1))           (Adam with L2)  else G1
 * |p| before update   <= P1 = P                            (Adam)          else fl(P·|1 - lr·wd|) (AdamW)
 * |m_new|             <= M1 = fl(fma(Gs, 1-b1, fl(M·b1)))
 * v_new               <= V1 = fl(fma(fl((1-b2)·Gs), Gs, fl(V·b2)))     (and v_new >= 0: every term is >= 0)
 * vmax_new            <= W1 = max(W, V1)
 * |update|            <= D  = fl(fl(stepSize·M1) / eps)    since the denominator √v̂/bc2 + eps >= eps > 0
 * |p_new|             <= fl(P1 + D)
 * </pre>
 * If each of these is finite, every element's new parameter and moments are finite: no threshold or slack is needed
 * because the bound is computed with the very roundings the step makes. The scalars are the step's: {@code stepSize =
 * lr / (1 - b1^t)} with torch's {@code pow}, {@code bc2 = √(1 - b2^t)}, and in float32 every one of them and
 * {@code eps}, {@code s}, {@code c} rounded to float as the step rounds them; {@code G} and {@code P} are rounded up to
 * float. Not proven (the caller then runs the dry run): {@code eps} zero in the step's precision (0/0 for a zero
 * gradient on a zero moment, and {@code m/0} for a gradient whose square underflows), a step size or weight decay
 * factor that overflows, any bound unknown (after {@link #invalidate()} or a state read with a negative or NaN second
 * moment), a gradient bound that is not finite.
 * <p>
 * {@link #advance} then takes M1, V1, W1 as the new moment bounds (no drift: the formula is the step's own, whose fixed
 * point is the largest gradient), and the parameter bound from what the step returned, {@code Σ d²} with
 * {@code d = p_new - p_old}: {@code |p_new| <= |p_old| + |d|}, and {@code |d| <= √(Σ d²)} up to the sum's rounding
 * (each term passes through at most n roundings, plus the float squares' underflow in float32), covered by a relative
 * slack of 1e-6 (float32: 1e-4) and an absolute one for underflowed squares. Using the measured update rather than
 * the bound D keeps P from drifting: D is loose (about {@code lr·G/eps} per step) and with L2 weight decay, which
 * feeds P back into the gradient, it would grow geometrically.
 */
public final class StateBounds {

	private double firstMoment = Double.POSITIVE_INFINITY;

	private double secondMoment = Double.POSITIVE_INFINITY;

	private double maxSecondMoment = Double.POSITIVE_INFINITY;

	private double parameter = Double.POSITIVE_INFINITY;

	// The bounds of the state after the step last evaluated (scratch of evaluate, no allocation).
	private double nextFirstMoment;

	private double nextSecondMoment;

	private double nextMaxSecondMoment;

	// The arguments of that evaluation and its answer, so that advance after provesFinite with the same arguments
	// (the usual sequence) does not evaluate again (two pow calls).
	private Hyperparameters lastHyperparameters;

	private long lastStep;

	private boolean lastFloat32;

	private double lastGradScale;

	private double lastClipValue;

	private double lastMaxAbsGrad;

	private double lastMaxAbsParam;

	private boolean lastProven;

	/** Unknown bounds: {@link #provesFinite} answers false until a reset. */
	public StateBounds() {
	}

	/** A tensor whose moments are all zero (before its first step) and whose parameter is bounded by the argument. */
	public void reset(double maxAbsParam) {
		this.lastHyperparameters = null;
		this.firstMoment = 0;
		this.secondMoment = 0;
		this.maxSecondMoment = 0;
		this.parameter = boundOrInfinity(maxAbsParam);
	}

	/** Forgets every bound (e.g. after a step the bounds could not follow); {@link #provesFinite} then fails. */
	public void invalidate() {
		this.lastHyperparameters = null;
		this.firstMoment = Double.POSITIVE_INFINITY;
		this.secondMoment = Double.POSITIVE_INFINITY;
		this.maxSecondMoment = Double.POSITIVE_INFINITY;
		this.parameter = Double.POSITIVE_INFINITY;
	}

	/**
	 * The exact bounds of a float64 state: after a restore, a PUT of parameters, or a dry run. One read of each array.
	 * @param param the held parameter, or {@code null} when the caller sends it with every step (bound unknown)
	 * @param maxSecondMoment amsgrad's maximum, or {@code null}
	 */
	public void resetFromArraysFloat64(double[] param, double[] firstMoment, double[] secondMoment,
			double[] maxSecondMoment) {
		this.lastHyperparameters = null;
		this.parameter = (param != null) ? boundOrInfinity(GradientStatistics.maxAbsFloat64(param))
				: Double.POSITIVE_INFINITY;
		this.firstMoment = boundOrInfinity(GradientStatistics.maxAbsFloat64(firstMoment));
		this.secondMoment = nonNegativeMaxFloat64(secondMoment);
		this.maxSecondMoment = (maxSecondMoment != null) ? nonNegativeMaxFloat64(maxSecondMoment) : 0;
	}

	/** Float32 twin of {@link #resetFromArraysFloat64}. */
	public void resetFromArraysFloat32(float[] param, float[] firstMoment, float[] secondMoment,
			float[] maxSecondMoment) {
		this.lastHyperparameters = null;
		this.parameter = (param != null) ? boundOrInfinity(GradientStatistics.maxAbsFloat32(param))
				: Double.POSITIVE_INFINITY;
		this.firstMoment = boundOrInfinity(GradientStatistics.maxAbsFloat32(firstMoment));
		this.secondMoment = nonNegativeMaxFloat32(secondMoment);
		this.maxSecondMoment = (maxSecondMoment != null) ? nonNegativeMaxFloat32(maxSecondMoment) : 0;
	}

	/** The bound of the held parameter's {@code max |p|} (+inf when unknown): what to pass as {@code maxAbsParam}. */
	public double parameterBound() {
		return this.parameter;
	}

	public double firstMomentBound() {
		return this.firstMoment;
	}

	public double secondMomentBound() {
		return this.secondMoment;
	}

	public double maxSecondMomentBound() {
		return this.maxSecondMoment;
	}

	/**
	 * Whether the moments' bounds are known (finite). The parameter's bound is separate: unknown for a parameter the
	 * caller sends with every step, whose bound it passes to {@link #provesFinite} itself.
	 */
	public boolean momentsKnown() {
		return Double.isFinite(this.firstMoment) && Double.isFinite(this.secondMoment)
				&& Double.isFinite(this.maxSecondMoment);
	}

	/**
	 * Whether the step with these arguments is proven to leave every parameter and moment of the tensor finite (see
	 * the class comment). False means "not proven", not "not finite": run the dry run then.
	 * @param float32 whether the tensor is float32 (the step's arithmetic)
	 * @param gradScale, clipValue as passed to the step
	 * @param maxAbsGrad a bound of the gradient's {@code max |g|} ({@code out[1]} of the gradient statistics)
	 * @param maxAbsParam a bound of the parameter's {@code max |p|} as the step reads it: {@link #parameterBound()}
	 * for a held parameter, the sent parameter's statistics otherwise
	 */
	public boolean provesFinite(Hyperparameters h, long step, boolean float32, double gradScale, double clipValue,
			double maxAbsGrad, double maxAbsParam) {
		return evaluate(h, step, float32, gradScale, clipValue, maxAbsGrad, maxAbsParam);
	}

	/**
	 * Moves the bounds past a step that was applied with these arguments (the same as given to
	 * {@link #provesFinite}), in the apply phase. If the step was not proven finite (it ran after a dry run), the
	 * bounds become unknown: {@link #resetFromArraysFloat64} them.
	 * @param updateSquaredSum what the step returned, {@code Σ (p_new - p_old)²}
	 * @param elements the tensor's number of elements
	 */
	public void advance(Hyperparameters h, long step, boolean float32, double gradScale, double clipValue,
			double maxAbsGrad, double maxAbsParam, double updateSquaredSum, int elements) {
		boolean sameAsLast = h == this.lastHyperparameters && step == this.lastStep && float32 == this.lastFloat32
				&& same(gradScale, this.lastGradScale) && same(clipValue, this.lastClipValue)
				&& same(maxAbsGrad, this.lastMaxAbsGrad) && same(maxAbsParam, this.lastMaxAbsParam);
		boolean proven = sameAsLast ? this.lastProven
				: evaluate(h, step, float32, gradScale, clipValue, maxAbsGrad, maxAbsParam);
		this.lastHyperparameters = null;
		if (!proven) {
			invalidate();
			return;
		}
		this.firstMoment = this.nextFirstMoment;
		this.secondMoment = this.nextSecondMoment;
		this.maxSecondMoment = this.nextMaxSecondMoment;
		this.parameter = boundOrInfinity(maxAbsParam + updateBound(updateSquaredSum, elements, float32));
	}

	/**
	 * A bound of {@code max |p_new - p_old|} from the step's {@code Σ d²} (see the class comment): +inf if the sum is
	 * not finite.
	 */
	static double updateBound(double updateSquaredSum, int elements, boolean float32) {
		if (!(updateSquaredSum >= 0) || updateSquaredSum == Double.POSITIVE_INFINITY) {
			return Double.POSITIVE_INFINITY;
		}
		if (float32) {
			// d rounded to float (2^-24), squared in float (2^-24, underflow below 2^-149), summed in float over 256
			// elements (1.6e-5) and in double over the blocks.
			return Math.sqrt(updateSquaredSum * (1 + 1e-4) + elements * 0x1p-149) * (1 + 1e-6);
		}
		return GradientStatistics.maxAbsBound(updateSquaredSum, elements);
	}

	private static boolean same(double a, double b) {
		return Double.doubleToRawLongBits(a) == Double.doubleToRawLongBits(b);
	}

	private boolean evaluate(Hyperparameters h, long step, boolean float32, double gradScale, double clipValue,
			double maxAbsGrad, double maxAbsParam) {
		boolean proven = evaluateUncached(h, step, float32, gradScale, clipValue, maxAbsGrad, maxAbsParam);
		this.lastHyperparameters = h;
		this.lastStep = step;
		this.lastFloat32 = float32;
		this.lastGradScale = gradScale;
		this.lastClipValue = clipValue;
		this.lastMaxAbsGrad = maxAbsGrad;
		this.lastMaxAbsParam = maxAbsParam;
		this.lastProven = proven;
		return proven;
	}

	private boolean evaluateUncached(Hyperparameters h, long step, boolean float32, double gradScale,
			double clipValue, double maxAbsGrad, double maxAbsParam) {
		if (!momentsKnown() || !(maxAbsGrad >= 0) || !(maxAbsParam >= 0) || !Double.isFinite(gradScale)
				|| !(clipValue >= 0) || step < 1) {
			return false;
		}
		double lr = h.learningRate();
		double stepSize = lr / (1 - AdamKernel.power(h.beta1(), step));
		double biasCorrection2Sqrt = Math.sqrt(1 - AdamKernel.power(h.beta2(), step));
		boolean decoupled = h.algorithm() == Algorithm.ADAMW;
		double decay = decoupled ? 1 - lr * h.weightDecay() : 1.0;
		double l2 = decoupled ? 0.0 : h.weightDecay();
		return float32
				? evaluateFloat32(h, (float) stepSize, (float) biasCorrection2Sqrt, (float) decay, (float) l2,
						(float) Math.abs(gradScale), (float) clipValue, upToFloat(maxAbsGrad), upToFloat(maxAbsParam))
				: evaluateFloat64(h, stepSize, biasCorrection2Sqrt, decay, l2, Math.abs(gradScale), clipValue,
						maxAbsGrad, maxAbsParam);
	}

	private boolean evaluateFloat64(Hyperparameters h, double stepSize, double biasCorrection2Sqrt, double decay,
			double l2, double scale, double clip, double g, double p) {
		double beta1 = h.beta1();
		double beta2 = h.beta2();
		double eps = h.epsilon();
		if (!(eps > 0) || !(biasCorrection2Sqrt > 0) || !Double.isFinite(stepSize)) {
			return false;
		}
		double g1 = Math.min(g * scale, clip);
		double gs;
		double p1;
		if (l2 != 0) {
			gs = Math.fma(p, l2, g1);
			p1 = p;
		}
		else {
			gs = g1;
			p1 = p * Math.abs(decay);
		}
		double m1 = Math.fma(gs, 1 - beta1, this.firstMoment * beta1);
		double v1 = Math.fma((1 - beta2) * gs, gs, this.secondMoment * beta2);
		double w1 = h.amsgrad() ? Math.max(this.maxSecondMoment, v1) : 0;
		double d = (stepSize * m1) / eps;
		double pNew = p1 + d;
		this.nextFirstMoment = m1;
		this.nextSecondMoment = v1;
		this.nextMaxSecondMoment = w1;
		return Double.isFinite(gs) && Double.isFinite(p1) && Double.isFinite(m1) && Double.isFinite(v1)
				&& Double.isFinite(w1) && Double.isFinite(d) && Double.isFinite(pNew);
	}

	private boolean evaluateFloat32(Hyperparameters h, float stepSize, float biasCorrection2Sqrt, float decay,
			float l2, float scale, float clip, float g, float p) {
		float beta1 = (float) h.beta1();
		float beta2 = (float) h.beta2();
		float oneMinusBeta1 = (float) (1 - h.beta1());
		float oneMinusBeta2 = (float) (1 - h.beta2());
		float eps = (float) h.epsilon();
		if (!(eps > 0) || !(biasCorrection2Sqrt > 0) || !Float.isFinite(stepSize)) {
			return false;
		}
		float m = upToFloat(this.firstMoment);
		float v = upToFloat(this.secondMoment);
		float w = upToFloat(this.maxSecondMoment);
		float g1 = Math.min(g * scale, clip);
		float gs;
		float p1;
		if (l2 != 0) {
			gs = Math.fma(p, l2, g1);
			p1 = p;
		}
		else {
			gs = g1;
			p1 = p * Math.abs(decay);
		}
		float m1 = Math.fma(gs, oneMinusBeta1, m * beta1);
		float v1 = Math.fma(oneMinusBeta2 * gs, gs, v * beta2);
		float w1 = h.amsgrad() ? Math.max(w, v1) : 0;
		float d = (stepSize * m1) / eps;
		float pNew = p1 + d;
		this.nextFirstMoment = m1;
		this.nextSecondMoment = v1;
		this.nextMaxSecondMoment = w1;
		return Float.isFinite(gs) && Float.isFinite(p1) && Float.isFinite(m1) && Float.isFinite(v1)
				&& Float.isFinite(w1) && Float.isFinite(d) && Float.isFinite(pNew);
	}

	/** The smallest float {@code >= x} for {@code x >= 0} (+inf beyond the float range, NaN stays NaN). */
	static float upToFloat(double x) {
		float f = (float) x;
		return (f < x) ? Math.nextUp(f) : f;
	}

	private static double boundOrInfinity(double bound) {
		return (bound >= 0 && bound < Double.POSITIVE_INFINITY) ? bound : Double.POSITIVE_INFINITY;
	}

	private static double nonNegativeMaxFloat64(double[] a) {
		double max = 0;
		for (double x : a) {
			if (!(x >= 0)) {
				return Double.POSITIVE_INFINITY;
			}
			max = Math.max(max, x);
		}
		return boundOrInfinity(max);
	}

	private static double nonNegativeMaxFloat32(float[] a) {
		double max = 0;
		for (float x : a) {
			if (!(x >= 0)) {
				return Double.POSITIVE_INFINITY;
			}
			max = Math.max(max, x);
		}
		return boundOrInfinity(max);
	}

}
