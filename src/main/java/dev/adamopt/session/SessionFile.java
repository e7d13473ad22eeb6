package dev.adamopt.session;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

import dev.adamopt.tensor.Safetensors;
import dev.adamopt.tensor.SafetensorsException;
import dev.adamopt.tensor.Tensor;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The format of one session's file on disk, all integers little-endian:
 *
 * <pre>
 * magic              8 bytes  "ADAMSESS"
 * format version     u32      1
 * header length n    u32
 * header             n bytes  JSON {"id", "createdAt", "lastUsedAt", "version", "metadata": {"version", "entries"}}
 * checkpoint length  u64
 * checkpoint         safetensors: the session's checkpoint exactly as GET .../state answers it ({@link CheckpointFormat})
 * answer length      u64      (format version 2) 0 when there is no answer
 * answer             safetensors: the remembered answer of the latest keyed step, each parameter in the dtype it
 *                    was answered in (format version 2)
 * history length     u64      (format version 3) 0 when there is no history
 * history            safetensors: one F64 tensor "history" of shape [entries, 8], the step history
 *                    ({@link StepHistory#toTensor()}; binary, so that a long history costs a copy, not a JSON text)
 * checksum           u32      CRC32C of every byte before it
 * </pre>
 *
 * Version 1 files (without the answer) and version 2 files (without the history) are read as well.
 *
 * A file that does not end exactly after a matching checksum is refused: a torn or altered file is never read as a
 * session.
 */
final class SessionFile {

	/** The version this code writes; it reads this one and versions 1 and 2. */
	static final int FORMAT_VERSION = 3;

	private static final String HISTORY = "history";

	private static final byte[] MAGIC = "ADAMSESS".getBytes(StandardCharsets.US_ASCII);

	private static final int MAX_HEADER_BYTES = Safetensors.MAX_HEADER_BYTES;

	private static final JsonMapper HEADER_MAPPER = JsonMapper.builder()
		.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
		.build();

	private final CheckpointFormat checkpointFormat;

	SessionFile(CheckpointFormat checkpointFormat) {
		this.checkpointFormat = checkpointFormat;
	}

	/** A file that cannot be read as a session: not one, torn, altered or of another format version. */
	static final class CorruptException extends IOException {

		CorruptException(String message) {
			super(message);
		}

	}

	/** Writes the file to {@code out} (which it does not close). */
	void write(PersistedSession session, OutputStream out) throws IOException {
		CRC32C checksum = new CRC32C();
		CheckedOutputStream checked = new CheckedOutputStream(out, checksum);
		byte[] header = HEADER_MAPPER.writeValueAsBytes(header(session));
		CheckpointFormat.Encoded checkpoint = this.checkpointFormat.encode(session.checkpoint());
		checked.write(MAGIC);
		checked.write(littleEndian(8).putInt(FORMAT_VERSION).putInt(header.length).array());
		checked.write(header);
		checked.write(littleEndian(8).putLong(checkpoint.length()).array());
		checkpoint.writeTo(checked);
		if (session.answer().isEmpty()) {
			checked.write(littleEndian(8).putLong(0).array());
		}
		else {
			byte[] answerHeader = Safetensors.header(session.answer(), Map.of());
			checked.write(littleEndian(8).putLong(Safetensors.length(answerHeader, session.answer())).array());
			Safetensors.write(answerHeader, session.answer(), checked);
		}
		if (session.history() == null) {
			checked.write(littleEndian(8).putLong(0).array());
		}
		else {
			Map<String, Tensor> history = Map.of(HISTORY, session.history());
			byte[] historyHeader = Safetensors.header(history, Map.of());
			checked.write(littleEndian(8).putLong(Safetensors.length(historyHeader, history)).array());
			Safetensors.write(historyHeader, history, checked);
		}
		out.write(littleEndian(4).putInt((int) checksum.getValue()).array());
	}

	private static ObjectNode header(PersistedSession session) {
		ObjectNode header = HEADER_MAPPER.createObjectNode();
		header.put("id", session.id());
		header.put("createdAt", session.createdAt().toString());
		header.put("lastUsedAt", session.lastUsedAt().toString());
		header.put("version", session.version());
		ObjectNode metadata = header.putObject("metadata");
		metadata.put("version", session.metadata().version());
		ObjectNode entries = metadata.putObject("entries");
		session.metadata().entries().forEach(entries::put);
		return header;
	}

	/**
	 * Reads a file of {@code size} bytes.
	 * @throws CorruptException if it is not a whole, unaltered session file of this format version
	 * @throws IOException if it cannot be read
	 */
	PersistedSession read(InputStream in, long size) throws IOException {
		CRC32C checksum = new CRC32C();
		CheckedInputStream checked = new CheckedInputStream(in, checksum);
		try {
			byte[] magic = checked.readNBytes(MAGIC.length);
			if (!Arrays.equals(magic, MAGIC)) {
				throw new CorruptException("not a session file (it does not start with ADAMSESS)");
			}
			ByteBuffer fixed = ByteBuffer.wrap(readFully(checked, 8)).order(ByteOrder.LITTLE_ENDIAN);
			int version = fixed.getInt();
			if (version < 1 || version > FORMAT_VERSION) {
				throw new CorruptException("format version " + Integer.toUnsignedString(version) + ", this service reads "
						+ "versions 1 to " + FORMAT_VERSION);
			}
			int headerLength = fixed.getInt();
			if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || 16L + headerLength + 8 + 4 > size) {
				throw new CorruptException("truncated or corrupt: header length " + Integer.toUnsignedString(headerLength)
						+ " does not fit a file of " + size + " bytes");
			}
			JsonNode header = parseHeader(readFully(checked, headerLength));
			long checkpointLength = ByteBuffer.wrap(readFully(checked, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
			long before = 16L + headerLength + 8 + checkpointLength;
			if (checkpointLength < 0 || before + ((version == 1) ? 4 : (version == 2) ? 12 : 20) > size) {
				throw new CorruptException("truncated or corrupt: its lengths add up to more than the file's " + size
						+ " bytes");
			}
			Safetensors.File file = Safetensors.read(new Bounded(checked, checkpointLength), checkpointLength, false);
			Map<String, Tensor> answer = Map.of();
			Tensor history = null;
			long expected = before + 4;
			if (version >= 2) {
				long answerLength = ByteBuffer.wrap(readFully(checked, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
				expected = before + 8 + answerLength + ((version >= 3) ? 8 : 0) + 4;
				if (answerLength < 0 || expected > size || (version == 2 && expected != size)) {
					throw new CorruptException("truncated or corrupt: its lengths add up to " + expected + " bytes, the "
							+ "file has " + size);
				}
				if (answerLength > 0) {
					answer = Safetensors.read(new Bounded(checked, answerLength), answerLength, false).tensors();
				}
				if (version >= 3) {
					long historyLength = ByteBuffer.wrap(readFully(checked, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
					expected += historyLength;
					if (historyLength < 0 || expected != size) {
						throw new CorruptException("truncated or corrupt: its lengths add up to " + expected
								+ " bytes, the file has " + size);
					}
					if (historyLength > 0) {
						history = Safetensors.read(new Bounded(checked, historyLength), historyLength, false)
							.tensors()
							.get(HISTORY);
						if (history == null) {
							throw new CorruptException("its history section lacks the tensor '" + HISTORY + "'");
						}
					}
				}
			}
			else if (expected != size) {
				throw new CorruptException("truncated or corrupt: its lengths add up to " + expected + " bytes, the file "
						+ "has " + size);
			}
			int computed = (int) checksum.getValue();
			int stored = ByteBuffer.wrap(readFully(in, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
			if (stored != computed) {
				throw new CorruptException("checksum mismatch (CRC32C " + Integer.toHexString(stored) + " stored, "
						+ Integer.toHexString(computed) + " computed)");
			}
			if (in.read() != -1) {
				throw new CorruptException("bytes follow the checksum");
			}
			return new PersistedSession(text(header, "id"), instant(header, "createdAt"), instant(header, "lastUsedAt"),
					number(header, "version"), this.checkpointFormat.decode(file), metadata(header.get("metadata")),
					answer, history);
		}
		catch (EOFException ex) {
			throw new CorruptException("truncated: " + ex.getMessage());
		}
		catch (SafetensorsException | SessionException ex) {
			throw new CorruptException("its checkpoint is not valid: " + ex.getMessage());
		}
	}

	private static JsonNode parseHeader(byte[] bytes) throws CorruptException {
		try {
			JsonNode header = HEADER_MAPPER.readTree(bytes);
			if (header == null || !header.isObject()) {
				throw new CorruptException("its header is not a JSON object");
			}
			return header;
		}
		catch (JacksonException ex) {
			throw new CorruptException("its header is not valid JSON: " + ex.getOriginalMessage());
		}
	}

	private static String text(JsonNode header, String field) throws CorruptException {
		JsonNode value = header.get(field);
		if (value == null || !value.isString()) {
			throw new CorruptException("its header lacks the string '" + field + "'");
		}
		return value.asString();
	}

	private static Instant instant(JsonNode header, String field) throws CorruptException {
		try {
			return Instant.parse(text(header, field));
		}
		catch (DateTimeException ex) {
			throw new CorruptException("its header's '" + field + "' is not an instant");
		}
	}

	private static long number(JsonNode header, String field) throws CorruptException {
		JsonNode value = header.get(field);
		if (value == null || !value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 1) {
			throw new CorruptException("its header's '" + field + "' is not a whole number >= 1");
		}
		return value.asLong();
	}

	private static PersistedSession.Metadata metadata(JsonNode node) throws CorruptException {
		if (node == null || !node.isObject() || !node.path("version").isInt() || !node.path("entries").isObject()) {
			throw new CorruptException("its header's 'metadata' is not {\"version\": n, \"entries\": {...}}");
		}
		Map<String, String> entries = new LinkedHashMap<>();
		for (Map.Entry<String, JsonNode> entry : node.get("entries").properties()) {
			if (!entry.getValue().isString()) {
				throw new CorruptException("its header's metadata entry '" + entry.getKey() + "' is not a string");
			}
			entries.put(entry.getKey(), entry.getValue().asString());
		}
		return new PersistedSession.Metadata(node.get("version").asInt(), entries);
	}

	private static byte[] readFully(InputStream in, int length) throws IOException {
		byte[] bytes = in.readNBytes(length);
		if (bytes.length < length) {
			throw new EOFException("the file ends " + (length - bytes.length) + " bytes early");
		}
		return bytes;
	}

	private static ByteBuffer littleEndian(int capacity) {
		return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
	}

	/** At most {@code remaining} bytes of a stream, then its end: the checkpoint inside the file. */
	private static final class Bounded extends FilterInputStream {

		private long remaining;

		Bounded(InputStream in, long length) {
			super(in);
			this.remaining = length;
		}

		@Override
		public int read() throws IOException {
			if (this.remaining == 0) {
				return -1;
			}
			int b = super.read();
			if (b >= 0) {
				this.remaining--;
			}
			return b;
		}

		@Override
		public int read(byte[] buffer, int offset, int length) throws IOException {
			if (this.remaining == 0) {
				return (length == 0) ? 0 : -1;
			}
			int read = super.read(buffer, offset, (int) Math.min(length, this.remaining));
			if (read > 0) {
				this.remaining -= read;
			}
			return read;
		}

		@Override
		public long skip(long n) {
			throw new UnsupportedOperationException();
		}

	}

}
