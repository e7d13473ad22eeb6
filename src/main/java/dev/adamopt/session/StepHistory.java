package dev.adamopt.session;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The latest steps of one session (what a dashboard plots): a ring of primitive columns, so that recording a step in
 * its apply phase allocates nothing. The columns grow by doubling up to the capacity; growing is prepared (and
 * charged) before a step's apply phase. Not thread-safe: the session serializes access.
 */
public final class StepHistory {

	/** What one entry takes: seven 8-byte columns and a byte of flags. */
	static final int ENTRY_BYTES = 7 * Long.BYTES + 1;

	private static final int FIRST_LENGTH = 16;

	private static final byte CLIPPED = 1;

	private static final byte SKIPPED = 2;

	/** One step as the history keeps it; {@code loss}, {@code gradNorm} NaN when absent or not finite. */
	public record Entry(long step, Instant time, double learningRate, double gradNorm, double updateNorm, double loss,
			boolean clipped, boolean skipped, long durationMicros) {

	}

	private final int capacity;

	private Columns columns;

	/** Index of the oldest entry. */
	private int start;

	private int count;

	StepHistory(int capacity) {
		if (capacity < 0) {
			throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
		}
		this.capacity = capacity;
		this.columns = new Columns(0);
	}

	/** The bytes the columns take now. */
	long bytes() {
		return (long) this.columns.length * ENTRY_BYTES;
	}

	int size() {
		return this.count;
	}

	/**
	 * The larger columns the next entry needs, already holding every entry ({@code null} when there is room, or when
	 * the ring is full and overwrites its oldest). Allocates {@link Columns#bytes()}: charge it first.
	 */
	Columns prepareRoom() {
		int length = this.columns.length;
		if (this.count < length || length >= this.capacity) {
			return null;
		}
		Columns grown = new Columns((int) Math.min(this.capacity, Math.max(FIRST_LENGTH, 2L * length)));
		grown.copyFrom(this.columns, this.count);
		return grown;
	}

	/** The bytes {@link #prepareRoom()} would allocate. */
	long roomBytes() {
		int length = this.columns.length;
		if (this.count < length || length >= this.capacity) {
			return 0;
		}
		return Math.min(this.capacity, Math.max(FIRST_LENGTH, 2L * length)) * ENTRY_BYTES;
	}

	/** Records a step; allocates nothing. {@code grown} is what {@link #prepareRoom()} gave for it. */
	void record(Columns grown, long step, long timeMicros, double learningRate, double gradNorm, double updateNorm,
			double loss, boolean clipped, boolean skipped, long durationMicros) {
		if (grown != null) {
			this.columns = grown;
			this.start = 0;
		}
		Columns c = this.columns;
		if (c.length == 0) {
			return;
		}
		int index;
		if (this.count < c.length) {
			index = (this.start + this.count) % c.length;
			this.count++;
		}
		else {
			index = this.start;
			this.start = (this.start + 1) % c.length;
		}
		c.steps[index] = step;
		c.times[index] = timeMicros;
		c.learningRates[index] = learningRate;
		c.gradNorms[index] = gradNorm;
		c.updateNorms[index] = updateNorm;
		c.losses[index] = loss;
		c.flags[index] = (byte) ((clipped ? CLIPPED : 0) | (skipped ? SKIPPED : 0));
		c.durations[index] = durationMicros;
	}

	/** The entries whose step is after {@code since} (all for {@code Long.MIN_VALUE}), oldest first. */
	List<Entry> since(long since) {
		List<Entry> entries = new ArrayList<>();
		Columns c = this.columns;
		for (int k = 0; k < this.count; k++) {
			int i = (this.start + k) % c.length;
			if (c.steps[i] > since) {
				entries.add(new Entry(c.steps[i], Instant.EPOCH.plusNanos(c.times[i] * 1000), c.learningRates[i],
						c.gradNorms[i], c.updateNorms[i], c.losses[i], (c.flags[i] & CLIPPED) != 0,
						(c.flags[i] & SKIPPED) != 0, c.durations[i]));
			}
		}
		return entries;
	}

	private static final JsonMapper MAPPER = JsonMapper.builder().build();

