package dev.adamopt.session;

import java.util.Arrays;

import dev.adamopt.kernel.AdamKernel;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;

/**
 * The optimizer state of one tensor (the article's {@code v}, {@code s} and the tensor's own {@code t}) in the
 * session's precision, plus the parameter when the session holds it. Not thread-safe: the session serializes access.
 * <p>
 * Changes go in two phases so a step is all or nothing: {@link #prepare} checks and converts the inputs without
 * touching state, {@link Update#apply} then cannot fail.
 */
abstract sealed class TensorState permits TensorState.Float64, TensorState.Float32 {

	final String name;

	private final int[] shape;

	long step;

	TensorState(String name, int[] shape) {
		this.name = name;
		this.shape = shape;
	}

	static TensorState create(String name, int[] shape, Precision precision) {
		return (precision == Precision.FLOAT64) ? new Float64(name, shape) : new Float32(name, shape);
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
	 * Checks and converts one step's inputs. {@code parameter} is {@code null} when the session holds it;
	 * {@code gradient} is {@code null} when the tensor gets no gradient this step. Shapes are checked by the caller.
	 */
	abstract Update prepare(Tensor parameter, Tensor gradient, boolean amsgrad);

	/** Checks and converts a parameter to hold; running the result makes the session hold it (moments kept). */
	abstract Runnable prepareHold(Tensor parameter);

	/** A copy of the held parameter. */
	abstract Tensor heldParameter();

	abstract TensorCheckpoint checkpoint(boolean amsgrad);

	/** Sets the state from a checkpoint already checked for shape and consistency. */
	abstract void restore(TensorCheckpoint checkpoint, boolean amsgrad, boolean holdsParameter);

	/** float32 values widened, exactly, to a new double array. */
	static double[] widen(float[] source) {
		double[] target = new double[source.length];
		for (int i = 0; i < source.length; i++) {
			target[i] = source[i];
		}
		return target;
	}

	/** A prepared change: applying it cannot fail. */
	interface Update {

		void apply(Hyperparameters hyperparameters);

		/** The parameter after {@link #apply}: the request's own array where possible, else a copy. */
		Tensor parameter();

	}

	static final class Float64 extends TensorState {

		private final double[] firstMoment;

		private final double[] secondMoment;

		private double[] maxSecondMoment;

		private double[] parameter;

		Float64(String name, int[] shape) {
			super(name, shape);
			int size = (int) Tensor.checkShape(shape);
			this.firstMoment = new double[size];
			this.secondMoment = new double[size];
		}

		@Override
		boolean holdsParameter() {
			return this.parameter != null;
		}

		@Override
		Update prepare(Tensor parameter, Tensor gradient, boolean amsgrad) {
			double[] p = (parameter != null) ? toFloat64(parameter) : this.parameter;
			double[] g = (gradient != null) ? toFloat64(gradient) : null;
			int[] shape = shape();
			return new Update() {
				@Override
				public void apply(Hyperparameters hyperparameters) {
					if (g == null) {
						return;
					}
					if (amsgrad && Float64.this.maxSecondMoment == null) {
						Float64.this.maxSecondMoment = new double[p.length];
					}
					Float64.this.step++;
					AdamKernel.stepFloat64(p, g, Float64.this.firstMoment, Float64.this.secondMoment,
							Float64.this.maxSecondMoment, Float64.this.step, hyperparameters);
				}

				@Override
				public Tensor parameter() {
					if (parameter == null) {
						return Tensor.ofFloat64(shape, p.clone());
					}
					// answered in the dtype it was sent: float32 in, float32 out
					return parameter.isFloat32() ? Tensor.ofFloat32(shape, narrow(p)) : Tensor.ofFloat64(shape, p);
				}
			};
		}

		@Override
		Runnable prepareHold(Tensor parameter) {
			double[] held = ownFloat64(parameter);
			return () -> this.parameter = held;
		}

		private static float[] narrow(double[] source) {
			float[] target = new float[source.length];
			for (int i = 0; i < source.length; i++) {
				target[i] = (float) source[i];
			}
			return target;
		}

		@Override
		Tensor heldParameter() {
			return Tensor.ofFloat64(shape(), this.parameter.clone());
		}

		@Override
		TensorCheckpoint checkpoint(boolean amsgrad) {
			int[] shape = shape();
			return new TensorCheckpoint(this.step, Tensor.ofFloat64(shape, this.firstMoment.clone()),
					Tensor.ofFloat64(shape, this.secondMoment.clone()),
					amsgrad ? Tensor.ofFloat64(shape, maxOrZeros()) : null,
					(this.parameter != null) ? Tensor.ofFloat64(shape, this.parameter.clone()) : null);
		}

		private double[] maxOrZeros() {
			return (this.maxSecondMoment != null) ? this.maxSecondMoment.clone() : new double[this.firstMoment.length];
		}

		@Override
		void restore(TensorCheckpoint checkpoint, boolean amsgrad, boolean holdsParameter) {
			this.step = checkpoint.step();
			copy(checkpoint.firstMoment(), this.firstMoment);
			copy(checkpoint.secondMoment(), this.secondMoment);
			this.maxSecondMoment = amsgrad ? ownFloat64(checkpoint.maxSecondMoment()) : null;
			this.parameter = holdsParameter ? ownFloat64(checkpoint.parameter()) : null;
		}

		private static void copy(Tensor from, double[] to) {
			double[] source = toFloat64(from);
			System.arraycopy(source, 0, to, 0, to.length);
		}

		/** The tensor's float64 data: shared when it is float64, widened (exactly) when float32. */
		private static double[] toFloat64(Tensor tensor) {
			return tensor.isFloat32() ? widen(tensor.float32()) : tensor.float64();
		}

		/** The tensor's float64 data in an array of the session's own: copied or widened, never both. */
		private static double[] ownFloat64(Tensor tensor) {
			return tensor.isFloat32() ? widen(tensor.float32()) : tensor.float64().clone();
		}

	}

	static final class Float32 extends TensorState {

		private final float[] firstMoment;

		private final float[] secondMoment;

		private float[] maxSecondMoment;

		private float[] parameter;

		Float32(String name, int[] shape) {
			super(name, shape);
			int size = (int) Tensor.checkShape(shape);
			this.firstMoment = new float[size];
			this.secondMoment = new float[size];
		}

		@Override
		boolean holdsParameter() {
			return this.parameter != null;
		}

		@Override
		Update prepare(Tensor parameter, Tensor gradient, boolean amsgrad) {
			float[] p = (parameter != null) ? toFloat32(parameter, "parameter", this.name) : this.parameter;
			float[] g = (gradient != null) ? toFloat32(gradient, "gradient", this.name) : null;
			int[] shape = shape();
			return new Update() {
				@Override
				public void apply(Hyperparameters hyperparameters) {
					if (g == null) {
						return;
					}
					if (amsgrad && Float32.this.maxSecondMoment == null) {
						Float32.this.maxSecondMoment = new float[p.length];
					}
					Float32.this.step++;
					AdamKernel.stepFloat32(p, g, Float32.this.firstMoment, Float32.this.secondMoment,
							Float32.this.maxSecondMoment, Float32.this.step, hyperparameters);
				}

				@Override
				public Tensor parameter() {
					if (parameter == null) {
						return Tensor.ofFloat32(shape, p.clone());
					}
					// answered in the dtype it was sent: float64 in, float64 out (the float32 value, widened)
					return parameter.isFloat32() ? Tensor.ofFloat32(shape, p) : Tensor.ofFloat64(shape, widen(p));
				}
			};
		}

		@Override
		Runnable prepareHold(Tensor parameter) {
			float[] held = ownFloat32(parameter, "parameter", this.name);
			return () -> this.parameter = held;
		}

		@Override
		Tensor heldParameter() {
			return Tensor.ofFloat32(shape(), this.parameter.clone());
		}

		@Override
		TensorCheckpoint checkpoint(boolean amsgrad) {
			int[] shape = shape();
			return new TensorCheckpoint(this.step, Tensor.ofFloat32(shape, this.firstMoment.clone()),
					Tensor.ofFloat32(shape, this.secondMoment.clone()),
					amsgrad ? Tensor.ofFloat32(shape, (this.maxSecondMoment != null) ? this.maxSecondMoment.clone()
							: new float[this.firstMoment.length]) : null,
					(this.parameter != null) ? Tensor.ofFloat32(shape, this.parameter.clone()) : null);
		}

		@Override
		void restore(TensorCheckpoint checkpoint, boolean amsgrad, boolean holdsParameter) {
			this.step = checkpoint.step();
			float[] first = toFloat32(checkpoint.firstMoment(), "firstMoment", this.name);
			float[] second = toFloat32(checkpoint.secondMoment(), "secondMoment", this.name);
			float[] max = amsgrad ? ownFloat32(checkpoint.maxSecondMoment(), "maxSecondMoment", this.name) : null;
			float[] param = holdsParameter ? ownFloat32(checkpoint.parameter(), "parameter", this.name) : null;
			System.arraycopy(first, 0, this.firstMoment, 0, first.length);
			System.arraycopy(second, 0, this.secondMoment, 0, second.length);
			this.maxSecondMoment = max;
			this.parameter = param;
		}

		/** The tensor's float32 data in an array of the session's own: copied or rounded, never both. */
		static float[] ownFloat32(Tensor tensor, String role, String name) {
			return tensor.isFloat32() ? tensor.float32().clone() : toFloat32(tensor, role, name);
		}

		/**
		 * The tensor's float32 data: shared when it is float32, else each double rounded to the nearest float (exact
		 * for values that came from float32).
		 */
		static float[] toFloat32(Tensor tensor, String role, String name) {
			if (tensor.isFloat32()) {
				return tensor.float32();
			}
			double[] source = tensor.float64();
			float[] target = new float[source.length];
			for (int i = 0; i < source.length; i++) {
				float value = (float) source[i];
				if (Float.isInfinite(value)) {
					throw new SessionException(Reason.TENSOR_MISMATCH, role + " '" + name + "' holds " + source[i]
							+ " at flat index " + i + ", beyond float32's range (about 3.4e38) of this float32 session");
				}
				target[i] = value;
			}
			return target;
		}

	}

}
