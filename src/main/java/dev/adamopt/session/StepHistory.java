package dev.adamopt.session;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.adamopt.tensor.Tensor;

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
		int length = grownLength();
		if (length == 0) {
			return null;
		}
		Columns grown = new Columns(length);
		grown.copyFrom(this.columns, this.count);
		return grown;
	}

	/** The bytes {@link #prepareRoom()} would allocate. */
	long roomBytes() {
		return (long) grownLength() * ENTRY_BYTES;
	}

	/** The length the columns grow to for the next entry; 0 when they need not grow. */
	private int grownLength() {
		int length = this.columns.length;
		if (this.count < length || length >= this.capacity) {
			return 0;
		}
		return (int) Math.min(this.capacity, Math.max(FIRST_LENGTH, 2L * length));
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

	/** The columns of {@link #toTensor()}, in order. */
	static final int COLUMNS = 8;

	/**
	 * The entries as the session's file keeps them: one float64 tensor of shape [entries, 8], oldest first, columns
	 * step, time (microseconds since the epoch), learning rate, gradient norm, update norm, loss (NaN for none),
	 * flags (1 clipped, 2 skipped), duration (microseconds); whole numbers are exact in a double below 2^53. A copy:
	 * the writer may take it while steps go on. {@code null} when there is no entry.
	 */
	Tensor toTensor() {
		if (this.count == 0) {
			return null;
		}
		Columns c = this.columns;
		double[] data = new double[this.count * COLUMNS];
		for (int k = 0; k < this.count; k++) {
			int i = (this.start + k) % c.length;
			int row = k * COLUMNS;
			data[row] = c.steps[i];
			data[row + 1] = c.times[i];
			data[row + 2] = c.learningRates[i];
			data[row + 3] = c.gradNorms[i];
			data[row + 4] = c.updateNorms[i];
			data[row + 5] = c.losses[i];
			data[row + 6] = c.flags[i];
			data[row + 7] = c.durations[i];
		}
		return Tensor.ofFloat64(new int[] { this.count, COLUMNS }, data);
	}

	/**
	 * Sets the entries from their file form (the newest {@code capacity} of them); the bytes it then takes are
	 * {@link #bytes()}.
	 * @throws IllegalArgumentException if the tensor is not a history
	 */
	void restore(Tensor tensor) {
		int[] shape = tensor.shape();
		if (shape.length != 2 || shape[1] != COLUMNS) {
			throw new IllegalArgumentException("the history is a tensor of shape [entries, " + COLUMNS + "], got "
					+ java.util.Arrays.toString(shape));
		}
		int n = shape[0];
		int keep = Math.min(n, this.capacity);
		Columns c = new Columns((keep == 0) ? 0 : Math.min(this.capacity, Math.max(FIRST_LENGTH, keep)));
		for (int k = 0; k < keep; k++) {
			int row = (n - keep + k) * COLUMNS;
			c.steps[k] = (long) tensor.get(row);
			c.times[k] = (long) tensor.get(row + 1);
			c.learningRates[k] = tensor.get(row + 2);
			c.gradNorms[k] = tensor.get(row + 3);
			c.updateNorms[k] = tensor.get(row + 4);
			c.losses[k] = tensor.get(row + 5);
			c.flags[k] = (byte) tensor.get(row + 6);
			c.durations[k] = (long) tensor.get(row + 7);
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
