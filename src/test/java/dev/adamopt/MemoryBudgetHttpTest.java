package dev.adamopt;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;

/** The memory budget and the session limits over real HTTP, with a budget of 1 MB and at most 5 sessions. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "adam.limits.memory=1MB", "adam.limits.max-sessions=5", "adam.limits.max-tensors-per-session=3" })
@DirtiesContext
class MemoryBudgetHttpTest {

	private static final HttpClient HTTP = HttpClient.newHttpClient();

	@LocalServerPort
	private int port;

	@Autowired
	private JsonMapper json;

	@Test
	void requestsBeyondTheBudgetShouldAnswer507AndLeaveTheSessionsAsTheyWere() throws Exception {
		HttpResponse<String> created = send("POST", "/v1/sessions",
				"{\"parameters\": {\"w\": " + vector(10_000, 0.5) + "}}");
		assertThat(created.statusCode()).isEqualTo(201);
		String id = this.json.readTree(created.body()).get("id").asString();
		long bytes = this.json.readTree(created.body()).get("bytes").asLong();
		assertThat(bytes).isEqualTo(512 + 3 * 10_000 * 8 + 128);
		String step = "{\"gradients\": {\"dw\": " + vector(10_000, 0.01) + "}}";
		assertThat(send("POST", "/v1/sessions/" + id + "/steps", step).statusCode()).isEqualTo(200);
		String state = send("GET", "/v1/sessions/" + id + "/state", null).body();
		// the step's history entry is counted too (the history grows in blocks of 16 entries of 57 bytes)
		long stepped = this.json.readTree(send("GET", "/v1/sessions/" + id, null).body()).get("bytes").asLong();
		assertThat(stepped).isEqualTo(bytes + 16 * 57);

		// a session of 40,000 parameters needs 960,128 bytes of state: more than is free
		HttpResponse<String> tooLarge = send("POST", "/v1/sessions",
				"{\"parameters\": {\"w\": " + vector(40_000, 0.5) + "}}");
		assertProblem(tooLarge, 507, "/problems/insufficient-storage");
		assertThat(detail(tooLarge)).containsPattern("needs \\d+ bytes but only \\d+ of the service's 1048576 bytes");

		// a JSON body is counted as it is decoded: 200,000 numbers do not fit beside the session
		HttpResponse<String> largeBody = send("POST", "/v1/sessions/" + id + "/steps",
				"{\"gradients\": {\"dw\": " + vector(200_000, 0.01) + "}}");
		assertProblem(largeBody, 507, "/problems/insufficient-storage");
		assertThat(detail(largeBody)).contains("decoding the request's tensors");

		// so is one small enough to be read ahead before it is decoded (200 KB of zeros, 800 KB of doubles)
		HttpResponse<String> readAhead = send("POST", "/v1/sessions/" + id + "/steps",
				"{\"gradients\": {\"dw\": [" + "0,".repeat(99_999) + "0]}}");
		assertProblem(readAhead, 507, "/problems/insufficient-storage");
		assertThat(detail(readAhead)).contains("decoding the request's tensors");

		assertThat(send("GET", "/v1/sessions/" + id + "/state", null).body()).isEqualTo(state);
		JsonNode health = this.json.readTree(send("GET", "/actuator/health", null).body());
		assertThat(health.at("/components/memoryBudget/status").asString()).isEqualTo("UP");
		assertThat(health.at("/components/memoryBudget/details/limitBytes").asLong()).isEqualTo(1 << 20);
		assertThat(health.at("/components/memoryBudget/details/usedBytes").asLong()).isEqualTo(stepped);
		assertThat(health.at("/components/memoryBudget/details/sessions").asInt()).isEqualTo(1);

		assertThat(send("DELETE", "/v1/sessions/" + id, null).statusCode()).isEqualTo(204);
		// every byte is given back: the session's and the refused requests'
		JsonNode after = this.json.readTree(send("GET", "/actuator/health", null).body());
		assertThat(after.at("/components/memoryBudget/details/usedBytes").asLong()).isZero();
	}

	@Test
	void sessionsAndTensorsBeyondTheirLimitsShouldAnswerProblemsThatNameTheLimit() throws Exception {
		HttpResponse<String> tooManyTensors = send("POST", "/v1/sessions",
				"{\"parameters\": {\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4}}");
		assertProblem(tooManyTensors, 422, "/problems/too-many-tensors");
		assertThat(detail(tooManyTensors)).contains("4 tensors", "at most 3");

		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			HttpResponse<String> created = send("POST", "/v1/sessions", "{}");
			assertThat(created.statusCode()).isEqualTo(201);
			ids.add(this.json.readTree(created.body()).get("id").asString());
		}
		HttpResponse<String> sixth = send("POST", "/v1/sessions", "{}");
		assertProblem(sixth, 507, "/problems/too-many-sessions");
		assertThat(detail(sixth)).contains("5 sessions", "adam.limits.max-sessions");

		// paging through them: two pages of 3 and 2, in the order of creation
		JsonNode first = this.json.readTree(send("GET", "/v1/sessions?pageSize=3", null).body());
		assertThat(first.get("sessions").valueStream().map(s -> s.get("id").asString()).toList())
			.containsExactlyElementsOf(ids.subList(0, 3));
		String token = first.get("nextPageToken").asString();
		JsonNode second = this.json.readTree(send("GET", "/v1/sessions?pageSize=3&pageToken=" + token, null).body());
		assertThat(second.get("sessions").valueStream().map(s -> s.get("id").asString()).toList())
			.containsExactlyElementsOf(ids.subList(3, 5));
		assertThat(second.has("nextPageToken")).isFalse();
		// a page size beyond the maximum is taken as the maximum
		assertThat(this.json.readTree(send("GET", "/v1/sessions?pageSize=5000", null).body()).get("sessions").size())
			.isEqualTo(5);
		assertProblem(send("GET", "/v1/sessions?pageSize=-1", null), 400, "/problems/invalid-query-parameter");
		HttpResponse<String> forged = send("GET", "/v1/sessions?pageToken=bm90LWEtdG9rZW4", null);
		assertProblem(forged, 400, "/problems/invalid-query-parameter");
		assertThat(detail(forged)).contains("nextPageToken");

		for (String id : ids) {
			send("DELETE", "/v1/sessions/" + id, null);
		}
		HttpResponse<String> again = send("POST", "/v1/sessions", "{}");
		assertThat(again.statusCode()).isEqualTo(201);
		send("DELETE", "/v1/sessions/" + this.json.readTree(again.body()).get("id").asString(), null);
	}

	private void assertProblem(HttpResponse<String> response, int status, String type) throws Exception {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
		assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(this.json.readTree(response.body()).get("type").asString()).isEqualTo(type);
	}

	private String detail(HttpResponse<String> response) {
		return this.json.readTree(response.body()).get("detail").asString();
	}

	private static String vector(int size, double scale) {
		StringJoiner joiner = new StringJoiner(",", "[", "]");
		for (int i = 0; i < size; i++) {
			joiner.add(Double.toString(scale * Math.sin(i + 1)));
		}
		return joiner.toString();
	}

	private HttpResponse<String> send(String method, String path, String body) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path))
			.method(method, (body != null) ? HttpRequest.BodyPublishers.ofString(body)
					: HttpRequest.BodyPublishers.noBody());
		if (body != null) {
			request.header("Content-Type", "application/json");
		}
		return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

}
