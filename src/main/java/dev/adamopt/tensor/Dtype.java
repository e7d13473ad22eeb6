package dev.adamopt.tensor;

/** The safetensors element types this service reads; F16 and BF16 only widen to float. */
public enum Dtype {

	F64(8), F32(4), F16(2), BF16(2);

	private final int size;

	Dtype(int size) {
		this.size = size;
	}

	/** Bytes per element. */
	public int size() {
		return this.size;
	}

	static Dtype of(String name) {
		for (Dtype dtype : values()) {
			if (dtype.name().equals(name)) {
				return dtype;
			}
		}
		throw new SafetensorsException("unknown dtype '" + name + "': use F64, F32 (or F16, BF16 for gradients)");
	}

}
