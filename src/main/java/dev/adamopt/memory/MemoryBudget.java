package dev.adamopt.memory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes this process may hold for sessions and for tensors being decoded. Everything that would allocate
 * session-sized memory reserves it here first, so a request that does not fit is refused before anything is
 * allocated and the sessions already there are untouched.
 */
public final class MemoryBudget {

	private final long limit;

	private final AtomicLong used = new AtomicLong();

	public MemoryBudget(long limit) {
		if (limit <= 0) {
			throw new IllegalArgumentException("the memory budget must be positive, got " + limit);
		}
		this.limit = limit;
	}

	/** A budget no request reaches; for tests and tools that do not limit memory. */
	public static MemoryBudget unlimited() {
		return new MemoryBudget(Long.MAX_VALUE);
	}

	/**
	 * Reserves {@code bytes} or, when they do not fit, throws and reserves nothing.
	 * @param what what the bytes are for, e.g. {@code "the session's state"}
	 * @throws MemoryBudgetExceededException when fewer than {@code bytes} are free
	 */
	public void reserve(long bytes, String what) {
		if (bytes < 0) {
			throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
		}
		long before;
		do {
			before = this.used.get();
			if (bytes > this.limit - before) {
				throw new MemoryBudgetExceededException(what, bytes, this.limit - before, this.limit);
			}
		}
		while (!this.used.compareAndSet(before, before + bytes));
	}

	/** Gives back bytes reserved before. */
	public void release(long bytes) {
		if (bytes < 0) {
			throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
		}
		this.used.addAndGet(-bytes);
	}

	public long limit() {
		return this.limit;
	}

	public long used() {
		return this.used.get();
	}

	public long free() {
		return this.limit - this.used.get();
	}

}
