package dev.adamopt.session;

import dev.adamopt.memory.MemoryBudget;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/health}'s {@code memoryBudget} component: the bytes sessions and requests hold against
 * {@code adam.limits.memory}, and the sessions against {@code adam.limits.max-sessions}. Always UP: a full budget
 * refuses new work with 507 but serves the sessions it has, so it is no reason to restart the service.
 */
@Component
class MemoryBudgetHealthIndicator implements HealthIndicator {

	private final SessionCapacity capacity;

	MemoryBudgetHealthIndicator(SessionCapacity capacity) {
		this.capacity = capacity;
	}

	@Override
	public Health health() {
		MemoryBudget budget = this.capacity.budget();
		return Health.up()
			.withDetail("limitBytes", budget.limit())
			.withDetail("usedBytes", budget.used())
			.withDetail("freeBytes", budget.free())
			.withDetail("sessions", this.capacity.sessions())
			.withDetail("maxSessions", this.capacity.maxSessions())
			.build();
	}

}
