package dev.adamopt.tensor;

import java.util.Arrays;

import dev.adamopt.memory.RequestMemory;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;

/**
 * Reads a tensor as numpy's {@code tolist()} writes it (nested arrays of numbers, a bare number for 0-d) straight from
 * the token stream into one flat {@code double[]} and a shape: no tree, no boxed numbers. Rectangularity is checked as
 * the arrays close, so a ragged tensor fails at the first offending array.
 */
final class TensorJsonDeserializer extends ValueDeserializer<Tensor> {

	private static final int[] SCALAR = {};

	private static final String DECODING = "decoding the request's tensors";

	@Override
	public Tensor deserialize(JsonParser parser, DeserializationContext context) {
		JsonToken token = parser.currentToken();
		if (token == JsonToken.VALUE_NUMBER_FLOAT || token == JsonToken.VALUE_NUMBER_INT) {
			RequestMemory.charge(Tensor.estimatedBytes(1, false), DECODING);
			double value = number(parser, context);
			return Tensor.ofFloat64(SCALAR, new double[] { value }).withMaxAbs(Math.abs(value));
		}
		if (token != JsonToken.START_ARRAY) {
			return fail(context, "a tensor must be a number or nested arrays of numbers, got " + JsonTokenNames.describe(token));
		}
		int[] shape = new int[Tensor.MAX_RANK + 1]; // shape[d] for depth d = 1..rank, -1 while unknown
		Arrays.fill(shape, -1);
		int[] count = new int[Tensor.MAX_RANK + 1];
		int leafDepth = -1; // the depth at which numbers sit, once the first number is seen
		int depth = 1;
		RequestMemory.charge(Tensor.estimatedBytes(16, false), DECODING);
		double[] data = new double[16];
		int size = 0;
		double maxAbs = 0;
		while (depth > 0) {
			token = parser.nextToken();
			if (token == JsonToken.VALUE_NUMBER_FLOAT || token == JsonToken.VALUE_NUMBER_INT) {
				if (leafDepth != depth) {
					if (leafDepth != -1 || (depth < Tensor.MAX_RANK && shape[depth + 1] != -1)) {
						return fail(context, "ragged tensor: a number stands where other elements are arrays");
					}
					leafDepth = depth;
				}
				if (size == data.length) {
					data = resize(data, grow(context, size));
				}
				double value = number(parser, context);
				data[size++] = value;
				maxAbs = Math.max(maxAbs, Math.abs(value)); // NaN wins, as Tensor.maxAbs() says
				count[depth]++;
			}
			else if (token == JsonToken.START_ARRAY) {
				if (leafDepth != -1 && depth >= leafDepth) {
					return fail(context, "ragged tensor: an array stands where other elements are numbers");
				}
				if (depth == Tensor.MAX_RANK) {
					return fail(context, "a tensor may have at most " + Tensor.MAX_RANK + " dimensions");
				}
				count[depth]++;
				depth++;
				count[depth] = 0;
			}
			else if (token == JsonToken.END_ARRAY) {
				int n = count[depth];
				if (shape[depth] == -1) {
					shape[depth] = n;
				}
				else if (shape[depth] != n) {
					return fail(context, "ragged tensor: an array at depth " + depth + " has " + n
							+ " elements where the first one had " + shape[depth]);
				}
				depth--;
			}
			else {
				return fail(context, "a tensor holds only numbers and arrays, got " + JsonTokenNames.describe(token));
			}
		}
		int rank = 0;
		while (rank < Tensor.MAX_RANK && shape[rank + 1] != -1) {
			rank++;
		}
		int[] dims = Arrays.copyOfRange(shape, 1, rank + 1);
		return Tensor.ofFloat64(dims, (size == data.length) ? data : resize(data, size)).withMaxAbs(maxAbs);
	}

	/** A copy of {@code data} in an array of {@code length}, charged before it is allocated. */
	private static double[] resize(double[] data, int length) {
		RequestMemory.charge((long) length * Double.BYTES, DECODING);
		double[] resized = Arrays.copyOf(data, length);
		RequestMemory.credit((long) data.length * Double.BYTES);
		return resized;
	}

	/**
	 * The number as a double. The tokens NaN, Infinity and -Infinity pass (Python's json writes overflowed gradients
	 * so, where the mapper allows them): the session decides what a non-finite value means where it stands. A
	 * literal too large for float64 is a mistake of the client's, not a value.
	 */
	private static double number(JsonParser parser, DeserializationContext context) {
		double value = parser.getDoubleValue();
		if (!Double.isFinite(value)) {
			String text = parser.getString();
			if (!(text.equals("NaN") || text.equals("Infinity") || text.equals("-Infinity") || text.equals("+Infinity")
					|| text.equals("+INF") || text.equals("-INF") || text.equals("INF"))) {
				fail(context, "number " + text + " overflows float64");
			}
		}
		return value;
	}

	private static int grow(DeserializationContext context, int size) {
		if (size >= Integer.MAX_VALUE - 8 - size / 2) {
			fail(context, "a tensor may hold at most " + (Integer.MAX_VALUE - 8) + " elements");
		}
		return size + Math.max(size / 2, 16);
	}

	private static <T> T fail(DeserializationContext context, String message) {
		return context.reportInputMismatch(Tensor.class, message);
	}

	@Override
	public Tensor getNullValue(DeserializationContext context) {
		return fail(context, "a tensor must be a number or nested arrays of numbers, got null");
	}

	@Override
	public Object getAbsentValue(DeserializationContext context) {
		return null;
	}

}
