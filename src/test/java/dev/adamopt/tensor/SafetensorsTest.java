package dev.adamopt.tensor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.adamopt.tensor.SafetensorsBytes.Malformed;
import dev.adamopt.tensor.SafetensorsBytes.Parsed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class SafetensorsTest {

	private static final int[] SCALAR = {};

	/** Values that survive a text round trip only with care: signed zeros, subnormals, extremes, inexact fractions. */
	private static final double[] AWKWARD_DOUBLES = { -0.0, 0.0, Double.MIN_VALUE, -Double.MIN_VALUE,
			Double.MIN_NORMAL, Double.MIN_NORMAL / 3, Double.MAX_VALUE, -Double.MAX_VALUE, 1.0 / 3, Math.PI, -1e-300,
			Math.nextUp(1.0), 0.1 };

	private static final float[] AWKWARD_FLOATS = { -0.0f, 0.0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
			Float.MIN_NORMAL / 3, Float.MAX_VALUE, -Float.MAX_VALUE, 1.0f / 3, (float) Math.PI, -1e-40f,
			Math.nextUp(1.0f), 0.1f };

	// ---- round trips through the product's writer and reader -------------------------------------------------

	@Test
	void writeThenReadShouldRoundTripFloat64BitForBitInEveryShape() throws IOException {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		tensors.put("awkward", Tensor.ofFloat64(new int[] { AWKWARD_DOUBLES.length }, AWKWARD_DOUBLES.clone()));
		tensors.put("scalar", Tensor.ofFloat64(SCALAR, new double[] { -0.0 }));
		tensors.put("empty", Tensor.ofFloat64(new int[] { 0 }, new double[0]));
		tensors.put("twoByZero", Tensor.ofFloat64(new int[] { 2, 0 }, new double[0]));
		tensors.put("matrix", Tensor.ofFloat64(new int[] { 2, 3 }, new double[] { 1, 2, 3, 4, 5, Double.MIN_VALUE }));

		byte[] file = write(tensors, Map.of());
		Safetensors.File read = read(file);

		assertThat(read.tensors()).containsOnlyKeys(tensors.keySet());
		tensors.forEach((name, expected) -> {
			Tensor actual = read.tensors().get(name);
			assertThat(actual.isFloat32()).as(name).isFalse();
			assertThat(actual.shape()).as(name).isEqualTo(expected.shape());
			assertThat(bits(actual.float64())).as(name).isEqualTo(bits(expected.float64()));
			assertThat(read.dtypes().get(name)).isEqualTo(Dtype.F64);
		});
		// the bytes on disk are exactly the little-endian IEEE bits, checked by an independent parser
		Parsed parsed = SafetensorsBytes.parse(file);
		assertThat(parsed.tensors().get("awkward").bytes()).isEqualTo(SafetensorsBytes.f64Bytes(AWKWARD_DOUBLES));
		assertThat(parsed.tensors().get("scalar").shape()).isEmpty();
		assertThat(parsed.tensors().get("scalar").bytes()).hasSize(8);
		assertThat(parsed.tensors().get("twoByZero").shape()).containsExactly(2, 0);
		assertThat(parsed.tensors().get("twoByZero").bytes()).isEmpty();
	}

	@Test
	void writeThenReadShouldRoundTripFloat32BitForBitInEveryShape() throws IOException {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		tensors.put("awkward", Tensor.ofFloat32(new int[] { AWKWARD_FLOATS.length }, AWKWARD_FLOATS.clone()));
		tensors.put("scalar", Tensor.ofFloat32(SCALAR, new float[] { Float.MIN_VALUE }));
		tensors.put("empty", Tensor.ofFloat32(new int[] { 0 }, new float[0]));
		tensors.put("twoByZero", Tensor.ofFloat32(new int[] { 2, 0 }, new float[0]));
		tensors.put("cube", Tensor.ofFloat32(new int[] { 2, 1, 2 }, new float[] { 1, -0.0f, 3, Float.MAX_VALUE }));

		byte[] file = write(tensors, Map.of());
		Safetensors.File read = read(file);

		tensors.forEach((name, expected) -> {
			Tensor actual = read.tensors().get(name);
			assertThat(actual.isFloat32()).as(name).isTrue();
			assertThat(actual.shape()).as(name).isEqualTo(expected.shape());
			assertThat(bits(actual.float32())).as(name).isEqualTo(bits(expected.float32()));
			assertThat(read.dtypes().get(name)).isEqualTo(Dtype.F32);
		});
		Parsed parsed = SafetensorsBytes.parse(file);
		assertThat(parsed.tensors().get("awkward").dtype()).isEqualTo("F32");
		assertThat(parsed.tensors().get("awkward").bytes()).isEqualTo(SafetensorsBytes.f32Bytes(AWKWARD_FLOATS));
	}

	@Test
	void writeShouldKeepMixedDtypesAndMapOrder() throws IOException {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		tensors.put("z", Tensor.ofFloat32(new int[] { 1 }, new float[] { 1.5f }));
		tensors.put("a", Tensor.ofFloat64(new int[] { 1 }, new double[] { 2.5 }));
		tensors.put("m", Tensor.ofFloat32(new int[] { 3 }, new float[] { 1, 2, 3 }));

		Parsed parsed = SafetensorsBytes.parse(write(tensors, Map.of()));

		assertThat(parsed.tensors().keySet()).containsExactly("z", "a", "m");
		assertThat(parsed.tensors().get("z").f32()).containsExactly(1.5f);
		assertThat(parsed.tensors().get("a").f64()).containsExactly(2.5);
		assertThat(parsed.tensors().get("m").f32()).containsExactly(1, 2, 3);
		assertThat(read(write(tensors, Map.of())).tensors().keySet()).containsExactly("z", "a", "m");
	}

	@Test
	void writeShouldPadTheHeaderWithSpacesToAMultipleOf8ForEveryNameLength() throws IOException {
		for (int nameLength = 1; nameLength <= 16; nameLength++) {
			String name = "x".repeat(nameLength);
			Map<String, Tensor> tensors = Map.of(name, Tensor.ofFloat64(new int[] { 1 }, new double[] { 7.0 }));
			byte[] header = Safetensors.header(tensors, Map.of());
			byte[] file = write(tensors, Map.of());

			Parsed parsed = SafetensorsBytes.parse(file);
			assertThat(parsed.headerLength()).as(name).isEqualTo(header.length).isNotZero();
			assertThat(parsed.headerLength() % 8).as(name).isZero();
			String text = new String(header, StandardCharsets.UTF_8);
			assertThat(text.stripTrailing()).as(name).endsWith("}");
			assertThat(text.length() - text.stripTrailing().length()).as(name).isLessThan(8);
			assertThat(text.substring(text.stripTrailing().length())).as(name).matches(" *");
			// tensor data starts 8-byte aligned, right after the padding
			assertThat(parsed.tensors().get(name).f64()).containsExactly(7.0);
		}
	}

	@Test
	void writeShouldPutMetadataInTheHeaderAndLengthShouldCountEveryByte() throws IOException {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		tensors.put("w", Tensor.ofFloat64(new int[] { 2 }, new double[] { 1, 2 }));
		tensors.put("b", Tensor.ofFloat32(new int[] { 3 }, new float[] { 1, 2, 3 }));
		Map<String, String> metadata = new LinkedHashMap<>();
		metadata.put("step", "3");
		metadata.put("quote\"and\\slash", "{\"json\": [1]}");

		byte[] header = Safetensors.header(tensors, metadata);
		byte[] file = write(tensors, metadata);

		assertThat(Safetensors.length(header, tensors)).isEqualTo(file.length).isEqualTo(8 + header.length + 16 + 12);
		assertThat(SafetensorsBytes.parse(file).metadata()).isEqualTo(metadata);
		assertThat(read(file).metadata()).isEqualTo(metadata);
	}

	@Test
	void writeThenReadShouldRoundTripAFileWithoutTensors() throws IOException {
		byte[] file = write(Map.of(), Map.of("format", "x"));

		Safetensors.File read = read(file);

		assertThat(read.tensors()).isEmpty();
		assertThat(read.metadata()).containsEntry("format", "x");
		assertThat(read(write(Map.of(), Map.of())).tensors()).isEmpty();
	}

	@Test
	void writeThenReadShouldRoundTripALargeTensorAcrossManyChunks() throws IOException {
		int n = 100_003; // not a multiple of the chunk size
		double[] values = new double[n];
		float[] floats = new float[n];
		for (int i = 0; i < n; i++) {
			values[i] = Math.scalb(Math.sin(i) + i, (i % 200) - 100);
			floats[i] = (float) values[i];
		}
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		tensors.put("f64", Tensor.ofFloat64(new int[] { n }, values.clone()));
		tensors.put("f32", Tensor.ofFloat32(new int[] { 1, n }, floats.clone()));

		byte[] file = write(tensors, Map.of());
		Safetensors.File known = read(file);
		Safetensors.File unknown = Safetensors.read(new ByteArrayInputStream(file), -1);

		for (Safetensors.File read : List.of(known, unknown)) {
			assertThat(bits(read.tensors().get("f64").float64())).isEqualTo(bits(values));
			assertThat(bits(read.tensors().get("f32").float32())).isEqualTo(bits(floats));
		}
	}

	// ---- files built by hand -----------------------------------------------------------------------------------

	@Test
	void readShouldAcceptAHandBuiltFileWithTheHeaderInAnotherOrderThanTheData() throws IOException {
		byte[] data = SafetensorsBytes.concat(SafetensorsBytes.f32Bytes(1.5f, -0.0f), SafetensorsBytes.f64Bytes(-0.0));
		// header lists the later tensor first and puts __metadata__ last
		byte[] file = SafetensorsBytes.raw("{\"b\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[8,16]},"
				+ "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},\"__metadata__\":{\"k\":\"v\"}}",
				data);

		for (long length : new long[] { file.length, -1 }) {
			Safetensors.File read = Safetensors.read(new ByteArrayInputStream(file), length);

			assertThat(read.tensors().keySet()).containsExactly("a", "b"); // data order
			assertThat(bits(read.tensors().get("a").float32())).isEqualTo(bits(new float[] { 1.5f, -0.0f }));
			assertThat(read.tensors().get("a").shape()).containsExactly(1, 2);
			assertThat(bits(read.tensors().get("b").float64())).isEqualTo(bits(new double[] { -0.0 }));
			assertThat(read.tensors().get("b").rank()).isZero();
			assertThat(read.metadata()).containsExactly(Map.entry("k", "v"));
		}
	}

	@Test
	void readShouldAcceptEmptyTensorsSharingAnOffsetWithOthers() throws IOException {
		byte[] file = SafetensorsBytes.builder()
			.f64("before", new int[] { 0 })
			.f64("w", new int[] { 2 }, 1, 2)
			.f32("between", new int[] { 2, 0 })
			.f32("v", new int[] { 1 }, 3)
			.f64("after", new int[] { 0, 5 })
			.build();

		Safetensors.File read = read(file);

		assertThat(read.tensors()).containsOnlyKeys("before", "w", "between", "v", "after");
		assertThat(read.tensors().get("between").shape()).containsExactly(2, 0);
		assertThat(read.tensors().get("v").float32()).containsExactly(3f);
	}

	@Test
	void readShouldAcceptAHeaderOfExactlyMaxHeaderBytes() throws IOException {
		byte[] json = "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.UTF_8);
		byte[] header = Arrays.copyOf(json, Safetensors.MAX_HEADER_BYTES);
		Arrays.fill(header, json.length, header.length, (byte) ' ');
		byte[] file = SafetensorsBytes.raw(header.length, header, SafetensorsBytes.f64Bytes(4.0));

		assertThat(read(file).tensors().get("w").float64()).containsExactly(4.0);
	}

	@Test
	void readShouldDecodeF16ExactlyAtKnownBitPatterns() throws IOException {
		int[] bits = { 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x0000, 0x3555, 0x03FF, 0x0400, 0xFBFF, 0x8001 };
		float[] expected = { 1.0f, -2.0f, 65504.0f, 0x1p-24f, -0.0f, 0.0f, 0.333251953125f, 0x3FFp-24f, 0x1p-14f,
				-65504.0f, -0x1p-24f };
		byte[] file = SafetensorsBytes.builder().f16("h", new int[] { bits.length }, bits).build();

		Safetensors.File read = read(file);

		assertThat(read.dtypes().get("h")).isEqualTo(Dtype.F16);
		assertThat(read.tensors().get("h").isFloat32()).isTrue();
		assertThat(bits(read.tensors().get("h").float32())).isEqualTo(bits(expected));
	}

	@Test
	void readShouldDecodeEveryFiniteF16PatternExactly() throws IOException {
		int[] patterns = finitePatterns(0x7C00);
		byte[] file = SafetensorsBytes.builder().f16("h", new int[] { patterns.length }, patterns).build();

		float[] decoded = read(file).tensors().get("h").float32();

		for (int i = 0; i < patterns.length; i++) {
			int h = patterns[i];
			int exponent = (h >>> 10) & 0x1f;
			int mantissa = h & 0x3ff;
			// value = (-1)^s * m * 2^-24 for subnormals, (1024 + m) * 2^(e - 25) otherwise; exact in double
			double magnitude = (exponent == 0) ? Math.scalb((double) mantissa, -24)
					: Math.scalb((double) (1024 + mantissa), exponent - 25);
			double expected = ((h & 0x8000) != 0) ? -magnitude : magnitude;
			assertThat(Float.floatToRawIntBits(decoded[i])).as("F16 0x%04X", h)
				.isEqualTo(Float.floatToRawIntBits((float) expected));
			assertThat((double) decoded[i]).as("F16 0x%04X", h).isEqualTo(expected);
		}
	}

	@Test
	void readShouldDecodeBf16ExactlyAtKnownBitPatternsAndEveryFinitePattern() throws IOException {
		int[] bits = { 0x3F80, 0x4049, 0x8000, 0x0001, 0x7F7F, 0xC000 };
		float[] expected = { 1.0f, 3.140625f, -0.0f, Float.intBitsToFloat(0x00010000), 0x1.FEp127f, -2.0f };
		Safetensors.File read = read(SafetensorsBytes.builder().bf16("b", new int[] { 2, 3 }, bits).build());
		assertThat(read.dtypes().get("b")).isEqualTo(Dtype.BF16);
		assertThat(read.tensors().get("b").shape()).containsExactly(2, 3);
		assertThat(bits(read.tensors().get("b").float32())).isEqualTo(bits(expected));

		int[] patterns = finitePatterns(0x7F80);
		float[] decoded = read(SafetensorsBytes.builder().bf16("b", new int[] { patterns.length }, patterns).build())
			.tensors()
			.get("b")
			.float32();
		for (int i = 0; i < patterns.length; i++) {
			assertThat(Float.floatToRawIntBits(decoded[i])).as("BF16 0x%04X", patterns[i]).isEqualTo(patterns[i] << 16);
		}
	}

	@Test
	void halfToFloatShouldMapInfinitiesAndNaNsToTheirFloatCounterparts() {
		assertThat(Safetensors.halfToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
		assertThat(Safetensors.halfToFloat((short) 0xFC00)).isEqualTo(Float.NEGATIVE_INFINITY);
		assertThat(Safetensors.halfToFloat((short) 0x7E00)).isNaN();
		assertThat(Safetensors.halfToFloat((short) 0xFC01)).isNaN();
	}

	// ---- malformed files: every class fails, naming the culprit --------------------------------------------------

	@Test
	void readWhenBodyIsShorterThan8BytesShouldFailNamingTheLengthField() {
		assertRejected("body shorter than 8 bytes");
		assertRejected("empty body");
	}

	@Test
	void readWhenHeaderLengthRunsPastTheBodyShouldFailNamingTheLengthWhetherOrNotTheBodyLengthIsKnown() {
		assertThat(assertRejected("header length past the body, length known")).contains("runs past the body");
		assertThat(assertRejected("header length past the body, length unknown")).contains("body ends before");
	}

	@Test
	void readWhenHeaderLengthIsAboveTheBoundOrNegativeShouldFailBeforeReadingTheHeader() {
		assertThat(assertRejected("header length above MAX_HEADER_BYTES"))
			.contains(Integer.toString(Safetensors.MAX_HEADER_BYTES));
		assertRejected("header length negative");
	}

	@Test
	void readWhenHeaderIsNotJsonShouldFailSayingSo() {
		assertRejected("header not JSON");
		assertRejected("header JSON followed by garbage");
	}

	@Test
	void readWhenHeaderIsAJsonArrayShouldFailAskingForAnObject() {
		assertRejected("header a JSON array");
	}

	@Test
	void readWhenATensorNameIsDuplicatedShouldFailNamingTheTensor() {
		assertRejected("duplicate tensor name");
	}

	@Test
	void readWhenAnEntryHasAnExtraKeyOrLacksTheDtypeShouldFailNamingTheTensor() {
		assertRejected("extra key in an entry");
		assertRejected("missing dtype");
		assertRejected("dtype not a string");
	}

	@Test
	void readWhenDtypeIsUnknownShouldFailNamingTheTensorAndTheDtype() {
		assertThat(assertRejected("unknown dtype I32")).contains("F64", "F32");
	}

	@Test
	void readWhenShapeIsNegativeFractionalTooDeepOrTooLargeShouldFailNamingTheTensor() {
		assertRejected("negative shape dimension");
		assertRejected("fractional shape dimension");
		assertRejected("rank above Tensor.MAX_RANK");
		assertRejected("element count overflowing int");
	}

	@Test
	void readWhenShapeDisagreesWithTheByteCountShouldFailNamingTheTensorAndBothSizes() {
		assertThat(assertRejected("shape disagreeing with the byte count")).contains("[3]", "16");
	}

	@Test
	void readWhenDataOffsetsAreNotAnOrderedPairShouldFailNamingTheTensor() {
		assertRejected("data_offsets end before begin");
		assertRejected("data_offsets not two numbers");
	}

	@Test
	void readWhenOffsetsOverlapShouldFailNamingTheTensor() {
		assertThat(assertRejected("overlapping offsets")).contains("8", "16");
	}

	@Test
	void readWhenTensorsLeaveAGapShouldFailNamingTheTensorAfterIt() {
		assertRejected("gap between tensors");
		assertRejected("gap before the first tensor");
	}

	@Test
	void readWhenOffsetsRunBeyondTheDataShouldFailNamingTheTensorWhetherOrNotTheBodyLengthIsKnown() {
		assertRejected("offsets beyond the data, length known");
		assertRejected("truncated data, length unknown");
	}

	@Test
	void readWhenBytesFollowTheDataShouldFailWhetherOrNotTheBodyLengthIsKnown() {
		assertRejected("trailing bytes after the data, length known");
		assertRejected("trailing bytes after the data, length unknown");
	}

	@Test
	void readWhenF64DataHoldsNaNOrInfinityShouldFailNamingTheTensorAndIndex() {
		assertRejected("NaN in F64 data");
		assertRejected("Infinity in F64 data");
		assertRejected("-Infinity in F64 data");
		assertRejected("signalling NaN in F64 data");
	}

	@Test
	void readWhenF32DataHoldsNaNOrInfinityShouldFailNamingTheTensorAndIndex() {
		assertRejected("NaN in F32 data");
		assertRejected("Infinity in F32 data");
		assertRejected("-Infinity in F32 data");
	}

	@Test
	void readWhenF16OrBf16DataHoldsNaNOrInfinityShouldFailNamingTheTensorAndIndex() {
		for (String value : List.of("NaN", "Infinity", "-Infinity")) {
			assertRejected(value + " in F16 data");
			assertRejected(value + " in BF16 data");
		}
	}

	@Test
	void readWhenMetadataHoldsANonStringShouldFailNamingTheKey() {
		assertRejected("__metadata__ with a non-string value");
		assertRejected("__metadata__ not an object");
	}

	@Test
	void readWhenAHugeTensorIsDeclaredButTheBodyEndsShouldFailWithoutAllocatingIt() {
		// ~17 GB declared, no data sent, length unknown (a chunked request): must fail on the missing data, not
		// allocate the whole tensor up front
		long elements = Integer.MAX_VALUE - 8;
		byte[] file = SafetensorsBytes.builder()
			.entry("w", "F64", new long[] { elements }, 0, 8 * elements, SafetensorsBytes.f64Bytes(1, 2, 3))
			.build();

		assertThatExceptionOfType(SafetensorsException.class)
			.isThrownBy(() -> Safetensors.read(new ByteArrayInputStream(file), -1))
			.withMessageContaining("tensor 'w'");
	}

	@ParameterizedTest(name = "[{index}] {0}")
	@MethodSource("malformedFiles")
	void readWhenFileIsMalformedShouldFailNamingTheCulprit(Malformed malformed) {
		assertThatExceptionOfType(SafetensorsException.class)
			.isThrownBy(() -> Safetensors.read(new ByteArrayInputStream(malformed.bytes()), malformed.contentLength()))
			.satisfies(ex -> assertThat(ex.getMessage()).contains(malformed.culprits()));
	}

	static Stream<Malformed> malformedFiles() {
		return SafetensorsBytes.malformed().stream();
	}

	// ---- helpers -----------------------------------------------------------------------------------------------

	/** Reads the catalogued file, asserts it is rejected naming its culprits, returns the message. */
	private static String assertRejected(String description) {
		Malformed malformed = SafetensorsBytes.malformed()
			.stream()
			.filter(m -> m.description().equals(description))
			.findFirst()
			.orElseThrow(() -> new AssertionError("no catalogued malformed file '" + description + "'"));
		SafetensorsException thrown = null;
		try {
			Safetensors.File file = Safetensors.read(new ByteArrayInputStream(malformed.bytes()),
					malformed.contentLength());
			throw new AssertionError(description + ": read succeeded with " + file.tensors().keySet());
		}
		catch (SafetensorsException ex) {
			thrown = ex;
		}
		catch (IOException ex) {
			throw new AssertionError(description + ": expected SafetensorsException, got " + ex, ex);
		}
		assertThat(thrown.getMessage()).as(description).contains(malformed.culprits());
		return thrown.getMessage();
	}

	private static byte[] write(Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		byte[] header = Safetensors.header(tensors, metadata);
		Safetensors.write(header, tensors, out);
		assertThat(out.size()).isEqualTo(Safetensors.length(header, tensors));
		return out.toByteArray();
	}

	private static Safetensors.File read(byte[] file) throws IOException {
		return Safetensors.read(new ByteArrayInputStream(file), file.length);
	}

	/** Every 16-bit pattern whose exponent field is not all ones (those are infinities and NaNs). */
	private static int[] finitePatterns(int exponentMask) {
		return java.util.stream.IntStream.range(0, 0x10000).filter(h -> (h & exponentMask) != exponentMask).toArray();
	}

	private static long[] bits(double[] values) {
		return Arrays.stream(values).mapToLong(Double::doubleToRawLongBits).toArray();
	}

	private static int[] bits(float[] values) {
		int[] bits = new int[values.length];
		for (int i = 0; i < values.length; i++) {
			bits[i] = Float.floatToRawIntBits(values[i]);
		}
		return bits;
	}

}
