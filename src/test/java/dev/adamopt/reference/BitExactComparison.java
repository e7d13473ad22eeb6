package dev.adamopt.reference;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import tools.jackson.databind.JsonNode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Compares numbers with torch's reference bit for bit, collecting every mismatch of one run so that the failure
 * lists where they are, how far off they are and whether they are still within the README's tolerance (float64:
 * 1e-12 absolute; float32: {@code |a - b| <= 1e-5 * max(1, |b|)}).
 * <p>
 * Typical use: {@link #checkTensor} after every step, {@link #assertBitExact()} (or, where torch's own rounding order
 * cannot be matched, {@link #assertWithinTolerance()}) at the end of the run.
 */
public final class BitExactComparison {

	/** How many mismatches the failure message spells out; the counts cover all of them. */
	private static final int REPORTED = 20;

	private final String run;

	private final boolean float32;

	private final List<String> reported = new ArrayList<>();

	private long compared;

	private long mismatches;

	private long beyondTolerance;

	/**
	 * @param run names the run in messages, e.g. the file and mode
	 * @param float32 whether the run is in float32 (selects the tolerance and the ulp size)
	 */
	public BitExactComparison(String run, boolean float32) {
		this.run = run;
		this.float32 = float32;
	}

	/** Compares a computed flat tensor with an expected nested-list tensor; shapes must agree at once. */
	public void checkTensor(String where, JsonNode expected, double[] actual) {
		int[] shape = ReferenceCase.shape(expected);
		double[] want = ReferenceCase.flatten(expected);
		assertEquals(want.length, actual.length, () -> this.run + " " + where + ": element count");
		for (int i = 0; i < want.length; i++) {
			check(where + index(shape, i), want[i], actual[i]);
		}
	}

	/** Compares two nested-list tensors; shapes must agree at once. */
	public void checkTensor(String where, JsonNode expected, JsonNode actual) {
		assertArrayEquals(ReferenceCase.shape(expected), ReferenceCase.shape(actual),
				() -> this.run + " " + where + ": shape");
		checkTensor(where, expected, ReferenceCase.flatten(actual));
	}

	/** Records a mismatch unless {@code actual} has exactly the bits of {@code expected}. */
	public void check(String where, double expected, double actual) {
		this.compared++;
		if (Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(actual)) {
			return;
		}
		this.mismatches++;
		boolean tolerated = withinTolerance(expected, actual, this.float32);
		if (!tolerated) {
			this.beyondTolerance++;
		}
		if (this.reported.size() < REPORTED) {
			this.reported.add(describe(where, expected, actual, tolerated));
		}
	}

	/** Fails, listing the mismatches, unless every number compared so far was bit-exact. */
	public void assertBitExact() {
		if (this.mismatches == 0) {
			return;
		}
		StringBuilder message = new StringBuilder();
		message.append(this.run)
			.append(": ")
			.append(this.mismatches)
			.append(" of ")
			.append(this.compared)
			.append(" numbers differ from torch's bits, ")
			.append((this.beyondTolerance == 0) ? "all within"
					: this.beyondTolerance + " of them beyond")
			.append(" the README tolerance (")
			.append(this.float32 ? "1e-5 relative" : "1e-12 absolute")
			.append("); the first ")
			.append(this.reported.size())
			.append(':');
		this.reported.forEach((line) -> message.append("\n  ").append(line));
		throw new AssertionError(message.toString());
	}

	/**
	 * Fails, listing the mismatches, if any number compared so far is beyond the README's tolerance; numbers that
	 * differ from torch's bits within it pass (clipping reduces norms in another order than torch, for one).
	 */
	public void assertWithinTolerance() {
		if (this.beyondTolerance == 0) {
			return;
		}
		assertBitExact();
	}

	/** The README's tolerance: float64 1e-12 absolute, float32 {@code |a - b| <= 1e-5 * max(1, |b|)}. */
	public static boolean withinTolerance(double expected, double actual, boolean float32) {
		double difference = Math.abs(actual - expected);
		return float32 ? difference <= 1e-5 * Math.max(1, Math.abs(expected)) : difference <= 1e-12;
	}

	private String describe(String where, double expected, double actual, boolean tolerated) {
		double ulp = this.float32 ? Math.ulp((float) expected) : Math.ulp(expected);
		return String.format("%s: expected %s (%s), got %s (%s), off by %.3g = %.3g ulp, %s tolerance", where,
				expected, bits(expected), actual, bits(actual), Math.abs(actual - expected),
				Math.abs(actual - expected) / ulp, tolerated ? "within" : "BEYOND");
	}

	private String bits(double value) {
		return this.float32 ? String.format("0x%08x", Float.floatToRawIntBits((float) value))
				: String.format("0x%016x", Double.doubleToRawLongBits(value));
	}

	/** {@code [i][j]...} of a flat row-major index; empty for a 0-d tensor. */
	static String index(int[] shape, int flat) {
		if (shape.length == 0) {
			return "";
		}
		int[] position = new int[shape.length];
		int rest = flat;
		for (int axis = shape.length - 1; axis >= 0; axis--) {
			position[axis] = rest % shape[axis];
			rest /= shape[axis];
		}
		return Arrays.toString(position).replace(", ", "][");
	}

}