	/**
	 * The entries as the session's file keeps them: columns of numbers, oldest first ({@code gradNorm} and
	 * {@code loss} null where absent), so that a long history stays compact.
	 */
	String toJson() {
		ObjectNode json = MAPPER.createObjectNode();
		ArrayNode steps = json.putArray("step");
		ArrayNode times = json.putArray("timeMicros");
		ArrayNode rates = json.putArray("learningRate");
		ArrayNode gradNorms = json.putArray("gradNorm");
		ArrayNode updateNorms = json.putArray("updateNorm");
		ArrayNode losses = json.putArray("loss");
		ArrayNode flags = json.putArray("flags");
		ArrayNode durations = json.putArray("durationMicros");
		Columns c = this.columns;
		for (int k = 0; k < this.count; k++) {
			int i = (this.start + k) % c.length;
			steps.add(c.steps[i]);
			times.add(c.times[i]);
			rates.add(c.learningRates[i]);
			addFinite(gradNorms, c.gradNorms[i]);
			updateNorms.add(c.updateNorms[i]);
			addFinite(losses, c.losses[i]);
			flags.add(c.flags[i]);
			durations.add(c.durations[i]);
		}
		return MAPPER.writeValueAsString(json);
	}

	private static void addFinite(ArrayNode array, double value) {
		if (Double.isFinite(value)) {
			array.add(value);
		}
		else {
			array.addNull();
		}
	}

	/**
	 * Sets the entries from their file form (the newest {@code capacity} of them); the bytes it then takes are
	 * {@link #bytes()}.
	 * @throws IllegalArgumentException if the JSON is not a history
	 */
	void restore(String text) {
		JsonNode json = MAPPER.readTree(text);
		String[] names = { "step", "timeMicros", "learningRate", "gradNorm", "updateNorm", "loss", "flags",
				"durationMicros" };
		int n = -1;
		for (String name : names) {
			JsonNode column = json.path(name);
			if (!column.isArray() || (n >= 0 && column.size() != n)) {
				throw new IllegalArgumentException("the history needs columns " + Arrays.toString(names)
						+ " of one length");
			}
			n = column.size();
		}
		int keep = Math.min(n, this.capacity);
		Columns c = new Columns((keep == 0) ? 0 : Math.min(this.capacity, Math.max(FIRST_LENGTH, keep)));
		for (int k = 0; k < keep; k++) {
			int j = n - keep + k;
			c.steps[k] = json.get("step").get(j).asLong();
			c.times[k] = json.get("timeMicros").get(j).asLong();
			c.learningRates[k] = json.get("learningRate").get(j).asDouble();
			c.gradNorms[k] = orNaN(json.get("gradNorm").get(j));
			c.updateNorms[k] = json.get("updateNorm").get(j).asDouble();
			c.losses[k] = orNaN(json.get("loss").get(j));
			c.flags[k] = (byte) json.get("flags").get(j).asInt();
			c.durations[k] = json.get("durationMicros").get(j).asLong();
		}
		this.columns = c;
		this.start = 0;
		this.count = keep;
	}

	/** Takes over another history's entries (a restored one). */
	void restoreFrom(StepHistory other) {
		this.columns = other.columns;
		this.start = other.start;
		this.count = other.count;
	}

	private static double orNaN(JsonNode value) {
		return value.isNumber() ? value.asDouble() : Double.NaN;
	}

	/** The history's columns. */
	static final class Columns {

		final int length;

		final long[] steps;

		final long[] times;

		final double[] learningRates;

		final double[] gradNorms;

		final double[] updateNorms;

		final double[] losses;

		final byte[] flags;

		final long[] durations;

		Columns(int length) {
			this.length = length;
			this.steps = new long[length];
			this.times = new long[length];
			this.learningRates = new double[length];
			this.gradNorms = new double[length];
			this.updateNorms = new double[length];
			this.losses = new double[length];
			this.flags = new byte[length];
			this.durations = new long[length];
		}

		long bytes() {
			return (long) this.length * ENTRY_BYTES;
		}

		void copyFrom(Columns from, int count) {
			System.arraycopy(from.steps, 0, this.steps, 0, count);
			System.arraycopy(from.times, 0, this.times, 0, count);
			System.arraycopy(from.learningRates, 0, this.learningRates, 0, count);
			System.arraycopy(from.gradNorms, 0, this.gradNorms, 0, count);
			System.arraycopy(from.updateNorms, 0, this.updateNorms, 0, count);
			System.arraycopy(from.losses, 0, this.losses, 0, count);
			System.arraycopy(from.flags, 0, this.flags, 0, count);
			System.arraycopy(from.durations, 0, this.durations, 0, count);
		}

	}

}
