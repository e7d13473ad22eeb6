package dev.adamopt.tensor;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Test-side safetensors, independent of the product's reader and writer: a builder that lays files out byte by byte
 * (well-formed or deliberately broken), a strict parser for what the service sends back, and a catalogue of malformed
 * files, one per class of defect, each with the text its error message must contain.
 */
public final class SafetensorsBytes {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private SafetensorsBytes() {
	}

	public static Builder builder() {
		return new Builder();
	}

	/** A file from its parts exactly as given: the 8-byte length field, the header bytes and the data bytes. */
	public static byte[] raw(long headerLengthField, byte[] header, byte[] data) {
		ByteBuffer buffer = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
		buffer.putLong(headerLengthField).put(header).put(data);
		return buffer.array();
	}

	/** A file whose header is {@code headerJson} (padded to 8 bytes with spaces) and whose data is {@code data}. */
	public static byte[] raw(String headerJson, byte[] data) {
		byte[] header = pad(headerJson.getBytes(StandardCharsets.UTF_8));
		return raw(header.length, header, data);
	}

	static byte[] pad(byte[] json) {
		int padded = (json.length + 7) & ~7;
		byte[] header = Arrays.copyOf(json, padded);
		Arrays.fill(header, json.length, padded, (byte) ' ');
		return header;
	}

	public static byte[] f64Bytes(double... values) {
		ByteBuffer buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
		for (double value : values) {
			buffer.putLong(Double.doubleToRawLongBits(value));
		}
		return buffer.array();
	}

	public static byte[] f32Bytes(float... values) {
		ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
		for (float value : values) {
			buffer.putInt(Float.floatToRawIntBits(value));
		}
		return buffer.array();
	}

	public static byte[] u16Bytes(int... bits) {
		ByteBuffer buffer = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
		for (int value : bits) {
			buffer.putShort((short) value);
		}
		return buffer.array();
	}

