package dev.adamopt.session;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StreamCorruptedException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import dev.adamopt.cluster.BulkCodec;
import dev.adamopt.kernel.Precision;
import dev.adamopt.tensor.Tensor;
import tools.jackson.databind.json.JsonMapper;

/**
 * Session operations, their results and whole sessions over Hazelcast's serialization streams, bit for bit: what the
 * Hazelcast session store's serializers call. Every value starts with a one-byte tag naming its kind (below); tag 0
 * is any other value, sent by {@link ObjectDataOutput#writeObject} (Java serialization for a
 * {@link java.io.Serializable} one). Tensors go through {@link BulkCodec} (little-endian, in chunks); doubles as their
 * raw bits; instants as seconds and nanoseconds; optimizer settings as the API's JSON, through the API's mapper, as a
 * checkpoint carries them ({@link CheckpointFormat}); a whole session as its session file ({@link SessionFile}).
 */
final class ClusterCodec {

	// operation tags
	static final byte OTHER = 0;

	static final byte SNAPSHOT = 1;

	static final byte STEP = 2;

	static final byte UPDATE_OPTIMIZER = 3;

	static final byte HOLD_PARAMETERS = 4;

	static final byte HELD_PARAMETERS = 5;

	static final byte TAKE_CHECKPOINT = 6;

	static final byte HISTORY = 7;

	static final byte CLOSE_IF_MATCH = 8;

	// result tags (OTHER is 0 here as well)
	static final byte STEP_RESULT = 1;

	static final byte SESSION_SNAPSHOT = 2;

	static final byte CHECKPOINT = 3;

	static final byte TENSORS = 4;

	static final byte HISTORY_ENTRIES = 5;

	static final byte BOOLEAN = 6;

	static final byte STRING = 7;

	static final byte LONG = 8;

	// VersionMatch
	private static final byte NO_MATCH = 0;

	private static final byte MATCH_ANY = 1;

	private static final byte MATCH_VERSIONS = 2;

	private static final String[] PARTS = { "firstMoment", "secondMoment", "maxSecondMoment", "parameter" };

	private static final Set<String> PART_NAMES = Set.of(PARTS);

	/** The most bytes a session's stream copies at a time. */
	private static final int SESSION_CHUNK_BYTES = 64 * 1024;

	private final JsonMapper jsonMapper;

	private final SessionFile sessionFile;

	/**
	 * @param jsonMapper the API's strict mapper, as {@link CheckpointFormat} takes it: optimizer settings travel as
	 * the JSON a checkpoint holds
	 */
	ClusterCodec(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
		this.sessionFile = new SessionFile(new CheckpointFormat(jsonMapper));
	}

	// operations

	void writeOperation(ObjectDataOutput out, SessionOperation<?> op) throws IOException {
		if (op instanceof SessionOperation.Snapshot) {
			out.writeByte(SNAPSHOT);
		}
		else if (op instanceof SessionOperation.Step step) {
			out.writeByte(STEP);
			writeTensors(out, step.parameters());
			writeTensors(out, step.gradients());
			out.writeLong(Double.doubleToRawLongBits(step.loss()));
			writeKey(out, step.key());
			writeMatch(out, step.ifMatch());
			writeInstant(out, step.now());
		}
		else if (op instanceof SessionOperation.UpdateOptimizer update) {
			out.writeByte(UPDATE_OPTIMIZER);
			out.writeString((update.change() != null) ? this.jsonMapper.writeValueAsString(update.change()) : null);
			writeMatch(out, update.ifMatch());
			writeInstant(out, update.now());
		}
		else if (op instanceof SessionOperation.HoldParameters hold) {
			out.writeByte(HOLD_PARAMETERS);
			writeTensors(out, hold.parameters());
			writeMatch(out, hold.ifMatch());
			writeInstant(out, hold.now());
		}
		else if (op instanceof SessionOperation.HeldParameters) {
			out.writeByte(HELD_PARAMETERS);
		}
		else if (op instanceof SessionOperation.TakeCheckpoint) {
			out.writeByte(TAKE_CHECKPOINT);
		}
		else if (op instanceof SessionOperation.History history) {
			out.writeByte(HISTORY);
			out.writeLong(history.since());
		}
		else if (op instanceof SessionOperation.CloseIfMatch close) {
			out.writeByte(CLOSE_IF_MATCH);
			writeMatch(out, close.ifMatch());
		}
		else {
			out.writeByte(OTHER);
			out.writeObject(op);
		}
	}

