package dev.adamopt.memory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes this process may hold for sessions and for tensors being decoded. Everything that would allocate
 * session-sized memory reserves it here first, so a request that does not fit is refused before anything is
 * allocated and the sessions already there are untouched.
 * <p>
 * A budget may lie {@linkplain #within within} another (an API key's quota within the service's budget): every
 * reservation then takes its bytes from both, or from neither, and every release gives them back to both.
 */
public final class MemoryBudget {

	private final long limit;

	private final AtomicLong used = new AtomicLong();

	/** The budget this one lies within; {@code null} for the service's own. */
	private final MemoryBudget parent;

	/** Whose bytes these are, for details: "the service's {limit} bytes of session memory (adam.limits.memory)". */
	private final String description;

	/** Whether a reservation must fit; an {@link #unchecked()} view's never refuses. */
	private final boolean checked;

	public MemoryBudget(long limit) {
		this(limit, null, "the service's " + limit + " bytes of session memory (adam.limits.memory)");
	}

	private MemoryBudget(long limit, MemoryBudget parent, String description) {
		this(limit, parent, description, true);
	}

	private MemoryBudget(long limit, MemoryBudget parent, String description, boolean checked) {
		if (limit <= 0) {
			throw new IllegalArgumentException("the memory budget must be positive, got " + limit);
		}
		this.limit = limit;
		this.parent = parent;
		this.description = description;
		this.checked = checked;
	}

	/** A budget no request reaches; for tests and tools that do not limit memory. */
	public static MemoryBudget unlimited() {
		return new MemoryBudget(Long.MAX_VALUE);
	}

	/**
	 * A budget of {@code limit} bytes inside this one: what it reserves is reserved here too.
	 * @param description whose bytes they are, as a detail names them (e.g. "the 1000 bytes of session memory of API
	 * key 'a' (adam.limits.per-key.memory)")
	 */
	public MemoryBudget within(long limit, String description) {
		return new MemoryBudget(limit, this, description);
	}

	/**
	 * A view of this budget that counts what is reserved through it here too, but never refuses: for copies that must
	 * be kept wherever they land (a cluster's backups of sessions), so that what they take shows and leaves less for
	 * new sessions.
	 */
	public MemoryBudget unchecked() {
		return new MemoryBudget(Long.MAX_VALUE, this, this.description, false);
	}

	/**
	 * Reserves {@code bytes} or, when they do not fit (here or in a budget this one lies within), throws and reserves
	 * nothing.
	 * @param what what the bytes are for, e.g. {@code "the session's state"}
	 * @throws MemoryBudgetExceededException when fewer than {@code bytes} are free
	 */
	public void reserve(long bytes, String what) {
		if (bytes < 0) {
			throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
		}
		if (!this.checked) {
			force(bytes);
			return;
		}
		long before;
		do {
			before = this.used.get();
			if (bytes > this.limit - before) {
				throw new MemoryBudgetExceededException(what, bytes, this.limit - before, this.description);
			}
		}
		while (!this.used.compareAndSet(before, before + bytes));
		if (this.parent != null) {
			try {
				this.parent.reserve(bytes, what);
			}
			catch (RuntimeException | Error ex) {
				this.used.addAndGet(-bytes);
				throw ex;
			}
		}
	}

	/** Counts {@code bytes} here and in every budget this one lies within, whether they fit or not. */
	private void force(long bytes) {
		this.used.addAndGet(bytes);
		if (this.parent != null) {
			this.parent.force(bytes);
		}
	}

	/** Gives back bytes reserved before (here and in the budget this one lies within). */
	public void release(long bytes) {
		if (bytes < 0) {
			throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
		}
		this.used.addAndGet(-bytes);
		if (this.parent != null) {
			this.parent.release(bytes);
		}
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
