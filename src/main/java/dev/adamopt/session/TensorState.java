package dev.adamopt.session;

import java.util.Arrays;

import dev.adamopt.kernel.AdamKernel;
import dev.adamopt.kernel.GradientStatistics;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.kernel.StateBounds;
import dev.adamopt.memory.RequestMemory;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;

/**
 * The optimizer state of one tensor (the article's {@code v}, {@code s} and the tensor's own {@code t}) in the
 * session's precision, plus the parameter when the session holds it. Not thread-safe: the session serializes access.
 * <p>
 * Changes go in two phases so a step is all or nothing: {@link #prepare} checks and converts the inputs and allocates
 * everything the step and its answer need (charged to the request's memory first) without touching state;
 * {@link Update#apply} then allocates nothing and cannot fail, not even for want of memory.
 */
abstract sealed class TensorState permits TensorState.Float64, TensorState.Float32 {

	static {
		warmUp();
	}

	private static final String ANSWER = "the step's answer";

	private static final String CONVERSION = "converting the request's tensors to the session's precision";

	private static final String CHECKPOINT = "copying the session's state for its checkpoint";

	final String name;

	private final int[] shape;

	final int size;

	long step;

	/** The index of the tensor's parameter group, -1 for the default group; fixed with the tensor. */
	int group = -1;

	/** Bounds of the state's magnitudes, that prove most steps finite without reading the state. */
	final StateBounds bounds = new StateBounds();

	TensorState(String name, int[] shape) {
		this.name = name;
		this.shape = shape;
		this.size = (int) Tensor.checkShape(shape);
		// zero moments; the parameter's bound comes with it (held: when it is held, sent: with each step)
		this.bounds.reset(Double.POSITIVE_INFINITY);
	}

	/** A new state with zero moments (and zero maximum when {@code amsgrad}); allocates {@link #stateBytes}. */
	static TensorState create(String name, int[] shape, Precision precision, boolean amsgrad) {
		return (precision == Precision.FLOAT64) ? new Float64(name, shape, amsgrad) : new Float32(name, shape, amsgrad);
	}

	/** The bytes a new state of this shape allocates: its moments, and the maximum when {@code amsgrad}. */
	static long stateBytes(int[] shape, Precision precision, boolean amsgrad) {
		return (amsgrad ? 3 : 2) * elementBytes(Tensor.checkShape(shape), precision) + Tensor.OVERHEAD_BYTES;
	}

	/** The bytes a held parameter of this shape takes. */
	static long parameterBytes(int[] shape, Precision precision) {
		return elementBytes(Tensor.checkShape(shape), precision);
	}

	private static long elementBytes(long elements, Precision precision) {
		return elements * ((precision == Precision.FLOAT64) ? Double.BYTES : Float.BYTES);
	}

	int[] shape() {
		return this.shape.clone();
	}

	boolean hasShape(Tensor tensor) {
		return tensor.hasShape(this.shape);
	}

	String shapeText() {
		return Arrays.toString(this.shape);
	}

	abstract boolean holdsParameter();

	/**
	 * Checks and converts one step's inputs and allocates the answer. {@code parameter} is {@code null} when the
	 * session holds it; {@code gradient} is {@code null} when the tensor gets no gradient this step. Shapes are
	 * checked by the caller.
	 */
	abstract Update prepare(Tensor parameter, Tensor gradient);

	/**
	 * Checks and converts a parameter to hold into an array of the session's own (the caller has reserved
	 * {@link #parameterBytes} for it); running the result makes the state hold it (moments kept) and cannot fail.
	 */
	abstract Runnable prepareHold(Tensor parameter);

	/** Sets the bounds from the state's arrays (one read of them): after a restore, a hold, an unproven step. */
	abstract void resetBounds();

	/** A copy of the held parameter. */
	abstract Tensor heldParameter();

	/** The held parameter's own array, for an owner that keeps it once the state lets go of it. */
	abstract Tensor heldParameterShared();

	/** A copy of the state, charged to the request's memory. */
	abstract TensorCheckpoint checkpoint();

	/** Sets the state from a checkpoint already checked for shape and consistency. */
	abstract void restore(TensorCheckpoint checkpoint, boolean holdsParameter);