	SessionOperation<?> readOperation(ObjectDataInput in) throws IOException {
		byte tag = in.readByte();
		switch (tag) {
			case SNAPSHOT:
				return new SessionOperation.Snapshot();
			case STEP: {
				Map<String, Tensor> parameters = readTensors(in);
				Map<String, Tensor> gradients = readTensors(in);
				double loss = Double.longBitsToDouble(in.readLong());
				return new SessionOperation.Step(parameters, gradients, loss, readKey(in), readMatch(in),
						readInstant(in));
			}
			case UPDATE_OPTIMIZER: {
				String json = in.readString();
				OptimizerSettings change = (json != null) ? this.jsonMapper.readValue(json, OptimizerSettings.class)
						: null;
				return new SessionOperation.UpdateOptimizer(change, readMatch(in), readInstant(in));
			}
			case HOLD_PARAMETERS: {
				Map<String, Tensor> parameters = readTensors(in);
				return new SessionOperation.HoldParameters(parameters, readMatch(in), readInstant(in));
			}
			case HELD_PARAMETERS:
				return new SessionOperation.HeldParameters();
			case TAKE_CHECKPOINT:
				return new SessionOperation.TakeCheckpoint();
			case HISTORY:
				return new SessionOperation.History(in.readLong());
			case CLOSE_IF_MATCH:
				return new SessionOperation.CloseIfMatch(readMatch(in));
			case OTHER: {
				Object op = in.readObject();
				if (!(op instanceof SessionOperation<?> operation)) {
					throw new StreamCorruptedException("expected a session operation, got "
							+ ((op != null) ? op.getClass().getName() : "null"));
				}
				return operation;
			}
			default:
				throw new StreamCorruptedException("unknown session operation tag " + tag);
		}
	}

	// results

	void writeResult(ObjectDataOutput out, Object result) throws IOException {
		if (result instanceof StepResult stepResult) {
			out.writeByte(STEP_RESULT);
			out.writeLong(stepResult.step());
			writeTensors(out, stepResult.parameters());
			out.writeLong(stepResult.version());
			out.writeBoolean(stepResult.replayed());
			writeStatistics(out, stepResult.statistics());
		}
		else if (result instanceof SessionSnapshot snapshot) {
			out.writeByte(SESSION_SNAPSHOT);
			writeSnapshot(out, snapshot);
		}
		else if (result instanceof Checkpoint checkpoint) {
			out.writeByte(CHECKPOINT);
			writeCheckpoint(out, checkpoint);
		}
		else if (result instanceof Map<?, ?> map && isTensors(map)) {
			out.writeByte(TENSORS);
			@SuppressWarnings("unchecked")
			Map<String, Tensor> tensors = (Map<String, Tensor>) map;
			writeTensors(out, tensors);
		}
		else if (result instanceof List<?> list && isHistory(list)) {
			out.writeByte(HISTORY_ENTRIES);
			out.writeInt(list.size());
			for (Object entry : list) {
				writeEntry(out, (StepHistory.Entry) entry);
			}
		}
		else if (result instanceof Boolean value) {
			out.writeByte(BOOLEAN);
			out.writeBoolean(value);
		}
		else if (result instanceof String value) {
			out.writeByte(STRING);
			out.writeString(value);
		}
		else if (result instanceof Long value) {
			out.writeByte(LONG);
			out.writeLong(value);
		}
		else {
			out.writeByte(OTHER);
			out.writeObject(result);
		}
	}

