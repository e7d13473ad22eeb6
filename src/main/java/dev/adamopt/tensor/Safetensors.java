package dev.adamopt.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.adamopt.memory.RequestMemory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON header
 * {@code {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}}, then raw
 * little-endian row-major data that the tensors tile without holes or overlaps.
 * <p>
 * Data moves between the stream and primitive arrays in bulk through one reusable chunk buffer: no per-element
 * objects, no copy of the whole body.
 */
public final class Safetensors {

	/** safetensors' own reference implementation refuses headers above 100 MB; ours hold names and shapes only. */
	public static final int MAX_HEADER_BYTES = 16 * 1024 * 1024;

	public static final String METADATA = "__metadata__";

	private static final int CHUNK_BYTES = 64 * 1024;

	/**
	 * Elements allocated ahead of the data that fills them. A header's shape is only a claim: larger tensors grow as
	 * their data arrives, so a tiny body cannot make the server allocate gigabytes, while tensors up to this size
	 * (8 MiB of float64) are read without a single extra copy.
	 */
	private static final int UNBACKED_ELEMENTS = 1 << 20;

	private static final JsonMapper HEADER_MAPPER = JsonMapper.builder()
		.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
		.build();

	private Safetensors() {
	}

	/**
	 * A read file: tensors in the order of their data, each with the dtype it was stored in (F16 and BF16 data are
	 * widened exactly to float32 tensors).
	 */
	public record File(Map<String, Tensor> tensors, Map<String, Dtype> dtypes, Map<String, String> metadata) {

	}

	private record Entry(String name, Dtype dtype, int[] shape, long begin, long end) {

		long elements() {
			return (this.end - this.begin) / this.dtype.size();
		}

	}

	/**
	 * Reads one file from {@code in}; {@code contentLength} is the body's length when known, else {@code -1}.
	 * @throws SafetensorsException if the file is malformed (nothing is returned then)
	 */
	public static File read(InputStream in, long contentLength) throws IOException {
		return read(in, contentLength, true);
	}

	/**
	 * Reads one file from {@code in}; {@code contentLength} is the body's length when known, else {@code -1}.
	 * @param finiteOnly whether NaN and infinities are refused (data from a client) or kept bit for bit (state the
	 * service computed and wrote itself)
	 * @throws SafetensorsException if the file is malformed (nothing is returned then)
	 */
	public static File read(InputStream in, long contentLength, boolean finiteOnly) throws IOException {
		byte[] prefix = readFully(in, 8, "the 8-byte header length");
		long headerLength = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
		if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
			throw new SafetensorsException("header length " + headerLength + " is outside 2.." + MAX_HEADER_BYTES);
		}
		if (contentLength >= 0 && 8 + headerLength > contentLength) {
			throw new SafetensorsException("header length " + headerLength + " runs past the body of " + contentLength
					+ " bytes");
		}
		byte[] headerBytes = readFully(in, (int) headerLength, "the " + headerLength + "-byte header");
		Map<String, String> metadata = new LinkedHashMap<>();
		List<Entry> entries = parseHeader(headerBytes, metadata);
		long dataLength = (contentLength >= 0) ? contentLength - 8 - headerLength : -1;
		checkTiling(entries, dataLength);
		long declared = 0;
		for (Entry entry : entries) {
			declared += Tensor.estimatedBytes(entry.elements(), entry.dtype != Dtype.F64);
		}
		// the header declares every size up front: refuse before reading or allocating any data
		RequestMemory.charge(declared, "decoding the request's " + entries.size() + " safetensors tensors");

