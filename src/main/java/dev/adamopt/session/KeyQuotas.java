package dev.adamopt.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.session.SessionException.Reason;

/**
 * What each API key may hold ({@link PerKeyLimitsProperties}): its sessions' memory, together with the tensors of its
 * requests in flight, within the service's budget, and its number of sessions. A session reserves in its owner's
 * account for as long as it lives, whether it was created, resumed or restored from its file, and gives everything
 * back when it leaves the store (deleted or expired). Sessions without an owner (a service without keys) count
 * against the service's limits only.
 */
public final class KeyQuotas {

	private final MemoryBudget service;

	/** Bytes each key may hold; {@code 0}: no quota. */
	private final long memory;

	/** Sessions each key may hold; {@code 0}: no quota. */
	private final int maxSessions;

	private final Map<String, Account> accounts = new ConcurrentHashMap<>();

	/**
	 * @param service the service's budget, which every key's lies within
	 * @param memory the bytes each key may hold, {@code 0} for no quota
	 * @param maxSessions the sessions each key may hold, {@code 0} for no quota
	 */
	KeyQuotas(MemoryBudget service, long memory, int maxSessions) {
		this.service = service;
		this.memory = memory;
		this.maxSessions = maxSessions;
	}

	/** No quotas: keys share the service's limits. */
	static KeyQuotas none(MemoryBudget service) {
		return new KeyQuotas(service, 0, 0);
	}

	/**
	 * The budget the caller's sessions and requests reserve in: its key's quota (which lies within the service's
	 * budget), or the service's budget when there is no quota or no key.
	 */
	public MemoryBudget memory(Caller caller) {
		return budgetOf(caller.owner());
	}

	MemoryBudget budgetOf(String owner) {
		return (owner == null || this.memory == 0) ? this.service : account(owner).budget;
	}

	/** Counts one more session of {@code owner}, or refuses when the key holds as many as it may. */
	void admit(String owner) {
		if (owner == null || this.maxSessions == 0) {
			return;
		}
		AtomicInteger sessions = account(owner).sessions;
		int before;
		do {
			before = sessions.get();
			if (before >= this.maxSessions) {
				throw new SessionException(Reason.TOO_MANY_SESSIONS, "API key '" + owner + "' already holds " + before
						+ " sessions, its quota (adam.limits.per-key.max-sessions): delete the sessions it no longer "
						+ "needs");
			}
		}
		while (!sessions.compareAndSet(before, before + 1));
	}

	/** Counts one session of {@code owner} fewer. */
	void leave(String owner) {
		if (owner != null && this.maxSessions != 0) {
			account(owner).sessions.decrementAndGet();
		}
	}

	/** The sessions {@code owner} holds, as counted against its quota (0 without a quota). */
	int sessions(String owner) {
		Account account = this.accounts.get(owner);
		return (account != null) ? account.sessions.get() : 0;
	}

	private Account account(String owner) {
		return this.accounts.computeIfAbsent(owner, name -> new Account((this.memory == 0) ? this.service
				: this.service.within(this.memory, "the " + this.memory + " bytes of session memory of API key '" + name
						+ "' (adam.limits.per-key.memory)")));
	}

	/** One key's memory budget and count of sessions; keys are few (configured, or named by restored files). */
	private static final class Account {

		final MemoryBudget budget;

		final AtomicInteger sessions = new AtomicInteger();

		Account(MemoryBudget budget) {
			this.budget = budget;
		}

	}

}