	Object readResult(ObjectDataInput in) throws IOException {
		byte tag = in.readByte();
		switch (tag) {
			case STEP_RESULT: {
				long step = in.readLong();
				Map<String, Tensor> parameters = readTensors(in);
				long version = in.readLong();
				boolean replayed = in.readBoolean();
				return new StepResult(step, parameters, version, replayed, readStatistics(in));
			}
			case SESSION_SNAPSHOT:
				return readSnapshot(in);
			case CHECKPOINT:
				return readCheckpoint(in);
			case TENSORS:
				return readTensors(in);
			case HISTORY_ENTRIES: {
				int count = length(in.readInt(), "history entries");
				List<StepHistory.Entry> entries = new ArrayList<>(Math.min(count, 1024));
				for (int i = 0; i < count; i++) {
					entries.add(readEntry(in));
				}
				return entries;
			}
			case BOOLEAN:
				return in.readBoolean();
			case STRING:
				return in.readString();
			case LONG:
				return in.readLong();
			case OTHER:
				return in.readObject();
			default:
				throw new StreamCorruptedException("unknown session result tag " + tag);
		}
	}

	private static boolean isTensors(Map<?, ?> map) {
		for (Map.Entry<?, ?> entry : map.entrySet()) {
			if (!(entry.getKey() instanceof String) || !(entry.getValue() instanceof Tensor)) {
				return false;
			}
		}
		return true;
	}

	private static boolean isHistory(List<?> list) {
		for (Object entry : list) {
			if (!(entry instanceof StepHistory.Entry)) {
				return false;
			}
		}
		return true;
	}

	private static void writeStatistics(ObjectDataOutput out, StepStatistics statistics) throws IOException {
		out.writeBoolean(statistics != null);
		if (statistics != null) {
			out.writeLong(Double.doubleToRawLongBits(statistics.learningRate));
			out.writeLong(Double.doubleToRawLongBits(statistics.gradNorm));
			out.writeLong(Double.doubleToRawLongBits(statistics.totalNorm));
			out.writeLong(Double.doubleToRawLongBits(statistics.updateNorm()));
			out.writeBoolean(statistics.clipped);
			out.writeBoolean(statistics.skipped);
		}
	}

	private static StepStatistics readStatistics(ObjectDataInput in) throws IOException {
		if (!in.readBoolean()) {
			return null;
		}
		double learningRate = Double.longBitsToDouble(in.readLong());
		double gradNorm = Double.longBitsToDouble(in.readLong());
		double totalNorm = Double.longBitsToDouble(in.readLong());
		double updateNorm = Double.longBitsToDouble(in.readLong());
		boolean clipped = in.readBoolean();
		boolean skipped = in.readBoolean();
		return new StepStatistics(learningRate, gradNorm, totalNorm, updateNorm, clipped, skipped);
	}

	private void writeSnapshot(ObjectDataOutput out, SessionSnapshot snapshot) throws IOException {
		out.writeString(snapshot.id());
		out.writeLong(snapshot.step());
		writeConfig(out, snapshot.optimizer());
		writePrecision(out, snapshot.precision());
		out.writeBoolean(snapshot.holdsParameters());
		List<SessionSnapshot.TensorSummary> tensors = snapshot.tensors();
		out.writeInt((tensors != null) ? tensors.size() : -1);
		if (tensors != null) {
			for (SessionSnapshot.TensorSummary tensor : tensors) {
				out.writeString(tensor.name());
				out.writeIntArray(tensor.shape());
				out.writeLong(tensor.step());
				out.writeInt(tensor.group());
			}
		}
		writeInstant(out, snapshot.createdAt());
		writeInstant(out, snapshot.lastUsedAt());
		out.writeLong(snapshot.bytes());
		out.writeLong(snapshot.version());
		out.writeLong(snapshot.skippedSteps());
	}