	public static byte[] concat(byte[]... parts) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		for (byte[] part : parts) {
			out.writeBytes(part);
		}
		return out.toByteArray();
	}

	/** Lays tensors out one after another, offsets computed unless given explicitly. */
	public static final class Builder {

		private final Map<String, Object> header = new LinkedHashMap<>();

		private final Map<String, Object> metadata = new LinkedHashMap<>();

		private final ByteArrayOutputStream data = new ByteArrayOutputStream();

		private Builder() {
		}

		public Builder f64(String name, int[] shape, double... values) {
			return tensor(name, "F64", shape, f64Bytes(values));
		}

		public Builder f32(String name, int[] shape, float... values) {
			return tensor(name, "F32", shape, f32Bytes(values));
		}

		public Builder f16(String name, int[] shape, int... bits) {
			return tensor(name, "F16", shape, u16Bytes(bits));
		}

		public Builder bf16(String name, int[] shape, int... bits) {
			return tensor(name, "BF16", shape, u16Bytes(bits));
		}

		/** A tensor whose bytes follow the data so far, with offsets that cover exactly {@code bytes}. */
		public Builder tensor(String name, String dtype, int[] shape, byte[] bytes) {
			long begin = this.data.size();
			return entry(name, dtype, shape, begin, begin + bytes.length, bytes);
		}

		/** A header entry with the offsets given, then {@code bytes} appended to the data, whatever they say. */
		public Builder entry(String name, Object dtype, Object shape, long begin, long end, byte[] bytes) {
			Map<String, Object> entry = new LinkedHashMap<>();
			entry.put("dtype", dtype);
			entry.put("shape", shape);
			entry.put("data_offsets", List.of(begin, end));
			this.header.put(name, entry);
			this.data.writeBytes(bytes);
			return this;
		}

		/** Any header value under {@code name}, for entries that are not well-formed. */
		public Builder headerValue(String name, Object value) {
			this.header.put(name, value);
			return this;
		}

		public Builder metadata(String key, Object value) {
			this.metadata.put(key, value);
			return this;
		}

		public Builder data(byte[] bytes) {
			this.data.writeBytes(bytes);
			return this;
		}

		public String headerJson() {
			Map<String, Object> all = new LinkedHashMap<>();
			if (!this.metadata.isEmpty()) {
				all.put("__metadata__", this.metadata);
			}
			all.putAll(this.header);
			return JSON.writeValueAsString(all);
		}

		public byte[] build() {
			return raw(headerJson(), this.data.toByteArray());
		}

	}

	/** One tensor of a parsed file: its dtype, shape and raw little-endian bytes. */
	public record Entry(String dtype, int[] shape, byte[] bytes) {

		public double[] f64() {
			if (!"F64".equals(this.dtype)) {
				throw new AssertionError("expected F64, got " + this.dtype);
			}
			double[] values = new double[this.bytes.length / 8];
			ByteBuffer.wrap(this.bytes).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(values);
			return values;
		}

		public float[] f32() {
			if (!"F32".equals(this.dtype)) {
				throw new AssertionError("expected F32, got " + this.dtype);
			}
			float[] values = new float[this.bytes.length / 4];
			ByteBuffer.wrap(this.bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
			return values;
		}

	}

	/** A parsed file: header length, tensors in header order and metadata. */
	public record Parsed(long headerLength, Map<String, Entry> tensors, Map<String, String> metadata) {

	}

	/**
	 * Parses a file the service wrote, checking what a strict reader would: the header length fits, the header is a
	 * JSON object padded to 8 bytes, each entry is well-formed, the offsets tile the data exactly.
	 */
	public static Parsed parse(byte[] file) {
		check(file.length >= 8, "file shorter than 8 bytes");
		ByteBuffer buffer = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
		long headerLength = buffer.getLong(0);
		check(headerLength >= 2 && 8 + headerLength <= file.length, "header length " + headerLength);
		check(headerLength % 8 == 0, "header length " + headerLength + " is not a multiple of 8");
		JsonNode header = JSON.readTree(new String(file, 8, (int) headerLength, StandardCharsets.UTF_8));
		check(header.isObject(), "header is not an object");
		int dataStart = 8 + (int) headerLength;
		int dataLength = file.length - dataStart;
		Map<String, Entry> tensors = new LinkedHashMap<>();
		Map<String, String> metadata = new LinkedHashMap<>();
		List<long[]> ranges = new ArrayList<>();
		for (Map.Entry<String, JsonNode> property : header.properties()) {
			JsonNode value = property.getValue();
			if ("__metadata__".equals(property.getKey())) {
				for (Map.Entry<String, JsonNode> item : value.properties()) {
					check(item.getValue().isString(), "metadata " + item.getKey() + " is not a string");
					metadata.put(item.getKey(), item.getValue().asString());
				}
				continue;
			}
			check(value.size() == 3, "entry " + property.getKey() + " has other keys");
			String dtype = value.get("dtype").asString();
			int size = switch (dtype) {
				case "F64" -> 8;
				case "F32" -> 4;
				case "F16", "BF16" -> 2;
				default -> throw new AssertionError("dtype " + dtype);
			};
			int[] shape = new int[value.get("shape").size()];
			long elements = 1;
			for (int i = 0; i < shape.length; i++) {
				shape[i] = value.get("shape").get(i).asInt();
				elements *= shape[i];
			}
			long begin = value.get("data_offsets").get(0).asLong();
			long end = value.get("data_offsets").get(1).asLong();
			check(end - begin == elements * size, "entry " + property.getKey() + " byte count");
			check(0 <= begin && end <= dataLength, "entry " + property.getKey() + " out of range");
			ranges.add(new long[] { begin, end });
			tensors.put(property.getKey(),
					new Entry(dtype, shape, Arrays.copyOfRange(file, dataStart + (int) begin, dataStart + (int) end)));
		}
		ranges.sort((a, b) -> (a[0] != b[0]) ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
		long expected = 0;
		for (long[] range : ranges) {
			check(range[0] == expected, "offsets do not tile the data at " + range[0]);
			expected = range[1];
		}
		check(expected == dataLength, "offsets cover " + expected + " of " + dataLength + " data bytes");
		return new Parsed(headerLength, Collections.unmodifiableMap(tensors), metadata);
	}

	private static void check(boolean condition, String message) {
		if (!condition) {
			throw new AssertionError("not a well-formed safetensors file: " + message);
		}
	}

	/**
	 * A deliberately malformed file.
	 * @param description what is wrong, for test names
	 * @param bytes the file
	 * @param lengthKnown whether the reader is told the body's length (else it reads to the end of the stream)
	 * @param culprits texts the error message must contain, naming what is wrong
	 */
	public record Malformed(String description, byte[] bytes, boolean lengthKnown, List<String> culprits) {

		public long contentLength() {
			return this.lengthKnown ? this.bytes.length : -1;
		}

		@Override
		public String toString() {
			return this.description;
		}

	}

	private static final int[] TWO = { 2 };

	/** One malformed file per class of defect; tensor names are {@code w} and {@code w.grad}, shape [2]. */
	public static List<Malformed> malformed() {
		List<Malformed> all = new ArrayList<>();
		byte[] twoDoubles = f64Bytes(1.0, 2.0);
		String wEntry = "{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}";
		byte[] good = builder().f64("w", TWO, 1.0, 2.0).f64("w.grad", TWO, 0.5, 0.5).build();

		all.add(new Malformed("body shorter than 8 bytes", new byte[] { 16, 0, 0 }, true,
				List.of("8-byte header length")));
		all.add(new Malformed("empty body", new byte[0], false, List.of("8-byte header length")));
		byte[] header = pad(("{\"w\":" + wEntry + "}").getBytes(StandardCharsets.UTF_8));
		all.add(new Malformed("header length past the body, length known", raw(1000, header, twoDoubles), true,
				List.of("header length 1000")));
		all.add(new Malformed("header length past the body, length unknown", raw(1000, header, twoDoubles), false,
				List.of("1000-byte header")));
		all.add(new Malformed("header length above MAX_HEADER_BYTES",
				raw(Safetensors.MAX_HEADER_BYTES + 1L, header, twoDoubles), false,
				List.of("header length " + (Safetensors.MAX_HEADER_BYTES + 1L))));
		all.add(new Malformed("header length negative", raw(-1L, header, twoDoubles), true,
				List.of("header length -1")));
		all.add(new Malformed("header not JSON", raw("{\"w\": {\"dtype\": \"F64\", ", twoDoubles), true,
				List.of("header is not valid JSON")));
		all.add(new Malformed("header JSON followed by garbage", raw("{\"w\":" + wEntry + "} xyz", twoDoubles), true,
				List.of("header is not valid JSON")));
		all.add(new Malformed("header a JSON array", raw("[1, 2]", new byte[0]), true, List.of("JSON object")));
		all.add(new Malformed("duplicate tensor name",
				raw("{\"w\":" + wEntry + ",\"w\":" + wEntry.replace("0,16", "16,32") + "}",
						concat(twoDoubles, twoDoubles)),
				true, List.of("\"w\"")));
		all.add(new Malformed("extra key in an entry",
				raw("{\"w\":" + wEntry.replace("}", ",\"extra\":1}") + "}", twoDoubles), true,
				List.of("tensor 'w'")));
		all.add(new Malformed("missing dtype",
				raw("{\"w\":{\"shape\":[2],\"data_offsets\":[0,16]}}", twoDoubles), true, List.of("tensor 'w'")));
		all.add(new Malformed("dtype not a string",
				builder().entry("w", 64, TWO, 0, 16, twoDoubles).build(), true, List.of("tensor 'w'", "dtype")));
		all.add(new Malformed("unknown dtype I32",
				builder().entry("w", "I32", new int[] { 4 }, 0, 16, twoDoubles).build(), true,
				List.of("tensor 'w'", "I32")));
		all.add(new Malformed("negative shape dimension",
				builder().entry("w", "F64", new int[] { -2 }, 0, 16, twoDoubles).build(), true,
				List.of("tensor 'w'", "shape")));
		all.add(new Malformed("fractional shape dimension",
				builder().entry("w", "F64", List.of(2.5), 0, 16, twoDoubles).build(), true,
				List.of("tensor 'w'", "shape")));
		all.add(new Malformed("rank above Tensor.MAX_RANK",
				builder().entry("w", "F64", new int[Tensor.MAX_RANK + 1], 0, 0, new byte[0]).build(), true,
				List.of("tensor 'w'", "shape")));
		all.add(new Malformed("element count overflowing int",
				builder().entry("w", "F64", new int[] { 65536, 65536 }, 0, 8L * 65536 * 65536, new byte[0]).build(),
				true, List.of("tensor 'w'")));
		all.add(new Malformed("shape disagreeing with the byte count",
				builder().entry("w", "F64", new int[] { 3 }, 0, 16, twoDoubles).build(), true,
				List.of("tensor 'w'", "24 bytes")));
		all.add(new Malformed("data_offsets end before begin",
				builder().entry("w", "F64", new int[] { 0 }, 16, 0, twoDoubles).build(), true,
				List.of("tensor 'w'", "data_offsets")));
		all.add(new Malformed("data_offsets not two numbers",
				raw("{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[16]}}", twoDoubles), true,
				List.of("tensor 'w'", "data_offsets")));
		all.add(new Malformed("overlapping offsets",
				builder().entry("w", "F64", TWO, 0, 16, twoDoubles)
					.entry("w.grad", "F64", TWO, 8, 24, f64Bytes(3.0))
					.build(),
				true, List.of("tensor 'w.grad'", "overlap")));
		all.add(new Malformed("gap between tensors",
				builder().entry("w", "F64", TWO, 0, 16, twoDoubles)
					.data(new byte[8])
					.entry("w.grad", "F64", TWO, 24, 40, twoDoubles)
					.build(),
				true, List.of("tensor 'w.grad'", "hole")));
		all.add(new Malformed("gap before the first tensor",
				builder().data(new byte[8]).entry("w", "F64", TWO, 8, 24, twoDoubles).build(), true,
				List.of("tensor 'w'", "hole")));
		byte[] shortData = builder().entry("w", "F64", TWO, 0, 16, twoDoubles)
			.entry("w.grad", "F64", TWO, 16, 32, f64Bytes(3.0))
			.build();
		all.add(new Malformed("offsets beyond the data, length known", shortData, true,
				List.of("tensor 'w.grad'", "out of range")));
		all.add(new Malformed("truncated data, length unknown", shortData, false, List.of("tensor 'w.grad'")));
		all.add(new Malformed("trailing bytes after the data, length known", concat(good, new byte[8]), true,
				List.of("unreferenced bytes")));
		all.add(new Malformed("trailing bytes after the data, length unknown", concat(good, new byte[8]), false,
				List.of("bytes follow the last tensor")));
		String[] names = { "NaN", "Infinity", "-Infinity" };
		double[] doubles = { Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY };
		int[] halves = { 0x7E00, 0x7C00, 0xFC00 };
		int[] bhalves = { 0x7FC0, 0x7F80, 0xFF80 };
		for (int i = 0; i < 3; i++) {
			all.add(new Malformed(names[i] + " in F64 data",
					builder().f64("w", TWO, 1.0, 2.0).f64("w.grad", TWO, 0.5, doubles[i]).build(), true,
					List.of("tensor 'w.grad'", "holds " + names[i], "flat index 1")));
			all.add(new Malformed(names[i] + " in F32 data",
					builder().f32("w", TWO, 1.0f, (float) doubles[i]).f32("w.grad", TWO, 0.5f, 0.5f).build(), true,
					List.of("tensor 'w'", "holds " + names[i], "flat index 1")));
			all.add(new Malformed(names[i] + " in F16 data",
					builder().f64("w", TWO, 1.0, 2.0).f16("w.grad", TWO, halves[i], 0x3C00).build(), true,
					List.of("tensor 'w.grad'", "holds " + names[i], "flat index 0")));
			all.add(new Malformed(names[i] + " in BF16 data",
					builder().f64("w", TWO, 1.0, 2.0).bf16("w.grad", TWO, 0x3F80, bhalves[i]).build(), true,
					List.of("tensor 'w.grad'", "holds " + names[i], "flat index 1")));
		}
		all.add(new Malformed("signalling NaN in F64 data",
				builder().f64("w", TWO, 1.0, 2.0)
					.tensor("w.grad", "F64", TWO, concat(f64Bytes(0.5), new byte[] { 1, 0, 0, 0, 0, 0, (byte) 0xF0,
							(byte) 0x7F }))
					.build(),
				true, List.of("tensor 'w.grad'", "NaN")));
		all.add(new Malformed("__metadata__ with a non-string value",
				builder().metadata("step", 3).f64("w", TWO, 1.0, 2.0).f64("w.grad", TWO, 0.5, 0.5).build(), true,
				List.of("__metadata__.step")));
		all.add(new Malformed("__metadata__ not an object",
				raw("{\"__metadata__\":[\"a\"],\"w\":" + wEntry + "}", twoDoubles), true, List.of("__metadata__")));
		return all;
	}

}