		Map<String, Tensor> tensors = new LinkedHashMap<>();
		Map<String, Dtype> dtypes = new LinkedHashMap<>();
		byte[] chunk = new byte[CHUNK_BYTES];
		for (Entry entry : entries) {
			tensors.put(entry.name, readData(in, entry, chunk, finiteOnly));
			dtypes.put(entry.name, entry.dtype);
		}
		if (in.read() != -1) {
			throw new SafetensorsException("bytes follow the last tensor's data: the offsets must cover the data exactly");
		}
		return new File(tensors, dtypes, metadata);
	}

	private static List<Entry> parseHeader(byte[] headerBytes, Map<String, String> metadata) {
		JsonNode header;
		try {
			header = HEADER_MAPPER.readTree(headerBytes);
		}
		catch (JacksonException ex) {
			throw new SafetensorsException("the header is not valid JSON: " + ex.getOriginalMessage());
		}
		if (header == null || !header.isObject()) {
			throw new SafetensorsException("the header must be a JSON object");
		}
		List<Entry> entries = new ArrayList<>();
		for (Map.Entry<String, JsonNode> property : header.properties()) {
			String name = property.getKey();
			JsonNode value = property.getValue();
			if (METADATA.equals(name)) {
				if (!value.isObject()) {
					throw new SafetensorsException("__metadata__ must be an object of strings");
				}
				for (Map.Entry<String, JsonNode> item : value.properties()) {
					if (!item.getValue().isString()) {
						throw new SafetensorsException("__metadata__." + item.getKey() + " must be a string");
					}
					metadata.put(item.getKey(), item.getValue().asString());
				}
				continue;
			}
			entries.add(parseEntry(name, value));
		}
		return entries;
	}

	private static Entry parseEntry(String name, JsonNode value) {
		String where = "tensor '" + name + "'";
		if (!value.isObject() || value.size() != 3 || !value.has("dtype") || !value.has("shape")
				|| !value.has("data_offsets")) {
			throw new SafetensorsException(where + " must be {\"dtype\", \"shape\", \"data_offsets\"} and nothing else");
		}
		if (!value.get("dtype").isString()) {
			throw new SafetensorsException(where + ": dtype must be a string");
		}
		Dtype dtype;
		try {
			dtype = Dtype.of(value.get("dtype").asString());
		}
		catch (SafetensorsException ex) {
			throw new SafetensorsException(where + ": " + ex.getMessage());
		}
		JsonNode shapeNode = value.get("shape");
		if (!shapeNode.isArray() || shapeNode.size() > Tensor.MAX_RANK) {
			throw new SafetensorsException(where + ": shape must be an array of at most " + Tensor.MAX_RANK + " sizes");
		}
		int[] shape = new int[shapeNode.size()];
		for (int i = 0; i < shape.length; i++) {
			JsonNode dim = shapeNode.get(i);
			if (!dim.canConvertToInt() || !dim.isIntegralNumber() || dim.asInt() < 0) {
				throw new SafetensorsException(where + ": shape must hold whole numbers >= 0, got " + shapeNode);
			}
			shape[i] = dim.asInt();
		}
		long elements;
		try {
			elements = Tensor.checkShape(shape);
		}
		catch (IllegalArgumentException ex) {
			throw new SafetensorsException(where + ": " + ex.getMessage());
		}
		JsonNode offsets = value.get("data_offsets");
		if (!offsets.isArray() || offsets.size() != 2 || !offsets.get(0).canConvertToLong()
				|| !offsets.get(0).isIntegralNumber() || !offsets.get(1).canConvertToLong()
				|| !offsets.get(1).isIntegralNumber()) {
			throw new SafetensorsException(where + ": data_offsets must be [begin, end], whole numbers");
		}
		long begin = offsets.get(0).asLong();
		long end = offsets.get(1).asLong();
		if (begin < 0 || end < begin) {
			throw new SafetensorsException(where + ": data_offsets " + offsets + " must satisfy 0 <= begin <= end");
		}
		if (end - begin != elements * dtype.size()) {
			throw new SafetensorsException(where + ": shape " + Arrays.toString(shape) + " of " + dtype + " needs "
					+ elements * dtype.size() + " bytes, data_offsets " + offsets + " span " + (end - begin));
		}
		return new Entry(name, dtype, shape, begin, end);
	}

	private static void checkTiling(List<Entry> entries, long dataLength) {
		entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
		long expected = 0;
		for (Entry entry : entries) {
			if (entry.begin != expected) {
				throw new SafetensorsException("tensor '" + entry.name + "' starts at byte " + entry.begin + " but "
						+ ((entry.begin > expected) ? "the data before it ends at " + expected + " (a hole)"
								: "the previous tensor runs to " + expected + " (an overlap)"));
			}
			expected = entry.end;
		}
		if (dataLength >= 0 && expected > dataLength) {
			Entry beyond = entries.stream().filter(entry -> entry.end > dataLength).findFirst().orElseThrow();
			throw new SafetensorsException("tensor '" + beyond.name + "' ends at byte " + beyond.end
					+ " of the data but the body holds only " + dataLength + " (offsets out of range)");
		}
		if (dataLength >= 0 && expected != dataLength) {
			throw new SafetensorsException("the tensors cover " + expected + " bytes of data but the body holds "
					+ dataLength + " (unreferenced bytes)");
		}
	}

	private static Tensor readData(InputStream in, Entry entry, byte[] chunk, boolean finiteOnly) throws IOException {
		int n = (int) ((entry.end - entry.begin) / entry.dtype.size());
		ByteBuffer buffer = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
		int perChunk = CHUNK_BYTES / entry.dtype.size();
		double maxAbs = 0;
		if (entry.dtype == Dtype.F64) {
			double[] data = new double[Math.min(n, UNBACKED_ELEMENTS)];
			for (int offset = 0; offset < n; offset += perChunk) {
				int count = Math.min(perChunk, n - offset);
				fill(in, chunk, count * 8, entry);
				data = (offset + count <= data.length) ? data : Arrays.copyOf(data, grown(data.length, n));
				buffer.clear();
				buffer.asDoubleBuffer().get(data, offset, count);
				for (int i = offset; i < offset + count; i++) {
					// the chunk is in cache: its largest magnitude costs next to nothing here, a pass later
					maxAbs = Math.max(maxAbs, Math.abs(data[i]));
				}
				if (finiteOnly && !Double.isFinite(maxAbs)) {
					for (int i = offset; i < offset + count; i++) {
						if (!Double.isFinite(data[i])) {
							throw nonFinite(entry, i, data[i]);
						}
					}
				}
			}
			return Tensor.ofFloat64(entry.shape, data).withMaxAbs(maxAbs);
		}
		float[] data = new float[Math.min(n, UNBACKED_ELEMENTS)];
		for (int offset = 0; offset < n; offset += perChunk) {
			int count = Math.min(perChunk, n - offset);
			fill(in, chunk, count * entry.dtype.size(), entry);
			data = (offset + count <= data.length) ? data : Arrays.copyOf(data, grown(data.length, n));
			buffer.clear();
			switch (entry.dtype) {
				case F32 -> buffer.asFloatBuffer().get(data, offset, count);
				case F16 -> {
					for (int i = 0; i < count; i++) {
						data[offset + i] = halfToFloat(buffer.getShort(2 * i));
					}
				}
				default -> {
					for (int i = 0; i < count; i++) {
						data[offset + i] = Float.intBitsToFloat((buffer.getShort(2 * i) & 0xffff) << 16);
					}
				}
			}
			for (int i = offset; i < offset + count; i++) {
				maxAbs = Math.max(maxAbs, Math.abs(data[i]));
			}
			if (finiteOnly && !Double.isFinite(maxAbs)) {
				for (int i = offset; i < offset + count; i++) {
					if (!Float.isFinite(data[i])) {
						throw nonFinite(entry, i, data[i]);
					}
				}
			}
		}
		return Tensor.ofFloat32(entry.shape, data).withMaxAbs(maxAbs);
	}

	/**
	 * The next capacity of an array that grows towards {@code n} elements as data arrives: what a body holds, not
	 * what its header claims, decides how much memory a request takes.
	 */
	private static int grown(int capacity, int n) {
		return (int) Math.min(n, 2L * capacity);
	}

	/** IEEE 754 binary16 to float, exactly (Java 17 lacks Float.float16ToFloat). */
	static float halfToFloat(short half) {
		int bits = half & 0xffff;
		int sign = (bits & 0x8000) << 16;
		int exponent = (bits >>> 10) & 0x1f;
		int mantissa = bits & 0x3ff;
		if (exponent == 0x1f) {
			return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
		}
		if (exponent == 0) {
			// zero or subnormal: mantissa * 2^-24, exact in float
			float magnitude = mantissa * 0x1p-24f;
			return (sign != 0) ? -magnitude : magnitude;
		}
		return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
	}

	private static SafetensorsException nonFinite(Entry entry, int index, double value) {
		return new SafetensorsException("tensor '" + entry.name + "' holds " + value + " at flat index " + index
				+ ": values must be finite");
	}

	private static void fill(InputStream in, byte[] chunk, int length, Entry entry) throws IOException {
		int read = in.readNBytes(chunk, 0, length);
		if (read < length) {
			throw new SafetensorsException("the body ends inside tensor '" + entry.name
					+ "': data_offsets point past the end of the data");
		}
	}

	private static byte[] readFully(InputStream in, int length, String what) throws IOException {
		byte[] bytes = in.readNBytes(length);
		if (bytes.length < length) {
			throw new SafetensorsException("the body ends before " + what + " (" + bytes.length + " of " + length
					+ " bytes)");
		}
		return bytes;
	}

	/** The header bytes (JSON padded with spaces to a multiple of 8, as the format recommends). */
	public static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
		java.io.ByteArrayOutputStream json = new java.io.ByteArrayOutputStream();
		try (JsonGenerator generator = HEADER_MAPPER.createGenerator(json)) {
			generator.writeStartObject();
			if (!metadata.isEmpty()) {
				generator.writeName(METADATA);
				generator.writeStartObject();
				for (Map.Entry<String, String> item : metadata.entrySet()) {
					generator.writeStringProperty(item.getKey(), item.getValue());
				}
				generator.writeEndObject();
			}
			long offset = 0;
			for (Map.Entry<String, Tensor> entry : tensors.entrySet()) {
				Tensor tensor = entry.getValue();
				long bytes = (long) tensor.size() * (tensor.isFloat32() ? 4 : 8);
				generator.writeName(entry.getKey());
				generator.writeStartObject();
				generator.writeStringProperty("dtype", tensor.isFloat32() ? "F32" : "F64");
				generator.writeName("shape");
				generator.writeArray(tensor.shape(), 0, tensor.rank());
				generator.writeName("data_offsets");
				generator.writeStartArray();
				generator.writeNumber(offset);
				generator.writeNumber(offset + bytes);
				generator.writeEndArray();
				generator.writeEndObject();
				offset += bytes;
			}
			generator.writeEndObject();
		}
		int length = json.size();
		int padded = (length + 7) & ~7;
		byte[] header = Arrays.copyOf(json.toByteArray(), padded);
		Arrays.fill(header, length, padded, (byte) ' ');
		return header;
	}

	/** The size in bytes of the whole file {@link #write} produces with this header. */
	public static long length(byte[] header, Map<String, Tensor> tensors) {
		long length = 8L + header.length;
		for (Tensor tensor : tensors.values()) {
			length += (long) tensor.size() * (tensor.isFloat32() ? 4 : 8);
		}
		return length;
	}

	/** Writes a file: tensors in map order, each in its own dtype (F64 or F32). */
	public static void write(byte[] header, Map<String, Tensor> tensors, OutputStream out) throws IOException {
		byte[] chunk = new byte[CHUNK_BYTES];
		ByteBuffer buffer = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
		buffer.putLong(0, header.length);
		out.write(chunk, 0, 8);
		out.write(header);
		for (Tensor tensor : tensors.values()) {
			int n = tensor.size();
			if (tensor.isFloat32()) {
				float[] data = tensor.float32();
				for (int offset = 0; offset < n; offset += CHUNK_BYTES / 4) {
					int count = Math.min(CHUNK_BYTES / 4, n - offset);
					buffer.clear();
					buffer.asFloatBuffer().put(data, offset, count);
					out.write(chunk, 0, count * 4);
				}
			}
			else {
				double[] data = tensor.float64();
				for (int offset = 0; offset < n; offset += CHUNK_BYTES / 8) {
					int count = Math.min(CHUNK_BYTES / 8, n - offset);
					buffer.clear();
					buffer.asDoubleBuffer().put(data, offset, count);
					out.write(chunk, 0, count * 8);
				}
			}
		}
	}

}
