package dev.adamopt.memory;

/**
 * The memory one request holds for a while: tensors being decoded, copies made for its answer. Opened for the
 * request's thread by the web layer and closed when the answer is written, which gives every byte back. Code that
 * allocates tensor data charges it here first; where no request is open (unit tests, tools) charging is free.
 */
public final class RequestMemory implements AutoCloseable {

	private static final ThreadLocal<RequestMemory> CURRENT = new ThreadLocal<>();

	private final MemoryBudget budget;

	private final RequestMemory outer;

	private long held;

	private RequestMemory(MemoryBudget budget, RequestMemory outer) {
		this.budget = budget;
		this.outer = outer;
	}

	/** Opens an account for the current thread; close it on the same thread. */
	public static RequestMemory open(MemoryBudget budget) {
		RequestMemory memory = new RequestMemory(budget, CURRENT.get());
		CURRENT.set(memory);
		return memory;
	}

	/**
	 * Charges {@code bytes} to the current request before they are allocated.
	 * @throws MemoryBudgetExceededException when they do not fit (nothing is charged then)
	 */
	public static void charge(long bytes, String what) {
		RequestMemory memory = CURRENT.get();
		if (memory != null && bytes > 0) {
			memory.budget.reserve(bytes, what);
			memory.held += bytes;
		}
	}

	/** Gives back bytes charged before whose arrays are no longer held (e.g. an array that grew into another). */
	public static void credit(long bytes) {
		RequestMemory memory = CURRENT.get();
		if (memory != null && bytes > 0) {
			long given = Math.min(bytes, memory.held);
			memory.held -= given;
			memory.budget.release(given);
		}
	}

	/** The bytes the current request holds. */
	public static long held() {
		RequestMemory memory = CURRENT.get();
		return (memory != null) ? memory.held : 0;
	}

	@Override
	public void close() {
		this.budget.release(this.held);
		this.held = 0;
		if (this.outer != null) {
			CURRENT.set(this.outer);
		}
		else {
			CURRENT.remove();
		}
	}

}