	private SessionSnapshot readSnapshot(ObjectDataInput in) throws IOException {
		String id = in.readString();
		long step = in.readLong();
		OptimizerConfig optimizer = readConfig(in);
		Precision precision = readPrecision(in);
		boolean holdsParameters = in.readBoolean();
		int count = in.readInt();
		List<SessionSnapshot.TensorSummary> tensors = null;
		if (count != -1) {
			tensors = new ArrayList<>(Math.min(length(count, "tensor summaries"), 1024));
			for (int i = 0; i < count; i++) {
				tensors.add(new SessionSnapshot.TensorSummary(in.readString(), in.readIntArray(), in.readLong(),
						in.readInt()));
			}
		}
		Instant createdAt = readInstant(in);
		Instant lastUsedAt = readInstant(in);
		return new SessionSnapshot(id, step, optimizer, precision, holdsParameters, tensors, createdAt, lastUsedAt,
				in.readLong(), in.readLong(), in.readLong());
	}

	private void writeCheckpoint(ObjectDataOutput out, Checkpoint checkpoint) throws IOException {
		writeConfig(out, checkpoint.optimizer());
		writePrecision(out, checkpoint.precision());
		out.writeLong(checkpoint.step());
		out.writeLong(checkpoint.skippedSteps());
		out.writeBoolean(checkpoint.holdsParameters());
		Map<String, TensorCheckpoint> tensors = checkpoint.tensors();
		out.writeInt((tensors != null) ? tensors.size() : -1);
		if (tensors != null) {
			for (Map.Entry<String, TensorCheckpoint> entry : tensors.entrySet()) {
				TensorCheckpoint state = entry.getValue();
				out.writeString(entry.getKey());
				out.writeLong(state.step());
				// the parts it has, by name: an absent one (no amsgrad, parameters not held) is left out
				Map<String, Tensor> parts = new LinkedHashMap<>();
				putIfPresent(parts, PARTS[0], state.firstMoment());
				putIfPresent(parts, PARTS[1], state.secondMoment());
				putIfPresent(parts, PARTS[2], state.maxSecondMoment());
				putIfPresent(parts, PARTS[3], state.parameter());
				writeTensors(out, parts);
			}
		}
	}

	private Checkpoint readCheckpoint(ObjectDataInput in) throws IOException {
		OptimizerConfig optimizer = readConfig(in);
		Precision precision = readPrecision(in);
		long step = in.readLong();
		long skippedSteps = in.readLong();
		boolean holdsParameters = in.readBoolean();
		int count = in.readInt();
		Map<String, TensorCheckpoint> tensors = null;
		if (count != -1) {
			length(count, "checkpoint tensors");
			tensors = new LinkedHashMap<>();
			for (int i = 0; i < count; i++) {
				String name = in.readString();
				long tensorStep = in.readLong();
				Map<String, Tensor> parts = readTensors(in);
				if (parts == null) {
					throw new StreamCorruptedException("checkpoint tensor '" + name + "' has no parts");
				}
				for (String part : parts.keySet()) {
					if (!PART_NAMES.contains(part)) {
						throw new StreamCorruptedException("checkpoint tensor '" + name + "' has an unknown part '"
								+ part + "'");
					}
				}
				tensors.put(name, new TensorCheckpoint(tensorStep, parts.get(PARTS[0]), parts.get(PARTS[1]),
						parts.get(PARTS[2]), parts.get(PARTS[3])));
			}
		}
		return new Checkpoint(optimizer, precision, step, skippedSteps, holdsParameters, tensors);
	}

	private static void putIfPresent(Map<String, Tensor> parts, String name, Tensor tensor) {
		if (tensor != null) {
			parts.put(name, tensor);
		}
	}

