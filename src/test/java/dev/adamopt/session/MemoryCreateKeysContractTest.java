package dev.adamopt.session;

import java.util.concurrent.TimeUnit;

/** The create keys of one process's sessions, as {@link SessionConfiguration} makes them. */
class MemoryCreateKeysContractTest extends CreateKeysContract {

	private final SessionService service;

	MemoryCreateKeysContractTest() {
		SessionCapacity capacity = SessionCapacity.unlimited();
		MemoryCreateKeys keys = new MemoryCreateKeys();
		SessionStore store = SessionConfiguration.store(IDLE_TIMEOUT,
				() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), capacity, keys, null, false);
		this.service = new SessionService(store, this.clock, capacity, keys);
	}

	@Override
	protected SessionService through(int node) {
		return this.service;
	}

}
