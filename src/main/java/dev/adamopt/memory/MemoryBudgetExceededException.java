package dev.adamopt.memory;

/** A reservation that does not fit the memory budget; nothing was reserved. */
public final class MemoryBudgetExceededException extends RuntimeException {

	private final long needed;

	private final long free;

	MemoryBudgetExceededException(String what, long needed, long free, String budget) {
		super(what + " needs " + needed + " bytes but only " + free + " of " + budget + " are free: free memory by "
				+ "deleting sessions you no longer need, or try again when other requests have finished", null, false,
				false);
		this.needed = needed;
		this.free = free;
	}

	public long needed() {
		return this.needed;
	}

	public long free() {
		return this.free;
	}

}
