package dev.adamopt.session;

import java.util.concurrent.atomic.AtomicInteger;

import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.session.SessionException.Reason;

/**
 * What sessions may take together: the memory budget, the number of sessions and the tensors of each. Sessions
 * reserve here before they allocate, and give back when they leave the store.
 */
final class SessionCapacity {

	/** The session object, its lock, maps and timestamps, counted against the budget with its tensors. */
	static final long SESSION_OVERHEAD_BYTES = 512;

	private final MemoryBudget budget;

	private final int maxSessions;

	private final int maxTensorsPerSession;

	private final int historySize;

	private final KeyQuotas quotas;

	private final AtomicInteger sessions = new AtomicInteger();

	SessionCapacity(MemoryBudget budget, int maxSessions, int maxTensorsPerSession) {
		this(budget, maxSessions, maxTensorsPerSession, HistoryProperties.DEFAULT_SIZE);
	}

	SessionCapacity(MemoryBudget budget, int maxSessions, int maxTensorsPerSession, int historySize) {
		this(budget, maxSessions, maxTensorsPerSession, historySize, KeyQuotas.none(budget));
	}

	/** @param quotas what each API key may hold, within {@code budget} and {@code maxSessions} */
	SessionCapacity(MemoryBudget budget, int maxSessions, int maxTensorsPerSession, int historySize,
			KeyQuotas quotas) {
		this.budget = budget;
		this.maxSessions = maxSessions;
		this.maxTensorsPerSession = maxTensorsPerSession;
		this.historySize = historySize;
		this.quotas = quotas;
	}

	/** How many steps each session's history keeps (adam.history.size). */
	int historySize() {
		return this.historySize;
	}

	/** No limits but the heap; for tests and tools. */
	static SessionCapacity unlimited() {
		return new SessionCapacity(MemoryBudget.unlimited(), Integer.MAX_VALUE, Integer.MAX_VALUE);
	}

	/** The service's budget. */
	MemoryBudget budget() {
		return this.budget;
	}

	/** The budget the sessions of {@code owner} ({@code null}: none) reserve in: its key's quota, or the service's. */
	MemoryBudget budgetOf(String owner) {
		return this.quotas.budgetOf(owner);
	}

	int sessions() {
		return this.sessions.get();
	}

	int maxSessions() {
		return this.maxSessions;
	}

	/**
	 * Counts one more session of {@code owner} ({@code null}: none), or refuses when the service or the owner's key
	 * holds as many as allowed.
	 */
	void admit(String owner) {
		admit();
		try {
			this.quotas.admit(owner);
		}
		catch (RuntimeException ex) {
			leave();
			throw ex;
		}
	}

	/** Counts one session of {@code owner} fewer. */
	void leave(String owner) {
		this.quotas.leave(owner);
		leave();
	}

	/** Counts one more session, or refuses when there are already as many as allowed. */
	private void admit() {
		int before;
		do {
			before = this.sessions.get();
			if (before >= this.maxSessions) {
				throw new SessionException(Reason.TOO_MANY_SESSIONS, "the service already holds " + before
						+ " sessions, its limit (adam.limits.max-sessions): delete sessions you no longer need");
			}
		}
		while (!this.sessions.compareAndSet(before, before + 1));
	}

	private void leave() {
		this.sessions.decrementAndGet();
	}

	/**
	 * For every session that leaves the store (deleted or expired): gives back its memory and its places, once (a
	 * session given back before is left alone).
	 */
	void release(OptimizerSession session) {
		session.close();
		if (session.markReleased()) {
			leave(session.owner());
		}
	}

	/**
	 * The capacity for copies of sessions that must be kept wherever they land (a cluster's backups, sessions that
	 * move to this node): counted in this memory budget (not in the number of sessions), but never refused.
	 */
	SessionCapacity replicas() {
		return unchecked(Integer.MAX_VALUE);
	}

	/**
	 * The capacity of a new session this node builds for another node to admit (a cluster's member that owns it): its
	 * tensors are checked, its memory is counted here while it is built, but neither this node's number of sessions
	 * nor its memory refuses it; the owner does, under its own limits.
	 */
	SessionCapacity forwarded() {
		return unchecked(this.maxTensorsPerSession);
	}

	/** A capacity counted in this one's memory that refuses no session and no memory, only more tensors than given. */
	private SessionCapacity unchecked(int maxTensorsPerSession) {
		MemoryBudget unchecked = this.budget.unchecked();
		return new SessionCapacity(unchecked, Integer.MAX_VALUE, maxTensorsPerSession, this.historySize,
				KeyQuotas.none(unchecked));
	}

	void checkTensorCount(int count, String field) {
		if (count > this.maxTensorsPerSession) {
			throw new SessionException(Reason.TOO_MANY_TENSORS, "'" + field + "' names " + count + " tensors; a session "
					+ "may have at most " + this.maxTensorsPerSession + " (adam.limits.max-tensors-per-session): "
					+ "split the model over several sessions or merge small tensors");
		}
	}

}
