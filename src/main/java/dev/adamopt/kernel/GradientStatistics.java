package dev.adamopt.kernel;

/**
 * The gradient statistics of one step, torch's {@code clip_grad_norm_} arithmetic over them, and the search for the
 * first non-finite value: static methods over primitive arrays, one read-only pass each, nothing allocated.
 * <p>
 * A step with clipping by norm reads each gradient twice: once here (all tensors, before any is changed: the clip
 * coefficient depends on every gradient), once in the fused step
 * ({@link AdamKernel#stepFloat64(double[], double[], double[], double[], double[], long, Hyperparameters, double, double)}).
 * <p>
 * Loop shapes, measured with JMH on the 2-core AMD EPYC (Zen 4) build machine, JDK 17 C2 (Caffeine style: what was
 * tried, what it gained):
 * <ul>
 * <li>{@code s += g * g} with one accumulator: 0.92 ns per element in cache (a chain of dependent adds). Eight
 * accumulators with {@link Math#fma}: 0.20 ns (4.6x). C2 does not vectorise floating-point reductions (their order is
 * fixed), so independent chains are what helps; 8 rather than 4: 1.5x.</li>
 * <li>Max |g| beside the sum, as {@code Math.max} of {@code Math.abs} or as a {@code long} max of the sign-cleared
 * bits (NaN's bits above infinity's): 0.71 ns per element, 3.5x the sum alone, so the exact maximum is computed
 * only where it matters (see {@link #gradientStatisticsFloat64}).</li>
 * <li>Accumulating into a small array ({@code acc[k] += g[base + k] * g[base + k]}, 64 or 1024 lanes, to get a
 * vertical, vectorisable sum): slower, 1.3-1.7 ns per element; C2 does not vectorise it either.</li>
 * </ul>
 */
public final class GradientStatistics {

	/** Slots of the {@code out} array of {@link #gradientStatisticsFloat64}. */
	public static final int SUM_OF_SQUARES = 0;

	public static final int MAX_ABS = 1;

	public static final int POWER_SUM = 2;

	private static final long ABS_MASK_64 = 0x7fffffffffffffffL;

	private static final int ABS_MASK_32 = 0x7fffffff;

	private GradientStatistics() {
	}

	/**
	 * The statistics of one tensor's gradient, in one read-only pass (two when the gradient holds a non-finite value
	 * or its squares overflow, or for the infinity norm).
	 * <ul>
	 * <li>{@code out[0]}: {@code Σ g²}, accumulated in double (8 partial sums): the L2 statistics
	 * ({@code gradNorm}) and torch's L2 clipping norm. +inf when the squares overflow (|g| beyond about 1e154), as
	 * torch's own norm does.</li>
	 * <li>{@code out[1]}: an upper bound of {@code max |g|} that is exact wherever the exact value matters: NaN if any
	 * element is NaN, +inf if any is infinite (and none NaN): how the caller detects a non-finite gradient (then
	 * {@link #firstNonFiniteFloat64} gives the index); exactly {@code max |g|} when {@code normType} is infinite or
	 * {@code out[0]} is not finite; otherwise the rigorous bound {@code √(out[0]) (1 + 1e-6) + tiny} (every square is
	 * in the sum, each addition loses at most half an ulp), which is what {@link StateBounds#provesFinite} needs. Not
	 * the exact maximum everywhere because that costs 3.5x the pass (see the class comment).</li>
	 * <li>{@code out[2]}: {@code Σ |g|^p} for {@code p = normType} finite and not 2 (torch's per-tensor
	 * {@code torch.norm(g, p)} before the root); {@code Σ |g|} for p = 1; else 0. Orders other than 1, 2 and infinity
	 * call {@link Math#pow} per element, which is far slower than the rest.</li>
	 * </ul>
	 * @param normType the clipping norm's order (any value for plain statistics: 2)
	 * @param out at least 3 elements, overwritten
	 */
	public static void gradientStatisticsFloat64(double[] grad, double normType, double[] out) {
		int n = grad.length;
		double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
		int i = 0;
		for (; i + 7 < n; i += 8) {
			double a0 = grad[i], a1 = grad[i + 1], a2 = grad[i + 2], a3 = grad[i + 3];
			double a4 = grad[i + 4], a5 = grad[i + 5], a6 = grad[i + 6], a7 = grad[i + 7];
			s0 = Math.fma(a0, a0, s0);
			s1 = Math.fma(a1, a1, s1);
			s2 = Math.fma(a2, a2, s2);
			s3 = Math.fma(a3, a3, s3);
			s4 = Math.fma(a4, a4, s4);
			s5 = Math.fma(a5, a5, s5);
			s6 = Math.fma(a6, a6, s6);
			s7 = Math.fma(a7, a7, s7);
		}
		for (; i < n; i++) {
			s0 = Math.fma(grad[i], grad[i], s0);
		}
		double sumOfSquares = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
		out[SUM_OF_SQUARES] = sumOfSquares;
		out[MAX_ABS] = (normType == Double.POSITIVE_INFINITY || !Double.isFinite(sumOfSquares)) ? maxAbsFloat64(grad)
				: maxAbsBound(sumOfSquares, n);
		out[POWER_SUM] = powerSumFloat64(grad, normType);
	}

