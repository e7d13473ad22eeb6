package dev.adamopt.cluster;

import java.io.IOException;
import java.io.StreamCorruptedException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import com.hazelcast.internal.nio.BufferObjectDataInput;
import com.hazelcast.internal.nio.BufferObjectDataOutput;
import com.hazelcast.internal.serialization.InternalSerializationService;
import com.hazelcast.internal.serialization.impl.DefaultSerializationServiceBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import dev.adamopt.tensor.Tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** {@link BulkCodec} through Hazelcast's own serialization streams: bit exact, little-endian, in order. */
class BulkCodecTest {

	private static final InternalSerializationService serialization = new DefaultSerializationServiceBuilder()
		.build();

	/** More than two chunks, the last one partial. */
	private static final int ACROSS_CHUNKS = 2 * BulkCodec.CHUNK_BYTES / Double.BYTES + 3;

	@AfterAll
	static void destroy() {
		serialization.dispose();
	}

	@Test
	void doublesShouldRoundTripBitForBitIncludingNanPayloadsNegativeZeroAndSubnormals() throws IOException {
		double[] values = awkwardDoubles(ACROSS_CHUNKS);

		BufferObjectDataOutput out = serialization.createObjectDataOutput();
		BulkCodec.writeDoubles(out, values);
		BulkCodec.writeDoubles(out, new double[0]);
		BulkCodec.writeDoubles(out, null);
		out.writeInt(42);
		BufferObjectDataInput in = serialization.createObjectDataInput(out.toByteArray());

		assertThat(bits(BulkCodec.readDoubles(in))).containsExactly(bits(values));
		assertThat(BulkCodec.readDoubles(in)).isEmpty();
		assertThat(BulkCodec.readDoubles(in)).isNull();
		assertThat(in.readInt()).as("the stream stays aligned after the arrays").isEqualTo(42);
	}

	@Test
	void floatsShouldRoundTripBitForBitIncludingNanPayloadsNegativeZeroAndSubnormals() throws IOException {
		float[] values = awkwardFloats(2 * BulkCodec.CHUNK_BYTES / Float.BYTES + 5);

		BufferObjectDataOutput out = serialization.createObjectDataOutput();
		BulkCodec.writeFloats(out, values);
		BulkCodec.writeFloats(out, null);
		out.writeInt(42);
		BufferObjectDataInput in = serialization.createObjectDataInput(out.toByteArray());

		assertThat(bits(BulkCodec.readFloats(in))).containsExactly(bits(values));
		assertThat(BulkCodec.readFloats(in)).isNull();
		assertThat(in.readInt()).isEqualTo(42);
	}

	@Test
	void elementsShouldBeLittleEndianBytesAfterABigEndianLength() throws IOException {
		BufferObjectDataOutput out = serialization.createObjectDataOutput();
		BulkCodec.writeDoubles(out, new double[] { 1.0 });
		BulkCodec.writeFloats(out, new float[] { -2.0f });

		assertThat(out.toByteArray()).containsExactly(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0xf0, 0x3f, 0, 0, 0, 1, 0,
				0, 0, (byte) 0xc0);
	}

