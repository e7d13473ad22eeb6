package dev.adamopt.session;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.adamopt.session.PersistenceTestSupport.FORMAT;
import static dev.adamopt.session.PersistenceTestSupport.assertSameSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** The session file format: exact round trips, and every torn, altered or foreign file refused. */
class SessionFileTest {

	private final SessionFile sessionFile = new SessionFile(FORMAT);

	static Stream<PersistedSession> sessions() {
		return Stream.of(PersistenceTestSupport.float64Held(), PersistenceTestSupport.float32ClientHeld(),
				PersistenceTestSupport.empty(), withAnswer(PersistenceTestSupport.float32ClientHeld()),
				withHistory(withAnswer(PersistenceTestSupport.float64Held())));
	}

	/** The session with a step history: NaN where a norm or a loss is absent, whole numbers up to 2^53. */
	private static PersistedSession withHistory(PersistedSession session) {
		StepHistory history = new StepHistory(100);
		for (int i = 1; i <= 20; i++) {
			history.record(history.prepareRoom(), i, (1L << 53) - 1 - i, 0.1 * i, (i == 3) ? Double.NaN : i,
					1e-300 * i, (i % 2 == 0) ? Double.NaN : -0.0, i % 3 == 0, i == 3, 17L * i);
		}
		return new PersistedSession(session.id(), session.createdAt(), session.lastUsedAt(), session.version(),
				session.checkpoint(), session.metadata(), session.answer(), history.toTensor());
	}

	@Test
	void versionTwoFileWithoutAHistoryShouldStillBeRead() throws IOException {
		PersistedSession session = withAnswer(PersistenceTestSupport.float64Held());
		byte[] file = write(session);
		// version 2 is version 3 without the 8-byte history length before the checksum
		byte[] v2 = new byte[file.length - 8];
		System.arraycopy(file, 0, v2, 0, file.length - 12);
		ByteBuffer.wrap(v2).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 2);
		java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
		crc.update(v2, 0, v2.length - 4);
		ByteBuffer.wrap(v2).order(ByteOrder.LITTLE_ENDIAN).putInt(v2.length - 4, (int) crc.getValue());