	/**
	 * Float32 twin of {@link #gradientStatisticsFloat64}: each element widened to double, where its square is exact,
	 * and summed in double (torch sums a float32 tensor's norm in float; {@link Accumulator} rounds the per-tensor
	 * result to float as torch's is).
	 */
	public static void gradientStatisticsFloat32(float[] grad, double normType, double[] out) {
		int n = grad.length;
		double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
		int i = 0;
		for (; i + 7 < n; i += 8) {
			double a0 = grad[i], a1 = grad[i + 1], a2 = grad[i + 2], a3 = grad[i + 3];
			double a4 = grad[i + 4], a5 = grad[i + 5], a6 = grad[i + 6], a7 = grad[i + 7];
			s0 = Math.fma(a0, a0, s0);
			s1 = Math.fma(a1, a1, s1);
			s2 = Math.fma(a2, a2, s2);
			s3 = Math.fma(a3, a3, s3);
			s4 = Math.fma(a4, a4, s4);
			s5 = Math.fma(a5, a5, s5);
			s6 = Math.fma(a6, a6, s6);
			s7 = Math.fma(a7, a7, s7);
		}
		for (; i < n; i++) {
			double a = grad[i];
			s0 = Math.fma(a, a, s0);
		}
		double sumOfSquares = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
		out[SUM_OF_SQUARES] = sumOfSquares;
		out[MAX_ABS] = (normType == Double.POSITIVE_INFINITY || !Double.isFinite(sumOfSquares)) ? maxAbsFloat32(grad)
				: maxAbsBound(sumOfSquares, n);
		out[POWER_SUM] = powerSumFloat32(grad, normType);
	}

	/**
	 * {@code max |a|}: NaN if any element is NaN, +inf if any is infinite and none NaN, 0 for an empty array. The
	 * maximum of the sign-cleared bits: for non-negative doubles the order of the bits as longs is the numeric order,
	 * and every NaN's bits lie above infinity's.
	 */
	public static double maxAbsFloat64(double[] a) {
		long m0 = 0, m1 = 0;
		int n = a.length;
		int i = 0;
		for (; i + 1 < n; i += 2) {
			m0 = Math.max(m0, Double.doubleToRawLongBits(a[i]) & ABS_MASK_64);
			m1 = Math.max(m1, Double.doubleToRawLongBits(a[i + 1]) & ABS_MASK_64);
		}
		if (i < n) {
			m0 = Math.max(m0, Double.doubleToRawLongBits(a[i]) & ABS_MASK_64);
		}
		return Double.longBitsToDouble(Math.max(m0, m1));
	}

	/** Float32 twin of {@link #maxAbsFloat64}, answered as a double (exact). */
	public static double maxAbsFloat32(float[] a) {
		int m0 = 0, m1 = 0;
		int n = a.length;
		int i = 0;
		for (; i + 1 < n; i += 2) {
			m0 = Math.max(m0, Float.floatToRawIntBits(a[i]) & ABS_MASK_32);
			m1 = Math.max(m1, Float.floatToRawIntBits(a[i + 1]) & ABS_MASK_32);
		}
		if (i < n) {
			m0 = Math.max(m0, Float.floatToRawIntBits(a[i]) & ABS_MASK_32);
		}
		return Float.intBitsToFloat(Math.max(m0, m1));
	}

	/** Index of the first NaN or infinite element, or -1. */
	public static int firstNonFiniteFloat64(double[] a) {
		for (int i = 0; i < a.length; i++) {
			if (!Double.isFinite(a[i])) {
				return i;
			}
		}
		return -1;
	}

	/** Float32 twin of {@link #firstNonFiniteFloat64}. */
	public static int firstNonFiniteFloat32(float[] a) {
		for (int i = 0; i < a.length; i++) {
			if (!Float.isFinite(a[i])) {
				return i;
			}
		}
		return -1;
	}

