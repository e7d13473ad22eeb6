package dev.adamopt.session;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The step history each session keeps for dashboards ({@code GET /v1/sessions/{id}/history}).
 *
 * @param size how many of a session's latest steps are kept (default 10,000; 0 keeps none). Each takes 57 bytes,
 * counted in the memory budget and written with the session to its file
 */
@ConfigurationProperties("adam.history")
public record HistoryProperties(Integer size) {

	static final int DEFAULT_SIZE = 10_000;

	public HistoryProperties {
		if (size == null) {
			size = DEFAULT_SIZE;
		}
		if (size < 0) {
			throw new IllegalArgumentException("adam.history.size must be >= 0, got " + size);
		}
	}

}