	/**
	 * Runs every kind of update once on one-element tensors, so that every class a step's apply phase uses (the
	 * kernel's tables among them) is loaded and initialized before any real step: class initialization allocates,
	 * and the apply phase must not.
	 */
	private static void warmUp() {
		int[] shape = { 1 };
		for (Precision precision : Precision.values()) {
			for (boolean amsgrad : new boolean[] { false, true }) {
				for (dev.adamopt.kernel.Algorithm algorithm : dev.adamopt.kernel.Algorithm.values()) {
					Hyperparameters defaults = Hyperparameters.defaults(algorithm);
					Hyperparameters h = new Hyperparameters(algorithm, defaults.learningRate(), defaults.beta1(),
							defaults.beta2(), defaults.epsilon(), 0.01, amsgrad, false);
					TensorState state = create("warm-up", shape, precision, amsgrad);
					state.prepareHold(Tensor.ofFloat64(shape, new double[] { 1 })).run();
					for (Tensor parameter : new Tensor[] { null, Tensor.ofFloat64(shape, new double[] { 1 }),
							Tensor.ofFloat32(shape, new float[] { 1 }) }) {
						for (int i = 0; i < 2; i++) {
							double[] out = new double[3];
							Update update = state.prepare(parameter, Tensor.ofFloat64(shape, new double[] { 0.5 }));
							update.gradientStatistics(2, out);
							update.gradientStatistics(1, out);
							update.firstNonFiniteGradient();
							update.firstNonFiniteResult(h, 1.0, Double.POSITIVE_INFINITY, out[1]);
							update.apply(h, (i == 0) ? 1.0 : 0.5, (i == 0) ? Double.POSITIVE_INFINITY : 0.25, out[1]);
							update.answerUnchanged();
						}
					}
				}
			}
		}
	}

	/** float32 values widened, exactly, into {@code target}. */
	static void widen(float[] source, double[] target) {
		for (int i = 0; i < source.length; i++) {
			target[i] = source[i];
		}
	}

	/** Each double rounded to the nearest float into {@code target} (exact for values that came from float32). */
	static void narrow(double[] source, float[] target) {
		for (int i = 0; i < source.length; i++) {
			target[i] = (float) source[i];
		}
	}

	static double[] newDoubles(int size, String what) {
		RequestMemory.charge((long) size * Double.BYTES, what);
		return new double[size];
	}

	static float[] newFloats(int size, String what) {
		RequestMemory.charge((long) size * Float.BYTES, what);
		return new float[size];
	}

	/**
	 * A prepared change. Everything but {@link #apply} and {@link #answerUnchanged} only reads; those two allocate
	 * nothing and cannot fail.
	 */
	interface Update {

		/** Whether the tensor has a gradient in this step. */
		boolean hasGradient();

		/** {@link GradientStatistics} of the gradient as the step uses it (in the session's precision). */
		void gradientStatistics(double normType, double[] out);

		/** The flat index of the gradient's first NaN or infinite element, -1 if it has none. */
		int firstNonFiniteGradient();

		/** Element {@code i} of the gradient as the step uses it. */
		double gradient(int i);

		/**
		 * The flat index of the first element whose parameter or moments this step would make NaN or infinite, -1 if
		 * none would: proven from the tensor's bounds where they allow it, else found by a dry run (read only).
		 */
		int firstNonFiniteResult(Hyperparameters hyperparameters, double gradScale, double clipValue, double maxAbsGrad);

		/** Applies the step; the sum of the squared changes of the parameter. */
		double apply(Hyperparameters hyperparameters, double gradScale, double clipValue, double maxAbsGrad);

		/** For a step that is skipped: the answer is the parameter as it is. */
		void answerUnchanged();

		/**
		 * The parameter as the answer gives it, filled in by {@link #apply}: the request's own array where possible,
		 * else one allocated by {@link #prepare}.
		 */
		Tensor answer();

	}

	/**
	 * What the two precisions' updates share: whether the step is proven finite or needs its dry run, the tensor's
	 * step count, and moving the bounds past the step. The twins give the arithmetic.
	 */
	private abstract class PreparedStep implements Update {

		private final boolean hasGradient;

		/** The sent parameter's largest magnitude (the decoder measured it); -1: the held parameter's bound. */
		private final double maxAbsParam;

		private final Tensor answer;

		/** Whether the bounds could not prove this step finite, so they are recomputed after it. */
		private boolean unproven;

		/** The bound of the parameter's magnitude the step was checked with. */
		private double paramBound = Double.POSITIVE_INFINITY;

		PreparedStep(boolean hasGradient, double maxAbsParam, Tensor answer) {
			this.hasGradient = hasGradient;
			this.maxAbsParam = maxAbsParam;
			this.answer = answer;
		}

