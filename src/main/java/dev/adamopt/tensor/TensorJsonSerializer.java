package dev.adamopt.tensor;

import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.ValueSerializer;

/**
 * Writes a tensor as nested arrays in its own shape, number by number straight from the primitive array. float32
 * values are written as the doubles they widen to, so a float64 reader (Python's json) gets the exact float32 value.
 */
final class TensorJsonSerializer extends ValueSerializer<Tensor> {

	@Override
	public void serialize(Tensor tensor, JsonGenerator generator, SerializationContext context) {
		int[] shape = tensor.shape();
		if (shape.length == 0) {
			generator.writeNumber(tensor.get(0));
			return;
		}
		write(tensor, shape, 0, 0, generator);
	}

	/** Writes the sub-array at {@code axis} starting at flat {@code offset}; returns the offset past it. */
	private static int write(Tensor tensor, int[] shape, int axis, int offset, JsonGenerator generator) {
		int n = shape[axis];
		generator.writeStartArray(null, n);
		if (axis == shape.length - 1) {
			double[] float64 = tensor.float64();
			if (float64 != null) {
				for (int i = 0; i < n; i++) {
					generator.writeNumber(float64[offset + i]);
				}
			}
			else {
				float[] float32 = tensor.float32();
				for (int i = 0; i < n; i++) {
					generator.writeNumber((double) float32[offset + i]);
				}
			}
			offset += n;
		}
		else {
			for (int i = 0; i < n; i++) {
				offset = write(tensor, shape, axis + 1, offset, generator);
			}
		}
		generator.writeEndArray();
		return offset;
	}

}