	/**
	 * An upper bound of {@code max |g|} from a finite {@code Σ g²} computed as above: every square is one of the
	 * terms, and the computed sum of non-negative terms is at least the exact one times {@code (1 - 2^-53)^n} (each
	 * term passes through at most n roundings: {@code >= 1 - 2.4e-7} for n below 2^31), less half the smallest
	 * subnormal per rounding where squares underflow.
	 */
	static double maxAbsBound(double sumOfSquares, int n) {
		return Math.sqrt(sumOfSquares * (1 + 1e-6) + n * Double.MIN_VALUE) * (1 + 1e-6);
	}

	private static double powerSumFloat64(double[] grad, double normType) {
		if (normType == 2 || normType == Double.POSITIVE_INFINITY) {
			return 0;
		}
		int n = grad.length;
		if (normType == 1) {
			double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
			int i = 0;
			for (; i + 3 < n; i += 4) {
				s0 += Math.abs(grad[i]);
				s1 += Math.abs(grad[i + 1]);
				s2 += Math.abs(grad[i + 2]);
				s3 += Math.abs(grad[i + 3]);
			}
			for (; i < n; i++) {
				s0 += Math.abs(grad[i]);
			}
			return (s0 + s1) + (s2 + s3);
		}
		double s = 0;
		for (int i = 0; i < n; i++) {
			s += Math.pow(Math.abs(grad[i]), normType);
		}
		return s;
	}

	private static double powerSumFloat32(float[] grad, double normType) {
		if (normType == 2 || normType == Double.POSITIVE_INFINITY) {
			return 0;
		}
		int n = grad.length;
		if (normType == 1) {
			double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
			int i = 0;
			for (; i + 3 < n; i += 4) {
				s0 += Math.abs(grad[i]);
				s1 += Math.abs(grad[i + 1]);
				s2 += Math.abs(grad[i + 2]);
				s3 += Math.abs(grad[i + 3]);
			}
			for (; i < n; i++) {
				s0 += Math.abs(grad[i]);
			}
			return (s0 + s1) + (s2 + s3);
		}
		double s = 0;
		for (int i = 0; i < n; i++) {
			s += Math.pow(Math.abs(grad[i]), normType);
		}
		return s;
	}

	/**
	 * torch 1.13's {@code clip_grad_norm_} over the tensors of one step, fed one tensor's statistics at a time
	 * (nothing allocated after construction; the session makes one per step). torch computes
	 * <pre>
	 * norms = [torch.norm(g, p) for g in grads]                     # per tensor, in the gradient's dtype
	 * total_norm = torch.norm(torch.stack(norms), p)                # inf: max of g.abs().max()
	 * clip_coef = max_norm / (total_norm + 1e-6)                    # Tensor.__rtruediv__: reciprocal() * max_norm
	 * clip_coef_clamped = torch.clamp(clip_coef, max=1.0)
	 * g.mul_(clip_coef_clamped)                                     # always, also by exactly 1.0
	 * </pre>
	 * This follows it operation for operation: the per-tensor norm is the exactly summed statistic rounded to the
	 * dtype ({@code √Σg²}, {@code Σ|g|}, {@code (Σ|g|^p)^(1/p)}); the norm of the stacked norms is summed in the
	 * dtype's arithmetic in tensor order, as torch's reduction of a short vector does; the coefficient is
	 * {@code (1 / (total + 1e-6)) * maxNorm}, not {@code maxNorm / (total + 1e-6)} (Python's {@code float / Tensor} is
	 * {@code reciprocal() * float}: checked against torch on 2,000 random cases, the quotient differs in the last bit
	 * in about half of them, the reciprocal form in none), in float for float32 tensors.
	 * <p>
	 * Agreement: float64 and the coefficient's arithmetic are exact given torch's per-tensor norms; those differ from
	 * ours by rounding only, because torch sums in its own (vectorised) order: at most 4.4e-15 relative on 500 random
	 * cases each of p = 1, 1.5, 2, 3 (1-5 tensors of up to 3,000 elements), well within the 1e-12 asked. For float32
	 * torch sums each tensor's norm in float, ours is the exact sum rounded once, the closest we can be without
	 * copying the order of torch's AVX2/AVX-512 lanes: torch's total bit for bit in 59 % of 300 random cases (1-20
	 * tensors of up to 3,000 elements) for p = 2, 10 % for p = 1, 23 % for p = 3, and within 1.8e-6 relative in all;
	 * adding up the stacked norms in double instead of in float matched torch less often. The coefficient then
	 * follows torch's float arithmetic exactly: {@code g * coef} matched torch's clipped gradients bit for bit in
	 * 3,000 of 3,000 cases given torch's total.
	 * <p>
	 * Overflow as torch: float32 squares summing beyond {@code Float.MAX_VALUE} make the norm +inf (torch's float
	 * accumulator overflows), so the coefficient is 0.
	 */
	public static final class Accumulator {

		private final boolean float32;