		/** The read-only dry run of step {@code step}: the first non-finite index, or -1. */
		abstract int dryRun(Hyperparameters h, long step, double gradScale, double clipValue);

		/** Step {@code step} itself: the sum of the squared changes of the parameter. */
		abstract double step(Hyperparameters h, long step, double gradScale, double clipValue);

		@Override
		public boolean hasGradient() {
			return this.hasGradient;
		}

		@Override
		public int firstNonFiniteResult(Hyperparameters h, double gradScale, double clipValue, double maxAbsGrad) {
			if (!this.hasGradient) {
				return -1;
			}
			TensorState state = TensorState.this;
			this.paramBound = (this.maxAbsParam >= 0) ? this.maxAbsParam : state.bounds.parameterBound();
			if (state.bounds.provesFinite(h, state.step + 1, state instanceof Float32, gradScale, clipValue,
					maxAbsGrad, this.paramBound)) {
				return -1;
			}
			this.unproven = true;
			return dryRun(h, state.step + 1, gradScale, clipValue);
		}

		@Override
		public double apply(Hyperparameters h, double gradScale, double clipValue, double maxAbsGrad) {
			double changed = 0;
			TensorState state = TensorState.this;
			if (this.hasGradient) {
				state.step++;
				changed = step(h, state.step, gradScale, clipValue);
				if (this.unproven) {
					state.resetBounds();
				}
				else {
					state.bounds.advance(h, state.step, state instanceof Float32, gradScale, clipValue, maxAbsGrad,
							this.paramBound, changed, state.size);
				}
			}
			answerUnchanged();
			return changed;
		}

		@Override
		public Tensor answer() {
			return this.answer;
		}

	}

	static final class Float64 extends TensorState {

		private final double[] firstMoment;

		private final double[] secondMoment;

		/** torch's {@code max_exp_avg_sq}; only with amsgrad. */
		private final double[] maxSecondMoment;

		private double[] parameter;

		Float64(String name, int[] shape, boolean amsgrad) {
			super(name, shape);
			this.firstMoment = new double[this.size];
			this.secondMoment = new double[this.size];
			this.maxSecondMoment = amsgrad ? new double[this.size] : null;
		}

		@Override
		boolean holdsParameter() {
			return this.parameter != null;
		}

		@Override
		Update prepare(Tensor parameter, Tensor gradient) {
			double[] p = (parameter != null) ? toFloat64(parameter) : this.parameter;
			double[] g = (gradient != null) ? toFloat64(gradient) : null;
			Tensor answer;
			float[] narrowed = null;
			double[] copy = null;
			if (parameter == null) {
				copy = newDoubles(this.size, ANSWER);
				answer = Tensor.ofFloat64(shape(), copy);
			}
			else if (parameter.isFloat32()) {
				// answered in the dtype it was sent, in the request's own array: float32 in, float32 out
				narrowed = parameter.float32();
				answer = parameter;
			}
			else {
				answer = parameter;
			}
			float[] narrowTo = narrowed;
			double[] copyTo = copy;
			double maxAbsParam = (parameter != null) ? parameter.maxAbs() : -1;
			return new PreparedStep((g != null), maxAbsParam, answer) {

				@Override
				public void gradientStatistics(double normType, double[] out) {
					GradientStatistics.gradientStatisticsFloat64(g, normType, out);
				}

				@Override
				public int firstNonFiniteGradient() {
					return GradientStatistics.firstNonFiniteFloat64(g);
				}

				@Override
				public double gradient(int i) {
					return g[i];
				}

				@Override
				int dryRun(Hyperparameters h, long step, double gradScale, double clipValue) {
					Float64 state = Float64.this;
					return AdamKernel.firstNonFiniteResultFloat64(p, g, state.firstMoment, state.secondMoment,
							state.maxSecondMoment, step, h, gradScale, clipValue);
				}

				@Override
				double step(Hyperparameters h, long step, double gradScale, double clipValue) {
					Float64 state = Float64.this;
					return AdamKernel.stepFloat64(p, g, state.firstMoment, state.secondMoment, state.maxSecondMoment,
							step, h, gradScale, clipValue);
				}

				@Override
				public void answerUnchanged() {
					if (copyTo != null) {
						System.arraycopy(p, 0, copyTo, 0, p.length);
					}
					else if (narrowTo != null) {
						narrow(p, narrowTo);
					}
				}
			};
		}

