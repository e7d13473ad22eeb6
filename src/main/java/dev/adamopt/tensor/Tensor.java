package dev.adamopt.tensor;

import java.util.Arrays;

/**
 * A dense row-major tensor as it travels on the wire: a shape and one flat primitive array, float64 or float32. The
 * arrays are shared, not copied: whoever builds a tensor hands over its array.
 */
public final class Tensor {

	/** More dimensions than any real model uses (torch allows 64); also bounds what a request may make us track. */
	public static final int MAX_RANK = 32;

	private final int[] shape;

	private final double[] float64;

	private final float[] float32;

	/** {@link #maxAbs()} once computed; -1 before. Racy but idempotent: every thread computes the same value. */
	private double maxAbs = -1;

	private Tensor(int[] shape, double[] float64, float[] float32) {
		this.shape = shape;
		this.float64 = float64;
		this.float32 = float32;
		long length = checkShape(shape);
		int actual = (float64 != null) ? float64.length : float32.length;
		if (length != actual) {
			throw new IllegalArgumentException(
					"shape " + Arrays.toString(shape) + " holds " + length + " elements, data has " + actual);
		}
	}

	/**
	 * Roughly what a tensor of {@code elements} takes on the heap (its data plus the objects around it); what memory
	 * budgets count.
	 */
	public static long estimatedBytes(long elements, boolean float32) {
		return OVERHEAD_BYTES + elements * (float32 ? Float.BYTES : Double.BYTES);
	}

	/** The tensor, its shape, the array headers and a map entry naming it. */
	public static final int OVERHEAD_BYTES = 128;

	public static Tensor ofFloat64(int[] shape, double[] data) {
		return new Tensor(shape.clone(), requireData(data), null);
	}

	public static Tensor ofFloat32(int[] shape, float[] data) {
		return new Tensor(shape.clone(), null, requireData(data));
	}

	/**
	 * Records {@link #maxAbs()} as the decoder that filled the data computed it on the way (free there: the values
	 * are in registers), so that no later pass reads the data again for it.
	 */
	Tensor withMaxAbs(double maxAbs) {
		this.maxAbs = maxAbs;
		return this;
	}

	/** The number of elements a shape holds; throws if a dimension is negative, the rank too high or the count too large. */
	public static long checkShape(int[] shape) {
		if (shape.length > MAX_RANK) {
			throw new IllegalArgumentException("a tensor may have at most " + MAX_RANK + " dimensions, got " + shape.length);
		}
		long length = 1;
		for (int dim : shape) {
			if (dim < 0) {
				throw new IllegalArgumentException("dimensions must be >= 0, got " + Arrays.toString(shape));
			}
			length *= dim;
			if (length > Integer.MAX_VALUE - 8) {
				throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds more than "
						+ (Integer.MAX_VALUE - 8) + " elements");
			}
		}
		return length;
	}

	private static <T> T requireData(T data) {
		if (data == null) {
			throw new IllegalArgumentException("data must not be null");
		}
		return data;
	}

	public int[] shape() {
		return this.shape.clone();
	}

	public int rank() {
		return this.shape.length;
	}

	public int dimension(int axis) {
		return this.shape[axis];
	}

	public boolean hasShape(int[] other) {
		return Arrays.equals(this.shape, other);
	}

	public int size() {
		return (this.float64 != null) ? this.float64.length : this.float32.length;
	}

	public boolean isFloat32() {
		return this.float32 != null;
	}

	/** The float64 data, shared; {@code null} for a float32 tensor. */
	public double[] float64() {
		return this.float64;
	}

	/** The float32 data, shared; {@code null} for a float64 tensor. */
	public float[] float32() {
		return this.float32;
	}

	/**
	 * The largest magnitude of the elements (0 for an empty tensor), NaN if any element is NaN, infinity if any is
	 * infinite: whether a tensor is finite, and how far a step can move it. Computed by the decoder that filled the
	 * data, else by one read of it, then remembered: it describes the data as decoded (a step that answers in the
	 * request's own arrays changes them after it was read).
	 */
	public double maxAbs() {
		double known = this.maxAbs;
		if (known >= 0 || Double.isNaN(known)) {
			return known;
		}
		double max = 0;
		if (this.float64 != null) {
			for (double value : this.float64) {
				max = Math.max(max, Math.abs(value));
			}
		}
		else {
			for (float value : this.float32) {
				max = Math.max(max, Math.abs(value));
			}
		}
		this.maxAbs = max;
		return max;
	}

	/** The flat index of the first NaN or infinite element, -1 if all are finite. */
	public int firstNonFinite() {
		if (Double.isFinite(maxAbs())) {
			return -1;
		}
		for (int i = 0; i < size(); i++) {
			if (!Double.isFinite(get(i))) {
				return i;
			}
		}
		return -1;
	}

	/** Element {@code i} of the flat data, widened to double. */
	public double get(int i) {
		return (this.float64 != null) ? this.float64[i] : this.float32[i];
	}

	@Override
	public String toString() {
		return "Tensor" + Arrays.toString(this.shape) + (isFloat32() ? " float32" : " float64");
	}

}