	private static void writeEntry(ObjectDataOutput out, StepHistory.Entry entry) throws IOException {
		out.writeLong(entry.step());
		writeInstant(out, entry.time());
		out.writeLong(Double.doubleToRawLongBits(entry.learningRate()));
		out.writeLong(Double.doubleToRawLongBits(entry.gradNorm()));
		out.writeLong(Double.doubleToRawLongBits(entry.updateNorm()));
		out.writeLong(Double.doubleToRawLongBits(entry.loss()));
		out.writeBoolean(entry.clipped());
		out.writeBoolean(entry.skipped());
		out.writeLong(entry.durationMicros());
	}

	private static StepHistory.Entry readEntry(ObjectDataInput in) throws IOException {
		long step = in.readLong();
		Instant time = readInstant(in);
		double learningRate = Double.longBitsToDouble(in.readLong());
		double gradNorm = Double.longBitsToDouble(in.readLong());
		double updateNorm = Double.longBitsToDouble(in.readLong());
		double loss = Double.longBitsToDouble(in.readLong());
		boolean clipped = in.readBoolean();
		boolean skipped = in.readBoolean();
		return new StepHistory.Entry(step, time, learningRate, gradNorm, updateNorm, loss, clipped, skipped,
				in.readLong());
	}

	// sessions

	/**
	 * The session as its file: the file's length (a long), then its bytes, streamed into {@code out} in chunks. The
	 * length is counted first by writing the file to nowhere, so that no copy of a session (which may take hundreds
	 * of megabytes) is made beside {@code out}'s own buffer.
	 */
	void writeSession(ObjectDataOutput out, PersistedSession session) throws IOException {
		Counting counting = new Counting();
		this.sessionFile.write(session, counting);
		out.writeLong(counting.count);
		Chunked chunked = new Chunked(out);
		this.sessionFile.write(session, chunked);
		chunked.flush();
		if (chunked.written != counting.count) {
			throw new IllegalStateException("the session file took " + chunked.written + " bytes, counted "
					+ counting.count + ": it changed while written");
		}
	}

	/** A session written by {@link #writeSession}; its file is read and checked as a file on disk is. */
	PersistedSession readSession(ObjectDataInput in) throws IOException {
		long size = in.readLong();
		if (size < 0) {
			throw new StreamCorruptedException("a session of " + size + " bytes");
		}
		return this.sessionFile.read(new Bounded(in, size), size);
	}

	// values

	private static void writeTensors(ObjectDataOutput out, Map<String, Tensor> tensors) throws IOException {
		BulkCodec.writeTensors(out, tensors);
	}

	private static Map<String, Tensor> readTensors(ObjectDataInput in) throws IOException {
		return BulkCodec.readTensors(in);
	}

	private void writeConfig(ObjectDataOutput out, OptimizerConfig config) throws IOException {
		out.writeString((config != null) ? this.jsonMapper.writeValueAsString(OptimizerSettings.of(config)) : null);
	}

	private OptimizerConfig readConfig(ObjectDataInput in) throws IOException {
		String json = in.readString();
		return (json != null) ? this.jsonMapper.readValue(json, OptimizerSettings.class).toCheckpointConfig() : null;
	}

	private static void writePrecision(ObjectDataOutput out, Precision precision) throws IOException {
		out.writeString((precision != null) ? precision.wireName() : null);
	}

	private static Precision readPrecision(ObjectDataInput in) throws IOException {
		String name = in.readString();
		return (name != null) ? Precision.fromWireName(name) : null;
	}

	private static void writeKey(ObjectDataOutput out, IdempotencyKey key) throws IOException {
		out.writeBoolean(key != null);
		if (key != null) {
			out.writeString(key.key());
			out.writeLong(key.digest());
		}
	}

	private static IdempotencyKey readKey(ObjectDataInput in) throws IOException {
		return in.readBoolean() ? new IdempotencyKey(in.readString(), in.readLong()) : null;
	}

