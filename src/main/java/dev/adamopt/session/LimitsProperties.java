package dev.adamopt.session;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * What one service process takes on, so that no client can take it down.
 *
 * @param memory all session state (moments, held parameters, remembered answers) plus tensors being decoded; a
 * request that would go beyond it is refused before anything is allocated. Default: half of the maximum heap
 * @param maxRequestSize the largest request body, by Content-Length or as a chunked body is read
 * @param maxSessions how many sessions may live at once
 * @param maxTensorsPerSession how many tensors one session may have
 * @param requestBodyTimeout how long a request may take to send its whole body
 */
@ConfigurationProperties("adam.limits")
public record LimitsProperties(DataSize memory, @DefaultValue("1GB") DataSize maxRequestSize,
		@DefaultValue("100000") int maxSessions, @DefaultValue("10000") int maxTensorsPerSession,
		@DefaultValue("30s") Duration requestBodyTimeout) {

	public LimitsProperties {
		if (memory != null && memory.toBytes() <= 0) {
			throw new IllegalArgumentException("adam.limits.memory must be positive, got " + memory);
		}
		if (maxRequestSize.toBytes() <= 0) {
			throw new IllegalArgumentException("adam.limits.max-request-size must be positive, got " + maxRequestSize);
		}
		if (maxSessions <= 0) {
			throw new IllegalArgumentException("adam.limits.max-sessions must be positive, got " + maxSessions);
		}
		if (maxTensorsPerSession <= 0) {
			throw new IllegalArgumentException(
					"adam.limits.max-tensors-per-session must be positive, got " + maxTensorsPerSession);
		}
		if (requestBodyTimeout.isNegative() || requestBodyTimeout.isZero()) {
			throw new IllegalArgumentException(
					"adam.limits.request-body-timeout must be positive, got " + requestBodyTimeout);
		}
	}

	/** The memory budget in bytes: {@link #memory} or, when it is not set, half of the maximum heap. */
	public long memoryBytes() {
		return (this.memory != null) ? this.memory.toBytes() : Runtime.getRuntime().maxMemory() / 2;
	}

}