		@Override
		void resetBounds() {
			this.bounds.resetFromArraysFloat64(this.parameter, this.firstMoment, this.secondMoment, this.maxSecondMoment);
		}

		@Override
		Runnable prepareHold(Tensor parameter) {
			double[] held = new double[this.size];
			copyInto(parameter, held);
			return () -> {
				this.parameter = held;
				resetBounds();
			};
		}

		@Override
		Tensor heldParameter() {
			return Tensor.ofFloat64(shape(), copyOf(this.parameter));
		}

		@Override
		Tensor heldParameterShared() {
			return Tensor.ofFloat64(shape(), this.parameter);
		}

		@Override
		TensorCheckpoint checkpoint() {
			int[] shape = shape();
			return new TensorCheckpoint(this.step, Tensor.ofFloat64(shape, copyOf(this.firstMoment)),
					Tensor.ofFloat64(shape, copyOf(this.secondMoment)),
					(this.maxSecondMoment != null) ? Tensor.ofFloat64(shape, copyOf(this.maxSecondMoment)) : null,
					(this.parameter != null) ? Tensor.ofFloat64(shape, copyOf(this.parameter)) : null);
		}

		private static double[] copyOf(double[] source) {
			double[] copy = newDoubles(source.length, CHECKPOINT);
			System.arraycopy(source, 0, copy, 0, source.length);
			return copy;
		}

		@Override
		void restore(TensorCheckpoint checkpoint, boolean holdsParameter) {
			this.step = checkpoint.step();
			copyInto(checkpoint.firstMoment(), this.firstMoment);
			copyInto(checkpoint.secondMoment(), this.secondMoment);
			if (this.maxSecondMoment != null) {
				copyInto(checkpoint.maxSecondMoment(), this.maxSecondMoment);
			}
			if (holdsParameter) {
				this.parameter = new double[this.size];
				copyInto(checkpoint.parameter(), this.parameter);
			}
			resetBounds();
		}

		/** Copies or widens (exactly) the tensor's values into {@code target}. */
		private static void copyInto(Tensor from, double[] target) {
			if (from.isFloat32()) {
				widen(from.float32(), target);
			}
			else {
				System.arraycopy(from.float64(), 0, target, 0, target.length);
			}
		}

		/** The tensor's float64 data: shared when it is float64, widened (exactly) into a new array when float32. */
		private static double[] toFloat64(Tensor tensor) {
			if (!tensor.isFloat32()) {
				return tensor.float64();
			}
			double[] widened = newDoubles(tensor.size(), CONVERSION);
			widen(tensor.float32(), widened);
			return widened;
		}

	}

	static final class Float32 extends TensorState {

		private final float[] firstMoment;

		private final float[] secondMoment;

		/** torch's {@code max_exp_avg_sq}; only with amsgrad. */
		private final float[] maxSecondMoment;

		private float[] parameter;

		Float32(String name, int[] shape, boolean amsgrad) {
			super(name, shape);
			this.firstMoment = new float[this.size];
			this.secondMoment = new float[this.size];
			this.maxSecondMoment = amsgrad ? new float[this.size] : null;
		}

		@Override
		boolean holdsParameter() {
			return this.parameter != null;
		}

		@Override
		Update prepare(Tensor parameter, Tensor gradient) {
			float[] p = (parameter != null) ? toFloat32(parameter, "parameter", this.name) : this.parameter;
			// a gradient beyond float32's range overflows to infinity, as torch's conversion does: non-finite
			float[] g = (gradient != null) ? toFloat32(gradient, null, this.name) : null;
			Tensor answer;
			double[] widened = null;
			float[] copy = null;
			if (parameter == null) {
				copy = newFloats(this.size, ANSWER);
				answer = Tensor.ofFloat32(shape(), copy);
			}
			else if (!parameter.isFloat32()) {
				// answered in the dtype it was sent, in the request's own array: float64 in, float64 out (the float32
				// value, widened)
				widened = parameter.float64();
				answer = parameter;
			}
			else {
				answer = parameter;
			}
			double[] widenTo = widened;
			float[] copyTo = copy;
			double maxAbsParam = (parameter != null) ? parameter.maxAbs() : -1;
			return new PreparedStep((g != null), maxAbsParam, answer) {

				@Override
				public void gradientStatistics(double normType, double[] out) {
					GradientStatistics.gradientStatisticsFloat32(g, normType, out);
				}

				@Override
				public int firstNonFiniteGradient() {
					return GradientStatistics.firstNonFiniteFloat32(g);
				}

				@Override
				public double gradient(int i) {
					return g[i];
				}

				@Override
				int dryRun(Hyperparameters h, long step, double gradScale, double clipValue) {
					Float32 state = Float32.this;
					return AdamKernel.firstNonFiniteResultFloat32(p, g, state.firstMoment, state.secondMoment,
							state.maxSecondMoment, step, h, gradScale, clipValue);
				}

				@Override
				double step(Hyperparameters h, long step, double gradScale, double clipValue) {
					Float32 state = Float32.this;
					return AdamKernel.stepFloat32(p, g, state.firstMoment, state.secondMoment, state.maxSecondMoment,
							step, h, gradScale, clipValue);
				}

				@Override
				public void answerUnchanged() {
					if (copyTo != null) {
						System.arraycopy(p, 0, copyTo, 0, p.length);
					}
					else if (widenTo != null) {
						widen(p, widenTo);
					}
				}
			};
		}

