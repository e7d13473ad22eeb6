package dev.adamopt;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/** What /actuator/prometheus tells an operator: steps by outcome, sessions, bytes against the budget, problems. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class PrometheusMetricsTest {

	private static final HttpClient HTTP = HttpClient.newHttpClient();

	private static final JsonMapper JSON = JsonMapper.builder().build();

	@LocalServerPort
	private int port;

	@Test
	void stepsSessionsMemoryAndProblemsShouldBeCountedWhereAScraperFindsThem() throws Exception {
		String before = scrape();
		String created = send("POST", "/v1/sessions", null, "{\"parameters\": {\"w\": [1.0, 2.0, 3.0]}}").body();
		String id = JSON.readTree(created).get("id").asString();
		String step = "{\"gradients\": {\"dw\": [0.1, 0.2, 0.3]}}";
		assertThat(send("POST", "/v1/sessions/" + id + "/steps", "k1", step).statusCode()).isEqualTo(200);
		assertThat(send("POST", "/v1/sessions/" + id + "/steps", "k1", step).statusCode()).isEqualTo(200);
		// over real sockets (the body read ahead, then decoded on the async dispatch) the key's body is compared
		HttpResponse<String> reused = send("POST", "/v1/sessions/" + id + "/steps", "k1",
				"{\"gradients\": {\"dw\": [0.1, 0.2, 0.4]}}");
		assertThat(reused.statusCode()).isEqualTo(422);
		assertThat(reused.body()).contains("/problems/idempotency-key-reused");
		assertThat(send("POST", "/v1/sessions/" + id + "/steps", null, step).statusCode()).isEqualTo(200);
		assertThat(send("POST", "/v1/sessions/" + id + "/steps", null, "{\"gradients\": {\"dw\": [1]}}").statusCode())
			.isEqualTo(422);
		HttpResponse<String> large = send("POST", "/v1/sessions/" + id + "/steps", null,
				"{\"gradients\": {\"dw\": " + "[0.1, 0.2, 0.3]" + "}}" + " ".repeat(2_000_000));
		assertThat(large.statusCode()).as("a body beyond the read-ahead size, streamed").isEqualTo(200);
		// a problem made below Spring MVC (Tomcat refuses the URL) is counted too
		try (java.net.Socket socket = new java.net.Socket("127.0.0.1", this.port)) {
			socket.getOutputStream()
				.write("GET /v1/sessions/%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
					.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
			assertThat(new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
				.startsWith("HTTP/1.1 400")
				.contains("/problems/invalid-url");
		}
		String after = scrape();
		// the keyed step made the session remember its keys: its bytes now, as the session view shows them
		long bytes = JSON.readTree(send("GET", "/v1/sessions/" + id, null, null).body()).get("bytes").asLong();

		assertThat(value(after, "adam_steps_seconds_count", "outcome=\"applied\"")
				- value(before, "adam_steps_seconds_count", "outcome=\"applied\"")).isEqualTo(3);
		assertThat(value(after, "adam_steps_seconds_count", "outcome=\"replayed\"")
				- value(before, "adam_steps_seconds_count", "outcome=\"replayed\"")).isEqualTo(1);
		assertThat(value(after, "adam_steps_seconds_count", "outcome=\"refused\"")
				- value(before, "adam_steps_seconds_count", "outcome=\"refused\"")).as("reused key, tensor mismatch")
			.isEqualTo(2);
		assertThat(after).contains("adam_steps_seconds_bucket{");
		assertThat(value(after, "adam_problems_total", "type=\"idempotency-key-reused\"")
				- value(before, "adam_problems_total", "type=\"idempotency-key-reused\"")).isEqualTo(1);
		assertThat(value(after, "adam_problems_total", "type=\"invalid-url\"")
				- value(before, "adam_problems_total", "type=\"invalid-url\"")).isEqualTo(1);
		assertThat(value(after, "adam_problems_total", "type=\"tensor-mismatch\"")
				- value(before, "adam_problems_total", "type=\"tensor-mismatch\"")).isEqualTo(1);
		assertThat(value(after, "adam_sessions", "") - value(before, "adam_sessions", "")).isEqualTo(1);
		assertThat(value(after, "adam_memory_used_bytes", "") - value(before, "adam_memory_used_bytes", ""))
			.isEqualTo(bytes);
		assertThat(value(after, "adam_memory_limit_bytes", "")).isEqualTo(Runtime.getRuntime().maxMemory() / 2);
		send("DELETE", "/v1/sessions/" + id, null, null);
	}

	/** The value of the first sample of {@code name} whose labels contain {@code label}; 0 when there is none. */
	private static double value(String scrape, String name, String label) {
		Matcher matcher = Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? (\\S+)$").matcher(scrape);
		while (matcher.find()) {
			String labels = (matcher.group(1) != null) ? matcher.group(1) : "";
			if (labels.contains(label)) {
				return Double.parseDouble(matcher.group(2));
			}
		}
		return 0;
	}

	private String scrape() throws Exception {
		HttpResponse<String> response = send("GET", "/actuator/prometheus", null, null);
		assertThat(response.statusCode()).isEqualTo(200);
		return response.body();
	}

	private HttpResponse<String> send(String method, String path, String key, String body) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path))
			.method(method, (body != null) ? HttpRequest.BodyPublishers.ofString(body)
					: HttpRequest.BodyPublishers.noBody());
		if (body != null) {
			request.header("Content-Type", "application/json");
		}
		if (key != null) {
			request.header("Idempotency-Key", key);
		}
		return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

}
