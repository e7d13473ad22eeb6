package dev.adamopt.session;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * What each API key may take ({@code adam.security.api-keys}), so that no key can crowd out the others. Each is
 * unlimited when not set; a service without keys has no per-key limits, only the service's.
 *
 * @param requestsPerSecond how many requests a key may make per second under {@code /v1}, on average: a token bucket
 * that holds this many (a burst of up to one second's worth), refilled continuously. Beyond it: 429 with Retry-After
 * @param memory the session memory one key's sessions may hold, with the tensors of its requests in flight (as
 * {@code adam.limits.memory} counts them, within it). Beyond it: 507
 * @param maxSessions how many sessions one key may hold at once. Beyond it: 507
 */
@ConfigurationProperties("adam.limits.per-key")
public record PerKeyLimitsProperties(Integer requestsPerSecond, DataSize memory, Integer maxSessions) {

	public PerKeyLimitsProperties {
		if (requestsPerSecond != null && requestsPerSecond <= 0) {
			throw new IllegalArgumentException(
					"adam.limits.per-key.requests-per-second must be positive, got " + requestsPerSecond);
		}
		if (memory != null && memory.toBytes() <= 0) {
			throw new IllegalArgumentException("adam.limits.per-key.memory must be positive, got " + memory);
		}
		if (maxSessions != null && maxSessions <= 0) {
			throw new IllegalArgumentException("adam.limits.per-key.max-sessions must be positive, got " + maxSessions);
		}
	}

	/** No per-key limits. */
	public static PerKeyLimitsProperties none() {
		return new PerKeyLimitsProperties(null, null, null);
	}

}