		@Override
		void resetBounds() {
			this.bounds.resetFromArraysFloat32(this.parameter, this.firstMoment, this.secondMoment, this.maxSecondMoment);
		}

		@Override
		Runnable prepareHold(Tensor parameter) {
			float[] held = new float[this.size];
			copyInto(parameter, held, "parameter", this.name);
			return () -> {
				this.parameter = held;
				resetBounds();
			};
		}

		@Override
		Tensor heldParameter() {
			return Tensor.ofFloat32(shape(), copyOf(this.parameter));
		}

		@Override
		Tensor heldParameterShared() {
			return Tensor.ofFloat32(shape(), this.parameter);
		}

		@Override
		TensorCheckpoint checkpoint() {
			int[] shape = shape();
			return new TensorCheckpoint(this.step, Tensor.ofFloat32(shape, copyOf(this.firstMoment)),
					Tensor.ofFloat32(shape, copyOf(this.secondMoment)),
					(this.maxSecondMoment != null) ? Tensor.ofFloat32(shape, copyOf(this.maxSecondMoment)) : null,
					(this.parameter != null) ? Tensor.ofFloat32(shape, copyOf(this.parameter)) : null);
		}

		private static float[] copyOf(float[] source) {
			float[] copy = newFloats(source.length, CHECKPOINT);
			System.arraycopy(source, 0, copy, 0, source.length);
			return copy;
		}

		@Override
		void restore(TensorCheckpoint checkpoint, boolean holdsParameter) {
			float[] param = null;
			if (holdsParameter) {
				param = new float[this.size];
				copyInto(checkpoint.parameter(), param, "parameter", this.name);
			}
			// every value is checked (and may throw) before any of the state changes
			copyInto(checkpoint.firstMoment(), this.firstMoment, "firstMoment", this.name);
			copyInto(checkpoint.secondMoment(), this.secondMoment, "secondMoment", this.name);
			if (this.maxSecondMoment != null) {
				copyInto(checkpoint.maxSecondMoment(), this.maxSecondMoment, "maxSecondMoment", this.name);
			}
			this.parameter = param;
			this.step = checkpoint.step();
			resetBounds();
		}

		/**
		 * The tensor's float32 data: shared when it is float32, else each double rounded to the nearest float (exact
		 * for values that came from float32) into a new array.
		 */
		static float[] toFloat32(Tensor tensor, String role, String name) {
			if (tensor.isFloat32()) {
				return tensor.float32();
			}
			float[] target = newFloats(tensor.size(), CONVERSION);
			copyInto(tensor, target, role, name);
			return target;
		}

		/** Copies or rounds the tensor's values into {@code target}; refuses values beyond float32's range. */
		static void copyInto(Tensor tensor, float[] target, String role, String name) {
			if (tensor.isFloat32()) {
				System.arraycopy(tensor.float32(), 0, target, 0, target.length);
				return;
			}
			double[] source = tensor.float64();
			for (int i = 0; i < source.length; i++) {
				float value = (float) source[i];
				if (role != null && Float.isInfinite(value) && !Double.isInfinite(source[i])) {
					throw new SessionException(Reason.TENSOR_MISMATCH, role + " '" + name + "' holds " + source[i]
							+ " at flat index " + i + ", beyond float32's range (about 3.4e38) of this float32 session");
				}
				target[i] = value;
			}
		}

	}

}
