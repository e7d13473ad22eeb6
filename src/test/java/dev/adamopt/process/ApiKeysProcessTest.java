package dev.adamopt.process;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.adamopt.ApiRequests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * API keys in a service of its own, stopped and started again on the same session directory: every session comes
 * back to the key that created it (its owner is kept in its file), with its create key; and neither run's log holds a
 * key.
 */
class ApiKeysProcessTest {

	private static final String ALICE = "alice-process-key-5d1e";

	private static final String BOB = "bob-process-key-a8c0";

	/** {@code printf %s KEY | sha256sum} for each. */
	private static final String KEYS = "alice:1b6622efa72db41be6be734ce92996ec57e1d8726c843f8747a1a06f0061a34d,"
			+ "bob:a0280ab89f2fec20398ae942f3cfe083551578b8d5d05753c43bcd1d2176fade";

	private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

	private static final JsonMapper JSON = JsonMapper.builder().build();

	@TempDir
	Path dir;

	private final List<ServiceProcess> services = new ArrayList<>();

	@AfterEach
	void stop() throws InterruptedException {
		for (ServiceProcess service : this.services) {
			service.close();
		}
	}

	@Test
	void aRestartShouldGiveEverySessionBackToItsKeyAndNoRunShouldLogAKey() throws Exception {
		ServiceProcess before = start("keys-before");
		HttpResponse<String> created = send(before, ALICE, "POST", "/v1/sessions",
				"{\"parameters\":{\"w\":[0.5,-0.25]}}", "create-1");
		assertThat(created.statusCode()).isEqualTo(201);
		String alices = JSON.readTree(created.body()).get("id").asString();
		assertThat(send(before, ALICE, "POST", "/v1/sessions/" + alices + "/steps", "{\"gradients\":{\"w\":[1,1]}}",
				null).statusCode()).isEqualTo(200);
		String bobs = JSON.readTree(send(before, BOB, "POST", "/v1/sessions", "{}", null).body()).get("id").asString();
		before.terminate();
		assertThat(before.awaitExit(Duration.ofSeconds(60))).as("exited").isNotEqualTo(-1);

		ServiceProcess after = start("keys-after");

		HttpResponse<String> session = send(after, ALICE, "GET", "/v1/sessions/" + alices, null, null);
		assertThat(session.statusCode()).isEqualTo(200);
		assertThat(JSON.readTree(session.body()).get("step").asInt()).isEqualTo(1);
		HttpResponse<String> others = send(after, BOB, "GET", "/v1/sessions/" + alices, null, null);
		assertThat(others.statusCode()).isEqualTo(404);
		assertThat(JSON.readTree(others.body()).get("type").asString()).isEqualTo("/problems/session-not-found");
		assertThat(ids(send(after, ALICE, "GET", "/v1/sessions", null, null))).containsExactly(alices);
		assertThat(ids(send(after, BOB, "GET", "/v1/sessions", null, null))).containsExactly(bobs);
		// alice's create key is still hers: a retry answers her session, bob's same key makes his own
		HttpResponse<String> retried = send(after, ALICE, "POST", "/v1/sessions",
				"{\"parameters\":{\"w\":[0.5,-0.25]}}", "create-1");
		assertThat(retried.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(JSON.readTree(retried.body()).get("id").asString()).isEqualTo(alices);
		HttpResponse<String> bobsRetry = send(after, BOB, "POST", "/v1/sessions",
				"{\"parameters\":{\"w\":[0.5,-0.25]}}", "create-1");
		assertThat(bobsRetry.statusCode()).isEqualTo(201);
		assertThat(JSON.readTree(bobsRetry.body()).get("id").asString()).isNotEqualTo(alices);
		assertThat(send(after, null, "GET", "/v1/sessions", null, null).statusCode()).isEqualTo(401);

		for (ServiceProcess service : List.of(before, after)) {
			assertThat(service.log()).contains("API keys: 2 configured").doesNotContain(ALICE, BOB);
		}
	}

	private ServiceProcess start(String name) throws Exception {
		ServiceProcess service = ServiceProcess.start(name, List.of("-Xmx256m"),
				Map.of("adam.persistence.directory", this.dir.toString(), "adam.persistence.mode", "every-step",
						"adam.security.api-keys", KEYS));
		this.services.add(service);
		return service;
	}

	private static HttpResponse<String> send(ServiceProcess service, String key, String method, String path,
			String body, String idempotencyKey) throws Exception {
		HttpRequest.Builder request = ApiRequests.json(service.uri(path), method, body, key);
		if (idempotencyKey != null) {
			request.header("Idempotency-Key", idempotencyKey);
		}
		return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static List<String> ids(HttpResponse<String> list) {
		assertThat(list.statusCode()).isEqualTo(200);
		List<String> ids = new ArrayList<>();
		for (JsonNode session : JSON.readTree(list.body()).get("sessions")) {
			ids.add(session.get("id").asString());
		}
		return ids;
	}

}
