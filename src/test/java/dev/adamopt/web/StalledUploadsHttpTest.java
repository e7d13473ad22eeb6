package dev.adamopt.web;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hundreds of uploads that stall halfway do not starve a well-behaved client: with 300 stalled small bodies and 40
 * stalled large ones open (the deadline is a minute here, so all of them stay open while the client is measured),
 * health checks and small steps keep answering, p99 under 250 ms. None of the stalled steps is ever applied.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = { "adam.limits.request-body-timeout=60s", "adam.http.max-streamed-bodies=32" })
class StalledUploadsHttpTest {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final String STEP = "{\"gradients\":{\"dW1\":[[0.1,0.2]]}}";

	private static final int STALLED_SMALL = 300;

	private static final int STALLED_LARGE = 40;

	private static final int SAMPLES = 300;

	private final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(10))
		.build();

	@LocalServerPort
	private int port;

	@Test
	void stalledUploadsShouldNotDelayHealthChecksAndSmallSteps() throws Exception {
		String id = JSON.readTree(send(HttpRequest.newBuilder(uri("/v1/sessions"))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString("{\"parameters\":{\"W1\":[[0.5,-0.2]]}}"))).body())
			.get("id")
			.asString();
		for (int i = 0; i < 200; i++) { // warm up: the JIT, the connection
			health();
			step(id);
		}
		List<RawHttp> stalled = new ArrayList<>();
		int refused = 0;
		try {
			for (int i = 0; i < STALLED_SMALL; i++) {
				stalled.add(RawHttp.connect(this.port, Duration.ofSeconds(30))
					.send(head(id, STEP.length()) + STEP.substring(0, 10)));
			}
			for (int i = 0; i < STALLED_LARGE; i++) {
				RawHttp large = RawHttp.connect(this.port, Duration.ofSeconds(30))
					.send(head(id, 8 * 1024 * 1024) + STEP.substring(0, 10));
				stalled.add(large);
			}
			Thread.sleep(1_000);
			long[] health = new long[SAMPLES];
			long[] steps = new long[SAMPLES];
			for (int i = 0; i < SAMPLES; i++) {
				health[i] = health();
				steps[i] = step(id);
			}
			// beyond adam.http.max-streamed-bodies (32) the large ones were refused at once; the rest still wait
			for (RawHttp upload : stalled.subList(STALLED_SMALL, stalled.size())) {
				if (!upload.closedByServer(Duration.ofMillis(1))) {
					continue;
				}
				refused++;
			}
			report("health", health);
			report("small step", steps);
			assertThat(percentile(health, 99)).as("p99 of health checks, ms").isLessThan(250);
			assertThat(percentile(steps, 99)).as("p99 of small steps, ms").isLessThan(250);
			assertThat(refused).as("large uploads refused beyond max-streamed-bodies").isEqualTo(STALLED_LARGE - 32);
		}
		finally {
			for (RawHttp upload : stalled) {
				upload.close();
			}
		}
		String session = send(HttpRequest.newBuilder(uri("/v1/sessions/" + id))).body();
		assertThat(JSON.readTree(session).get("step").asLong()).as("only the well-behaved steps were applied")
			.isEqualTo(200 + SAMPLES);
	}

	private long health() throws Exception {
		long start = System.nanoTime();
		HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/actuator/health")));
		assertThat(response.statusCode()).isEqualTo(200);
		return (System.nanoTime() - start) / 1_000_000;
	}

	private long step(String id) throws Exception {
		long start = System.nanoTime();
		HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/v1/sessions/" + id + "/steps"))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(STEP)));
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		return (System.nanoTime() - start) / 1_000_000;
	}

	private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
		return this.http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
	}

	private static long percentile(long[] millis, int percentile) {
		long[] sorted = millis.clone();
		Arrays.sort(sorted);
		return sorted[(int) Math.ceil(percentile / 100.0 * sorted.length) - 1];
	}

	private static void report(String what, long[] millis) {
		System.out.printf("%s with %d stalled uploads open: p50 %d ms, p99 %d ms, max %d ms%n", what,
				STALLED_SMALL + STALLED_LARGE, percentile(millis, 50), percentile(millis, 99),
				Arrays.stream(millis).max().orElse(0));
	}

	private static String head(String id, long contentLength) {
		return "POST /v1/sessions/" + id + "/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
				+ "Content-Length: " + contentLength + "\r\n\r\n";
	}

	private URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

}