	private static void writeMatch(ObjectDataOutput out, VersionMatch match) throws IOException {
		if (match == null) {
			out.writeByte(NO_MATCH);
		}
		else if (match.matchesAny()) {
			out.writeByte(MATCH_ANY);
		}
		else {
			out.writeByte(MATCH_VERSIONS);
			out.writeLongArray(match.versions());
		}
	}

	private static VersionMatch readMatch(ObjectDataInput in) throws IOException {
		byte kind = in.readByte();
		switch (kind) {
			case NO_MATCH:
				return null;
			case MATCH_ANY:
				return VersionMatch.any();
			case MATCH_VERSIONS: {
				long[] versions = in.readLongArray();
				if (versions == null) {
					throw new StreamCorruptedException("an If-Match without its versions");
				}
				return VersionMatch.oneOf(versions);
			}
			default:
				throw new StreamCorruptedException("unknown If-Match kind " + kind);
		}
	}

	/** Seconds and nanoseconds, after a flag for {@code null}. */
	private static void writeInstant(ObjectDataOutput out, Instant instant) throws IOException {
		out.writeBoolean(instant != null);
		if (instant != null) {
			out.writeLong(instant.getEpochSecond());
			out.writeInt(instant.getNano());
		}
	}

	private static Instant readInstant(ObjectDataInput in) throws IOException {
		return in.readBoolean() ? Instant.ofEpochSecond(in.readLong(), in.readInt()) : null;
	}

	private static int length(int length, String what) throws StreamCorruptedException {
		if (length < 0) {
			throw new StreamCorruptedException(length + " " + what);
		}
		return length;
	}

	/** Counts what is written, keeps nothing. */
	private static final class Counting extends OutputStream {

		long count;

		@Override
		public void write(int b) {
			this.count++;
		}

		@Override
		public void write(byte[] b, int off, int len) {
			this.count += len;
		}

	}

	/**
	 * Writes to {@code out} in chunks: the session file writes small pieces (lengths, a checksum) between its large
	 * ones, which are gathered so that {@code out} sees few calls.
	 */
	private static final class Chunked extends OutputStream {

		private final ObjectDataOutput out;

		private final byte[] buffer = new byte[SESSION_CHUNK_BYTES];

		private int used;

		long written;

		Chunked(ObjectDataOutput out) {
			this.out = out;
		}

		@Override
		public void write(int b) throws IOException {
			if (this.used == this.buffer.length) {
				flush();
			}
			this.buffer[this.used++] = (byte) b;
			this.written++;
		}

		@Override
		public void write(byte[] b, int off, int len) throws IOException {
			if (len >= this.buffer.length) {
				flush();
				this.out.write(b, off, len);
			}
			else {
				if (len > this.buffer.length - this.used) {
					flush();
				}
				System.arraycopy(b, off, this.buffer, this.used, len);
				this.used += len;
			}
			this.written += len;
		}

		@Override
		public void flush() throws IOException {
			if (this.used > 0) {
				this.out.write(this.buffer, 0, this.used);
				this.used = 0;
			}
		}

	}

	/** The next {@code remaining} bytes of {@code in}, then the end. */
	private static final class Bounded extends InputStream {

		private final ObjectDataInput in;

		private long remaining;

		Bounded(ObjectDataInput in, long size) {
			this.in = in;
			this.remaining = size;
		}

		@Override
		public int read() throws IOException {
			if (this.remaining == 0) {
				return -1;
			}
			this.remaining--;
			return this.in.readUnsignedByte();
		}

		@Override
		public int read(byte[] b, int off, int len) throws IOException {
			if (len == 0) {
				return 0;
			}
			if (this.remaining == 0) {
				return -1;
			}
			int n = (int) Math.min(len, this.remaining);
			this.in.readFully(b, off, n);
			this.remaining -= n;
			return n;
		}

	}

}
