package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The in-memory store, as {@link SessionConfiguration} makes it without persistence. */
class CaffeineSessionStoreContractTest extends SessionStoreContract {

	@Override
	protected SessionStore newStore(Clock clock, Duration idleTimeout) {
		return new CaffeineSessionStore(idleTimeout, () -> TimeUnit.MILLISECONDS.toNanos(clock.millis()),
				this.capacity::release);
	}

}
