package dev.adamopt.session;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import org.springframework.stereotype.Component;

/**
 * Gauges of what sessions hold: {@code adam.sessions} (and its limit) and {@code adam.memory.used} against
 * {@code adam.memory.limit}, in bytes.
 */
@Component
class SessionMetrics implements MeterBinder {

	private final SessionCapacity capacity;

	SessionMetrics(SessionCapacity capacity) {
		this.capacity = capacity;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		Gauge.builder("adam.sessions", this.capacity, SessionCapacity::sessions)
			.description("Sessions the service holds")
			.register(registry);
		Gauge.builder("adam.sessions.limit", this.capacity, SessionCapacity::maxSessions)
			.description("The most sessions the service holds (adam.limits.max-sessions)")
			.register(registry);
		Gauge.builder("adam.memory.used", this.capacity, capacity -> capacity.budget().used())
			.description("Bytes that sessions and requests hold against the memory budget")
			.baseUnit("bytes")
			.register(registry);
		Gauge.builder("adam.memory.limit", this.capacity, capacity -> capacity.budget().limit())
			.description("The memory budget (adam.limits.memory)")
			.baseUnit("bytes")
			.register(registry);
	}

}