	@Test
	void tensorsShouldComeBackInTheirOrderWithNameDtypeShapeAndBits() throws IOException {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		tensors.put("w", Tensor.ofFloat64(new int[] { 3, ACROSS_CHUNKS }, awkwardDoubles(3 * ACROSS_CHUNKS)));
		tensors.put("b", Tensor.ofFloat32(new int[] { 7 }, awkwardFloats(7)));
		tensors.put("scale", Tensor.ofFloat64(new int[0], new double[] { -0.0 }));
		tensors.put("empty", Tensor.ofFloat32(new int[] { 4, 0 }, new float[0]));
		tensors.put("a", Tensor.ofFloat64(new int[] { 1, 1, 2 }, new double[] { Double.MIN_VALUE, Double.NaN }));

		BufferObjectDataOutput out = serialization.createObjectDataOutput();
		BulkCodec.writeTensors(out, tensors);
		BulkCodec.writeTensors(out, null);
		BulkCodec.writeTensors(out, Map.of());
		BufferObjectDataInput in = serialization.createObjectDataInput(out.toByteArray());
		Map<String, Tensor> read = BulkCodec.readTensors(in);

		assertThat(read).isInstanceOf(LinkedHashMap.class);
		assertThat(read.keySet()).containsExactly("w", "b", "scale", "empty", "a");
		tensors.forEach((name, tensor) -> {
			Tensor back = read.get(name);
			assertThat(back.shape()).as(name).containsExactly(tensor.shape());
			assertThat(back.isFloat32()).as(name).isEqualTo(tensor.isFloat32());
			if (tensor.isFloat32()) {
				assertThat(bits(back.float32())).as(name).containsExactly(bits(tensor.float32()));
			}
			else {
				assertThat(bits(back.float64())).as(name).containsExactly(bits(tensor.float64()));
			}
		});
		assertThat(BulkCodec.readTensors(in)).isNull();
		assertThat(BulkCodec.readTensors(in)).isEmpty();
	}

	@Test
	void aCorruptTensorStreamShouldBeRefusedNotMisread() throws IOException {
		BufferObjectDataOutput out = serialization.createObjectDataOutput();
		out.writeInt(1);
		out.writeString("w");
		out.writeByte(7);
		BufferObjectDataInput in = serialization.createObjectDataInput(out.toByteArray());

		assertThatExceptionOfType(StreamCorruptedException.class).isThrownBy(() -> BulkCodec.readTensors(in))
			.withMessage("tensor 'w' has an unknown dtype 7");

		BufferObjectDataOutput negative = serialization.createObjectDataOutput();
		negative.writeInt(1);
		negative.writeString("w");
		negative.writeByte(0);
		negative.writeInt(1);
		negative.writeInt(-3);
		assertThatExceptionOfType(StreamCorruptedException.class)
			.isThrownBy(() -> BulkCodec.readTensors(serialization.createObjectDataInput(negative.toByteArray())))
			.withMessageStartingWith("tensor 'w': dimensions must be >= 0");
	}

	/** Random bit patterns (NaNs with payloads among them) and the values a codec most likely mangles. */
	static double[] awkwardDoubles(int length) {
		double[] special = { -0.0, 0.0, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL / 3,
				Double.longBitsToDouble(0x7ff0000000000001L), Double.longBitsToDouble(0xfff8dead0000beefL),
				Double.longBitsToDouble(0x7ff7ffffffffffffL), Double.NaN, Double.POSITIVE_INFINITY,
				Double.NEGATIVE_INFINITY, Double.MAX_VALUE, 1.0, -1.5e-300 };
		SplittableRandom random = new SplittableRandom(length);
		double[] values = new double[length];
		for (int i = 0; i < length; i++) {
			values[i] = (i < special.length) ? special[i]
					: (i % 5 == 0) ? special[i % special.length] : Double.longBitsToDouble(random.nextLong());
		}
		return values;
	}

	static float[] awkwardFloats(int length) {
		float[] special = { -0.0f, 0.0f, Float.MIN_VALUE, Float.MIN_NORMAL / 3, Float.intBitsToFloat(0x7f800001),
				Float.intBitsToFloat(0xffc0beef), Float.NaN, Float.POSITIVE_INFINITY, -Float.MAX_VALUE };
		SplittableRandom random = new SplittableRandom(length);
		float[] values = new float[length];
		for (int i = 0; i < length; i++) {
			values[i] = (i < special.length) ? special[i] : Float.intBitsToFloat(random.nextInt());
		}
		return values;
	}

	static long[] bits(double[] values) {
		return Arrays.stream(values).mapToLong(Double::doubleToRawLongBits).toArray();
	}

	static int[] bits(float[] values) {
		int[] bits = new int[values.length];
		for (int i = 0; i < values.length; i++) {
			bits[i] = Float.floatToRawIntBits(values[i]);
		}
		return bits;
	}

}
