package dev.adamopt.web;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import dev.adamopt.security.SecurityLayerTestConfiguration;
import dev.adamopt.session.MutableClock;
import dev.adamopt.session.SessionLayerTestConfiguration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.bean.override.convention.TestBean;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MockMvcTester.MockMvcRequestBuilder;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each key's limits ({@code adam.limits.per-key.*}): its rate, answered 429 with Retry-After, and its sessions and
 * memory, answered 507 naming the key's quota. Each test uses a key of its own; the clock is the test's, so that a
 * token bucket refills only when the test moves time.
 */
@WebMvcTest(controllers = SessionController.class, properties = {
		"adam.security.api-keys=rate:48734fe3faed006a0f648150e6a758616dd6c245dc0c5549a06431a8322a055c,"
				+ "sessions:6b449aac5b075422cf30188a5f10f27b7fca78c711accb3e4ec90a0ba1fa6cfd,"
				+ "memory:47557d08333e04738a60d092efef6d691843ac2c566c59e9a5b66e2008001fcc",
		"adam.limits.per-key.requests-per-second=3", "adam.limits.per-key.max-sessions=2",
		"adam.limits.per-key.memory=64KB" })
@Import({ JacksonConfiguration.class, SessionLayerTestConfiguration.class, SecurityLayerTestConfiguration.class })
class PerKeyLimitsTest extends SessionApiTestSupport {

	private static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	@TestBean
	Clock clock;

	static Clock clock() {
		return CLOCK;
	}

	@Autowired
	private MockMvcTester tester;

	@Test
	void aKeyBeyondItsRateShouldGet429WithRetryAfterAndNothingDone() {
		CLOCK.advance(Duration.ofSeconds(10));
		for (int i = 0; i < 3; i++) {
			assertThat(as("rate-secret-key", this.tester.get().uri("/v1/sessions"))).as("request %d", i).hasStatusOk();
		}
		MvcTestResult refused = as("rate-secret-key", this.tester.post()
			.uri("/v1/sessions")
			.contentType(MediaType.APPLICATION_JSON)
			.content("{}")).exchange();
		assertThat(refused).hasStatus(HttpStatus.TOO_MANY_REQUESTS)
			.hasContentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
			.hasHeader(HttpHeaders.RETRY_AFTER, "1");
		JsonNode problem = read(refused);
		assertThat(problem.get("type").asString()).isEqualTo("/problems/too-many-requests");
		assertThat(problem.get("status").asInt()).isEqualTo(429);
		assertThat(problem.get("detail").asString()).contains("API key 'rate'", "3 requests per second",
				"adam.limits.per-key.requests-per-second", "Retry-After");
		// nothing was done: the key has no session
		CLOCK.advance(Duration.ofSeconds(1));
		assertThat(read(as("rate-secret-key", this.tester.get().uri("/v1/sessions")).exchange()).get("sessions"))
			.isEmpty();
		// another key has its own bucket
		assertThat(as("sessions-secret-key", this.tester.get().uri("/v1/sessions"))).hasStatusOk();
		// a third of a second gives back one request
		assertThat(as("rate-secret-key", this.tester.get().uri("/v1/sessions"))).hasStatusOk();
		assertThat(as("rate-secret-key", this.tester.get().uri("/v1/sessions"))).hasStatusOk();
		assertThat(as("rate-secret-key", this.tester.get().uri("/v1/sessions")))
			.hasStatus(HttpStatus.TOO_MANY_REQUESTS);
		CLOCK.advance(Duration.ofMillis(340));
		assertThat(as("rate-secret-key", this.tester.get().uri("/v1/sessions"))).hasStatusOk();
		assertThat(as("rate-secret-key", this.tester.get().uri("/v1/sessions")))
			.hasStatus(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void aKeyAtItsSessionQuotaShouldGet507NamingItUntilItDeletesOne() {
		String first = createAs("sessions-secret-key", "{}");
		createAs("sessions-secret-key", "{}");
		MvcTestResult refused = as("sessions-secret-key", create()).exchange();
		assertThat(refused).hasStatus(HttpStatus.INSUFFICIENT_STORAGE)
			.hasContentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON);
		assertThat(read(refused).get("type").asString()).isEqualTo("/problems/too-many-sessions");
		assertThat(read(refused).get("detail").asString()).contains("API key 'sessions' already holds 2 sessions",
				"adam.limits.per-key.max-sessions");
		CLOCK.advance(Duration.ofSeconds(1));
		assertThat(as("sessions-secret-key", this.tester.delete().uri("/v1/sessions/{id}", first)))
			.hasStatus(HttpStatus.NO_CONTENT);
		createAs("sessions-secret-key", "{}");
	}

	@Test
	void aKeyBeyondItsMemoryQuotaShouldGet507NamingItAndHoldNothingMore() {
		// 3,000 float64 parameters held: 72 KB of state and parameters, beyond the key's 64 KB
		StringBuilder large = new StringBuilder("{\"parameters\":{\"w\":[");
		for (int i = 0; i < 3000; i++) {
			large.append(i == 0 ? "" : ",").append(0.5);
		}
		large.append("]}}");
		CLOCK.advance(Duration.ofSeconds(1));
		MvcTestResult refused = as("memory-secret-key", this.tester.post()
			.uri("/v1/sessions")
			.contentType(MediaType.APPLICATION_JSON)
			.content(large.toString())).exchange();
		assertThat(refused).hasStatus(HttpStatus.INSUFFICIENT_STORAGE)
			.hasContentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON);
		assertThat(read(refused).get("type").asString()).isEqualTo("/problems/insufficient-storage");
		assertThat(read(refused).get("detail").asString())
			.contains("of the 65536 bytes of session memory of API key 'memory' (adam.limits.per-key.memory) are free");
		// a session that fits is still made
		createAs("memory-secret-key", "{\"parameters\":{\"w\":[0.5,0.25]}}");
	}

	private MockMvcRequestBuilder create() {
		return this.tester.post().uri("/v1/sessions").contentType(MediaType.APPLICATION_JSON).content("{}");
	}

	private String createAs(String key, String body) {
		CLOCK.advance(Duration.ofSeconds(1));
		MvcTestResult result = as(key,
				this.tester.post().uri("/v1/sessions").contentType(MediaType.APPLICATION_JSON).content(body))
			.exchange();
		assertThat(result).hasStatus(HttpStatus.CREATED);
		return read(result).get("id").asString();
	}

	private static MockMvcRequestBuilder as(String key, MockMvcRequestBuilder request) {
		return request.header(HttpHeaders.AUTHORIZATION, "Bearer " + key);
	}

}
