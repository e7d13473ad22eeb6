package dev.adamopt.tensor;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for the JSON codec of {@link Tensor}: {@link TensorJsonDeserializer} and {@link TensorJsonSerializer}.
 */
class TensorJsonTest {

	private static final double[] SPECIAL_VALUES = { 0.0, -0.0, 4.9e-324, -4.9e-324, Double.MIN_VALUE,
			Double.MIN_NORMAL, Math.nextDown(Double.MIN_NORMAL), Double.MAX_VALUE, -Double.MAX_VALUE, 0.1, -0.1,
			1.0 / 3, 2.0 / 3, 1.0, -1.0, 1e-8, 0.001, 0.999, 9007199254740993.0, 1e308, 1e-308, Math.PI, Math.E,
			2.2250738585072012e-308, 5e-324 * 3, 123456789.123456789 };

	private final JsonMapper mapper = JsonMapper.builder().addModule(new TensorJacksonModule()).build();

	/** The plain mapper and one with the fast double codecs the application enables. */
	static Stream<Arguments> mappers() {
		return Stream.of(Arguments.of("jdk", JsonMapper.builder().addModule(new TensorJacksonModule()).build()),
				Arguments.of("fast", JsonMapper.builder()
					.addModule(new TensorJacksonModule())
					.enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
					.enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
					.build()));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("mappers")
	void roundTripShouldKeepSpecialDoublesBitForBit(String name, JsonMapper mapper) {
		assertRoundTrip(mapper, SPECIAL_VALUES);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("mappers")
	void roundTripShouldKeepRandomDoublesOverTheWholeFiniteRangeBitForBit(String name, JsonMapper mapper) {
		Random random = new Random(42);
		double[] values = new double[100_000];
		int i = 0;
		while (i < values.length) {
			double value = Double.longBitsToDouble(random.nextLong());
			if (Double.isFinite(value)) {
				values[i++] = value;
			}
		}
		assertRoundTrip(mapper, values);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("mappers")
	void readShouldParseEachNumberToTheNearestDouble(String name, JsonMapper mapper) {
		Random random = new Random(7);
		StringBuilder json = new StringBuilder("[");
		double[] expected = new double[10_000];
		for (int i = 0; i < expected.length; i++) {
			// 17 significant digits and a random exponent: mostly not the shortest form of any double
			String number = (random.nextBoolean() ? "-" : "") + (1 + random.nextInt(9)) + "."
					+ String.format("%016d", Math.floorMod(random.nextLong(), 10_000_000_000_000_000L)) + "e"
					+ (random.nextInt(600) - 300);
			expected[i] = Double.parseDouble(number);
			json.append((i > 0) ? "," : "").append(number);
		}
		json.append(']');
		Tensor tensor = mapper.readValue(json.toString(), Tensor.class);
		assertThat(bits(tensor.float64())).containsExactly(bits(expected));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("mappers")
	void writeShouldWriteFloat32ValuesAsTheDoublesTheyWidenTo(String name, JsonMapper mapper) {
		Random random = new Random(3);
		float[] values = new float[10_000];
		int i = 0;
		values[i++] = 0.1f;
		values[i++] = -0.0f;
		values[i++] = Float.MIN_VALUE;
		values[i++] = Float.MAX_VALUE;
		values[i++] = 1.0f / 3;
		while (i < values.length) {
			float value = Float.intBitsToFloat(random.nextInt());
			if (Float.isFinite(value)) {
				values[i++] = value;
			}
		}
		String json = mapper.writeValueAsString(Tensor.ofFloat32(new int[] { values.length }, values));
		assertThat(json).startsWith("[0.10000000149011612,-0.0,1.401298464324817E-45,3.4028234663852886E38,");
		Tensor read = mapper.readValue(json, Tensor.class);
		assertThat(read.isFloat32()).isFalse();
		double[] widened = new double[values.length];
		for (int j = 0; j < values.length; j++) {
			widened[j] = values[j];
		}
		assertThat(bits(read.float64())).containsExactly(bits(widened));
	}

	@Test
	void readWhenNumberIsBareShouldGiveAZeroDimensionalTensor() {
		Tensor tensor = this.mapper.readValue("3.5", Tensor.class);
		assertThat(tensor.rank()).isZero();
		assertThat(tensor.shape()).isEmpty();
		assertThat(tensor.float64()).containsExactly(3.5);
		assertThat(this.mapper.writeValueAsString(tensor)).isEqualTo("3.5");
	}

	@Test
	void readWhenArrayIsEmptyShouldGiveShapeZero() {
		Tensor tensor = this.mapper.readValue("[]", Tensor.class);
		assertThat(tensor.shape()).containsExactly(0);
		assertThat(tensor.size()).isZero();
		assertThat(this.mapper.writeValueAsString(tensor)).isEqualTo("[]");
	}

	@Test
	void readWhenArraysAreEmptyShouldKeepTheOuterDimensions() {
		Tensor tensor = this.mapper.readValue("[[],[]]", Tensor.class);
		assertThat(tensor.shape()).containsExactly(2, 0);
		assertThat(tensor.size()).isZero();
		assertThat(this.mapper.writeValueAsString(tensor)).isEqualTo("[[],[]]");
		assertThat(this.mapper.readValue("[[[]],[[]],[[]]]", Tensor.class).shape()).containsExactly(3, 1, 0);
	}

	@Test
	void readWhenTensorIsThreeDimensionalShouldReadRowMajor() {
		String json = "[[[1.0,2.0,3.0],[4.0,5.0,6.0]],[[7.0,8.0,9.0],[10.0,11.0,12.0]]]";
		Tensor tensor = this.mapper.readValue(json, Tensor.class);
		assertThat(tensor.shape()).containsExactly(2, 2, 3);
		assertThat(tensor.float64()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
		assertThat(this.mapper.writeValueAsString(tensor)).isEqualTo(json);
	}

	@Test
	void readWhenNumbersAreWholeShouldGiveDoubles() {
		Tensor tensor = this.mapper.readValue("[[1,-2],[9007199254740993,100000000000000000000]]", Tensor.class);
		assertThat(tensor.float64()).containsExactly(1.0, -2.0, 9007199254740992.0, 1e20);
		assertThat(this.mapper.writeValueAsString(tensor)).isEqualTo("[[1.0,-2.0],[9.007199254740992E15,1.0E20]]");
	}

	@Test
	void readWhenRankIs32ShouldSucceed() {
		String json = "[".repeat(32) + "1.5" + "]".repeat(32);
		Tensor tensor = this.mapper.readValue(json, Tensor.class);
		assertThat(tensor.rank()).isEqualTo(Tensor.MAX_RANK);
		assertThat(tensor.shape()).containsOnly(1);
		assertThat(this.mapper.writeValueAsString(tensor)).isEqualTo(json);
	}

	@Test
	void readWhenRankIs32WithAnEmptyLastDimensionShouldSucceed() {
		String json = "[".repeat(32) + "]".repeat(32);
		Tensor tensor = this.mapper.readValue(json, Tensor.class);
		assertThat(tensor.rank()).isEqualTo(32);
		assertThat(tensor.dimension(31)).isZero();
		assertThat(this.mapper.writeValueAsString(tensor)).isEqualTo(json);
	}

	@ParameterizedTest
	@ValueSource(ints = { 33, 34, 1000 })
	void readWhenRankIsAbove32ShouldFail(int rank) {
		String json = "[".repeat(rank) + "1.5" + "]".repeat(rank);
		assertThatExceptionOfType(MismatchedInputException.class)
			.isThrownBy(() -> this.mapper.readValue(json, Tensor.class))
			.withMessageContaining("a tensor may have at most 32 dimensions");
	}

	@Test
	void readWhenEmptyArraysAreNested33DeepShouldFail() {
		String json = "[".repeat(33) + "]".repeat(33);
		assertThatExceptionOfType(MismatchedInputException.class)
			.isThrownBy(() -> this.mapper.readValue(json, Tensor.class))
			.withMessageContaining("a tensor may have at most 32 dimensions");
	}

	@ParameterizedTest
	@ValueSource(strings = { "[[1,2],[3]]", "[[1],[[2]]]", "[[[1]],[2]]", "[1,[2]]", "[[],[1]]", "[[1],[]]",
			"[[[]],[]]", "[[],[[]]]" })
	void readWhenTensorIsRaggedShouldFail(String json) {
		assertThatExceptionOfType(MismatchedInputException.class)
			.isThrownBy(() -> this.mapper.readValue(json, Tensor.class))
			.withMessageContaining("ragged tensor");
	}

	@ParameterizedTest
	@ValueSource(strings = { "[1,\"abc\"]", "[true]", "[1,null]", "[{}]", "\"abc\"", "false", "{}", "null" })
	void readWhenTensorHoldsSomethingOtherThanNumbersShouldFail(String json) {
		assertThatExceptionOfType(MismatchedInputException.class)
			.isThrownBy(() -> this.mapper.readValue(json, Tensor.class))
			.withMessageContaining("a tensor");
	}

	@ParameterizedTest
	@ValueSource(strings = { "1e400", "[-1e400]", "[[1.8e308]]" })
	void readWhenNumberOverflowsFloat64ShouldFail(String json) {
		assertThatExceptionOfType(MismatchedInputException.class)
			.isThrownBy(() -> this.mapper.readValue(json, Tensor.class))
			.withMessageContaining("overflows float64");
	}

	@Test
	void readShouldTakeTheNonFiniteTokensPythonWritesWhereTheMapperAllowsThem() {
		JsonMapper lenient = JsonMapper.builder()
			.addModule(new TensorJacksonModule())
			.enable(tools.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
			.build();
		Tensor tensor = lenient.readValue("[1.5, NaN, Infinity, -Infinity]", Tensor.class);
		assertThat(tensor.float64()).containsExactly(1.5, Double.NaN, Double.POSITIVE_INFINITY,
				Double.NEGATIVE_INFINITY);
		assertThat(tensor.firstNonFinite()).isEqualTo(1);
		assertThat(tensor.maxAbs()).isNaN();
		assertThatExceptionOfType(MismatchedInputException.class)
			.isThrownBy(() -> lenient.readValue("[1e400]", Tensor.class))
			.withMessageContaining("overflows float64");
	}

	@Test
	void writeShouldKeepTheShapeTheTensorWasSentIn() {
		double[] data = new double[24];
		for (int i = 0; i < data.length; i++) {
			data[i] = i;
		}
		assertThat(this.mapper.writeValueAsString(Tensor.ofFloat64(new int[] { 24 }, data))).startsWith("[0.0,1.0,")
			.doesNotContain("[[");
		assertThat(this.mapper.writeValueAsString(Tensor.ofFloat64(new int[] { 4, 6 }, data)))
			.startsWith("[[0.0,1.0,2.0,3.0,4.0,5.0],[6.0,");
		assertThat(this.mapper.writeValueAsString(Tensor.ofFloat64(new int[] { 2, 3, 4 }, data)))
			.startsWith("[[[0.0,1.0,2.0,3.0],[4.0,5.0,6.0,7.0],[8.0,9.0,10.0,11.0]],[[12.0,");
		assertThat(this.mapper.writeValueAsString(Tensor.ofFloat64(new int[] { 1, 24, 1 }, data)))
			.startsWith("[[[0.0],[1.0],");
		for (int[] shape : new int[][] { { 24 }, { 4, 6 }, { 2, 3, 4 }, { 1, 24, 1 }, { 2, 1, 3, 1, 4 } }) {
			Tensor read = this.mapper.readValue(this.mapper.writeValueAsString(Tensor.ofFloat64(shape, data)),
					Tensor.class);
			assertThat(read.shape()).containsExactly(shape);
			assertThat(read.float64()).containsExactly(data);
		}
	}

	private static void assertRoundTrip(JsonMapper mapper, double[] values) {
		Tensor tensor = Tensor.ofFloat64(new int[] { values.length }, values.clone());
		String json = mapper.writeValueAsString(tensor);
		Tensor read = mapper.readValue(json, Tensor.class);
		assertThat(read.shape()).containsExactly(values.length);
		assertThat(bits(read.float64())).containsExactly(bits(values));
		// each number also reads back alone, as a 0-d tensor
		for (int i = 0; i < Math.min(values.length, 1000); i++) {
			String number = mapper.writeValueAsString(Tensor.ofFloat64(new int[0], new double[] { values[i] }));
			assertThat(Double.doubleToRawLongBits(mapper.readValue(number, Tensor.class).get(0)))
				.as("%s written as %s", values[i], number)
				.isEqualTo(Double.doubleToRawLongBits(values[i]));
		}
	}

	private static long[] bits(double[] values) {
		return Arrays.stream(values).mapToLong(Double::doubleToRawLongBits).toArray();
	}

}