		assertSameSession(read(v2), session);
	}

	/** The session with a remembered answer in both dtypes, as a client-held session keeps one. */
	private static PersistedSession withAnswer(PersistedSession session) {
		Map<String, Tensor> answer = new LinkedHashMap<>();
		answer.put("w", Tensor.ofFloat32(new int[] { 5 }, new float[] { -0.0f, 1, 2, Float.MIN_VALUE, 4 }));
		answer.put("v", PersistenceTestSupport.f64(new int[] { 2, 4 }, PersistenceTestSupport.AWKWARD));
		return new PersistedSession(session.id(), session.createdAt(), session.lastUsedAt(), session.version(),
				session.checkpoint(), new PersistedSession.Metadata(1, Map.of("idempotency", "{}")), answer);
	}

	@Test
	void versionOneFileWithoutAnAnswerShouldStillBeRead() throws IOException {
		PersistedSession session = PersistenceTestSupport.float64Held();
		byte[] file = write(session);
		// version 1 is version 3 without the 8-byte answer and history lengths before the checksum
		byte[] v1 = new byte[file.length - 16];
		System.arraycopy(file, 0, v1, 0, file.length - 20);
		ByteBuffer.wrap(v1).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 1);
		java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
		crc.update(v1, 0, v1.length - 4);
		ByteBuffer.wrap(v1).order(ByteOrder.LITTLE_ENDIAN).putInt(v1.length - 4, (int) crc.getValue());

		assertSameSession(read(v1), session);
	}

	@ParameterizedTest
	@MethodSource("sessions")
	void fileShouldGiveBackTheSessionBitForBit(PersistedSession session) throws IOException {
		byte[] file = write(session);

		assertSameSession(read(file), session);
		assertThat(write(read(file))).as("written again, the same bytes").isEqualTo(file);
	}

	@Test
	void fileShouldCarryTheCheckpointExactlyAsTheApiEncodesIt() throws IOException {
		PersistedSession session = PersistenceTestSupport.float64Held();
		byte[] file = write(session);
		ByteArrayOutputStream checkpoint = new ByteArrayOutputStream();
		FORMAT.encode(session.checkpoint()).writeTo(checkpoint);

		ByteBuffer layout = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
		assertThat(new String(file, 0, 8, StandardCharsets.US_ASCII)).isEqualTo("ADAMSESS");
		assertThat(layout.getInt(8)).isEqualTo(SessionFile.FORMAT_VERSION);
		int headerLength = layout.getInt(12);
		long checkpointLength = layout.getLong(16 + headerLength);
		assertThat(checkpointLength).isEqualTo(checkpoint.size());
		int start = 16 + headerLength + 8;
		assertThat(Arrays.copyOfRange(file, start, start + checkpoint.size())).isEqualTo(checkpoint.toByteArray());
		// no remembered answer and no history: their lengths are 0
		assertThat(layout.getLong(start + checkpoint.size())).isZero();
		assertThat(layout.getLong(start + checkpoint.size() + 8)).isZero();
		assertThat(file).hasSize(start + checkpoint.size() + 8 + 8 + 4);
	}

	@Test
	void everyChangedByteShouldBeRefusedNeverReadAsAnotherSession() throws IOException {
		byte[] file = write(PersistenceTestSupport.float32ClientHeld());
		for (int i = 0; i < file.length; i++) {
			for (int flip : new int[] { 0x01, 0x80 }) {
				byte[] altered = file.clone();
				altered[i] ^= (byte) flip;
				int at = i;
				assertThatExceptionOfType(SessionFile.CorruptException.class).as("byte %d ^ %x", at, flip)
					.isThrownBy(() -> read(altered));
			}
		}
	}

	@Test
	void changedDataShouldBeRefusedAsAChecksumMismatch() throws IOException {
		byte[] file = write(PersistenceTestSupport.float64Held());
		// a byte of the checkpoint's data (the answer and history lengths and the checksum follow it)
		file[file.length - 28] ^= 0x10;

		assertThatExceptionOfType(SessionFile.CorruptException.class).isThrownBy(() -> read(file))
			.withMessageContaining("checksum mismatch");
	}

	@Test
	void truncatedFileShouldBeRefusedAsTruncated() throws IOException {
		byte[] file = write(PersistenceTestSupport.float64Held());
		for (int length : new int[] { 8, 12, 16, 40, file.length / 2, file.length - 5, file.length - 1 }) {
			byte[] truncated = Arrays.copyOf(file, length);
			assertThatExceptionOfType(SessionFile.CorruptException.class).as("first %d of %d bytes", length, file.length)
				.isThrownBy(() -> read(truncated))
				.withMessageContaining("truncated");
		}
		assertThatExceptionOfType(SessionFile.CorruptException.class).isThrownBy(() -> read(new byte[0]))
			.withMessageContaining("not a session file");
	}

	@Test
	void fileWithBytesAfterTheChecksumShouldBeRefused() throws IOException {
		byte[] file = write(PersistenceTestSupport.empty());
		byte[] longer = Arrays.copyOf(file, file.length + 1);

		assertThatExceptionOfType(SessionFile.CorruptException.class).isThrownBy(() -> read(longer))
			.withMessageContaining("the file has " + longer.length);
	}

	@Test
	void fileOfAnotherFormatVersionShouldBeRefusedNamingTheVersion() throws IOException {
		byte[] file = write(PersistenceTestSupport.float64Held());
		ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 4);

		assertThatExceptionOfType(SessionFile.CorruptException.class).isThrownBy(() -> read(file))
			.withMessageContaining("format version 4, this service reads versions 1 to 3");
	}

	@Test
	void fileThatIsNotASessionFileShouldBeRefused() {
		byte[] file = "{\"id\": \"not a session file at all\"}".getBytes(StandardCharsets.UTF_8);

		assertThatExceptionOfType(SessionFile.CorruptException.class).isThrownBy(() -> read(file))
			.withMessageContaining("not a session file");
	}

	private byte[] write(PersistedSession session) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		this.sessionFile.write(session, out);
		return out.toByteArray();
	}

	private PersistedSession read(byte[] file) throws IOException {
		return this.sessionFile.read(new ByteArrayInputStream(file), file.length);
	}

}
