package dev.adamopt;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/** The concurrency promise over real HTTP: steps on one session are serialized and none is lost. */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class ConcurrentStepsHttpTest {

	private static final String GRADIENTS = "{\"gradients\": {\"dW1\": [[0.1, -0.2], [0.3, 0.0]], \"db1\": [0.5, -0.5]}}";

	private final HttpClient http = HttpClient.newHttpClient();

	private final JsonMapper json = JsonMapper.builder().build();

	@LocalServerPort
	private int port;

	@Test
	void concurrentStepsOverHttpShouldEachGetTheirOwnStep() throws Exception {
		String id = post("/v1/sessions",
				"{\"parameters\": {\"W1\": [[1.0, 2.0], [3.0, 4.0]], \"b1\": [0.0, 0.0]}}", 201).get("id").asString();
		int threads = 4;
		int stepsPerThread = 25;
		Set<Long> steps = ConcurrentHashMap.newKeySet();
		ExecutorService executor = Executors.newFixedThreadPool(threads);
		try {
			List<Future<?>> futures = new ArrayList<>();
			for (int t = 0; t < threads; t++) {
				futures.add(executor.submit(() -> {
					for (int i = 0; i < stepsPerThread; i++) {
						steps.add(post("/v1/sessions/" + id + "/steps", GRADIENTS, 200).get("step").asLong());
					}
					return null;
				}));
			}
			for (Future<?> future : futures) {
				future.get(120, TimeUnit.SECONDS);
			}
		}
		finally {
			executor.shutdownNow();
		}
		int total = threads * stepsPerThread;
		assertThat(steps).hasSize(total);
		JsonNode session = get("/v1/sessions/" + id);
		assertThat(session.get("step").asLong()).isEqualTo(total);
		for (JsonNode tensor : session.get("tensors")) {
			assertThat(tensor.get("step").asLong()).isEqualTo(total);
		}
	}

	private JsonNode post(String path, String body, int expectedStatus) throws Exception {
		HttpRequest request = HttpRequest.newBuilder(uri(path))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build();
		HttpResponse<String> response = this.http.send(request, HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(response.body()).isEqualTo(expectedStatus);
		return this.json.readTree(response.body());
	}

	private JsonNode get(String path) throws Exception {
		HttpResponse<String> response = this.http.send(HttpRequest.newBuilder(uri(path)).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		return this.json.readTree(response.body());
	}

	private URI uri(String path) {
		return URI.create("http://localhost:" + this.port + path);
	}

}