		private final double normType;

		private int count;

		/** Σ over tensors of the squared per-tensor L2 norms, in the dtype's arithmetic. */
		private double l2Sum;

		/** Σ over tensors of the per-tensor p-norms to the p (max for inf, plain sum for 1), in the dtype's arithmetic. */
		private double pSum;

		/**
		 * @param float32 whether the gradients are float32 (torch computes their norms and the coefficient in float)
		 * @param normType the clipping norm's order: {@code >= 1}, or {@link Double#POSITIVE_INFINITY}
		 */
		public Accumulator(boolean float32, double normType) {
			if (!(normType >= 1)) {
				throw new IllegalArgumentException("normType must be >= 1 or infinity, got " + normType);
			}
			this.float32 = float32;
			this.normType = normType;
		}

		/** Forgets every tensor added, to start the next step. */
		public void clear() {
			this.count = 0;
			this.l2Sum = 0;
			this.pSum = 0;
		}

		/** How many tensors were added. */
		public int count() {
			return this.count;
		}

		/**
		 * Adds one tensor's statistics, as {@link #gradientStatisticsFloat64} or {@link #gradientStatisticsFloat32}
		 * wrote them with this accumulator's norm type.
		 */
		public void add(double[] out) {
			double p = this.normType;
			if (this.float32) {
				float l2 = l2NormFloat32(out[SUM_OF_SQUARES]);
				this.l2Sum = (float) this.l2Sum + l2 * l2;
				if (p == Double.POSITIVE_INFINITY) {
					this.pSum = Math.max(this.pSum, (float) out[MAX_ABS]); // NaN wins, as torch's max
				}
				else if (p == 1) {
					this.pSum = (float) this.pSum + (float) out[POWER_SUM];
				}
				else if (p != 2) {
					float norm = (float) Math.pow((float) out[POWER_SUM], 1.0f / (float) p);
					this.pSum = (float) this.pSum + (float) Math.pow(norm, (float) p);
				}
			}
			else {
				double l2 = Math.sqrt(out[SUM_OF_SQUARES]);
				this.l2Sum = this.l2Sum + l2 * l2;
				if (p == Double.POSITIVE_INFINITY) {
					this.pSum = Math.max(this.pSum, out[MAX_ABS]); // NaN wins, as torch's max
				}
				else if (p == 1) {
					this.pSum = this.pSum + out[POWER_SUM];
				}
				else if (p != 2) {
					double norm = Math.pow(out[POWER_SUM], 1.0 / p);
					this.pSum = this.pSum + Math.pow(norm, p);
				}
			}
			this.count++;
		}

		/**
		 * The L2 norm over every gradient added, {@code √(Σ ‖g‖²)} of the per-tensor norms as torch stacks them: the
		 * {@code gradNorm} statistic. In float32 the value is a float, widened.
		 */
		public double l2Norm() {
			if (this.count == 0) {
				return 0;
			}
			return this.float32 ? (float) Math.sqrt((float) this.l2Sum) : Math.sqrt(this.l2Sum);
		}

		/** What {@code clip_grad_norm_} returns for these gradients (0 when none was added, as torch). */
		public double totalNorm() {
			if (this.count == 0) {
				return 0;
			}
			double p = this.normType;
			if (p == 2) {
				return l2Norm();
			}
			if (p == Double.POSITIVE_INFINITY || p == 1) {
				return this.pSum;
			}
			return this.float32 ? (float) Math.pow((float) this.pSum, 1.0f / (float) p) : Math.pow(this.pSum, 1.0 / p);
		}

		/**
		 * torch's {@code clip_coef_clamped} for {@code maxNorm}: {@code min((1 / (totalNorm + 1e-6)) * maxNorm, 1)},
		 * in float for float32 (a float, widened); NaN when the total is NaN (torch's clamp keeps NaN); 1.0 when no
		 * tensor was added (torch then scales nothing). The gradient scale to pass to the step.
		 */
		public double clipCoefficient(double maxNorm) {
			if (this.count == 0) {
				return 1.0;
			}
			double total = totalNorm();
			if (this.float32) {
				float coefficient = (1.0f / ((float) total + 1e-6f)) * (float) maxNorm;
				return Math.min(coefficient, 1.0f); // NaN stays NaN, as torch's clamp
			}
			double coefficient = (1.0 / (total + 1e-6)) * maxNorm;
			return Math.min(coefficient, 1.0);
		}

		private static float l2NormFloat32(double sumOfSquares) {
			// torch's float accumulator, the exact sum rounded once; then sqrtf (a double sqrt of a float rounded to
			// float is the correctly rounded sqrtf).
			return (float) Math.sqrt((float) sumOfSquares);
		}

	}

}
