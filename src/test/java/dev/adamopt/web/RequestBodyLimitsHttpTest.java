package dev.adamopt.web;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static dev.adamopt.web.EveryErrorIsAProblemHttpTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The body deadline ({@code adam.limits.request-body-timeout}, 2 s here), the size limit
 * ({@code adam.limits.max-request-size}, 1 MB here) and the bound on streamed bodies, over a real socket, on both
 * paths: bodies read ahead without a worker thread (up to 16 KB here) and bodies streamed on one (larger or chunked).
 * Whatever is refused changes nothing; in particular a step whose body arrived too late is never applied.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "adam.limits.request-body-timeout=2s", "adam.limits.max-request-size=1MB",
				"adam.http.buffered-body-size=16KB", "adam.http.buffered-bodies-memory=32KB",
				"adam.http.max-streamed-bodies=2" })
class RequestBodyLimitsHttpTest {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final String STEP = "{\"gradients\":{\"dW1\":[[0.1,0.2]]}}";

	private static final int LIMIT = 1024 * 1024;

	/** Deadline, plus Tomcat's second between timeout checks, plus a noisy machine. */
	private static final Duration DEADLINE_ANSWER = Duration.ofSeconds(2 + 1 + 4);

	/** A streamed body that stalls completely is ended by Tomcat's upload timeout, 5 s after the deadline. */
	private static final Duration STALLED_STREAM_ANSWER = Duration.ofSeconds(2 + 5 + 1 + 4);

	@LocalServerPort
	private int port;

	// Bodies read ahead (Content-Length up to 16 KB): no worker thread waits for them

	@Test
	void stalledBodyReadAheadShouldAnswer408AtTheDeadlineAndChangeNothing() throws Exception {
		String id = session();
		try (RawHttp http = connect()) {
			long start = System.nanoTime();
			http.send(head(id, STEP.length()) + STEP.substring(0, 10));
			assertRequestTimeout(http.read(), start, DEADLINE_ANSWER);
			assertThat(http.closedByServer(Duration.ofSeconds(5))).isTrue();
		}
		assertSteps(id, 0);
	}

	@Test
	void bodyReadAheadThatArrivesAfterTheDeadlineShouldNotBeApplied() throws Exception {
		String id = session();
		try (RawHttp http = connect()) {
			long start = System.nanoTime();
			http.send(head(id, STEP.length()) + STEP.substring(0, 10));
			Thread.sleep(3_000);
			sendQuietly(http, STEP.substring(10));
			assertRequestTimeout(http.read(), start, DEADLINE_ANSWER.plusSeconds(1));
		}
		assertSteps(id, 0);
	}

	@Test
	void bodyReadAheadThatArrivesSlowlyButInTimeShouldBeApplied() throws Exception {
		String id = session();
		try (RawHttp http = connect()) {
			http.send(head(id, STEP.length()));
			for (char c : STEP.toCharArray()) {
				http.send(String.valueOf(c));
				Thread.sleep(10);
			}
			RawHttp.Response response = http.read();
			assertThat(response.status()).as(response.body()).isEqualTo(200);
		}
		assertSteps(id, 1);
	}

	// Streamed bodies (Content-Length above 16 KB, or chunked): on a worker thread, every read checked

	@Test
	void stalledStreamedBodyShouldAnswer408AndChangeNothing() throws Exception {
		String id = session();
		String body = padded(100_000);
		try (RawHttp http = connect()) {
			long start = System.nanoTime();
			http.send(head(id, body.length()) + body.substring(0, 1_000));
			assertRequestTimeout(http.read(), start, STALLED_STREAM_ANSWER);
		}
		assertSteps(id, 0);
	}

	@Test
	void streamedBodyThatArrivesAfterTheDeadlineShouldNotBeApplied() throws Exception {
		String id = session();
		try (RawHttp http = connect()) {
			long start = System.nanoTime();
			http.send(chunkedHead(id)).chunk(STEP.substring(0, 10));
			Thread.sleep(3_000);
			sendQuietly(http, chunk(STEP.substring(10)) + "0\r\n\r\n");
			assertRequestTimeout(http.read(), start, DEADLINE_ANSWER.plusSeconds(1));
		}
		assertSteps(id, 0);
	}

	@Test
	void chunkedBodyInTimeShouldBeApplied() throws Exception {
		String id = session();
		try (RawHttp http = connect()) {
			http.send(chunkedHead(id)).chunk(STEP.substring(0, 10)).chunk(STEP.substring(10)).chunk("");
			RawHttp.Response response = http.read();
			assertThat(response.status()).as(response.body()).isEqualTo(200);
		}
		assertSteps(id, 1);
	}

	// The size limit

	@Test
	void bodyLongerThanTheLimitByContentLengthShouldAnswer413BeforeAnyOfItIsSent() throws Exception {
		String id = session();
		try (RawHttp http = connect()) {
			long start = System.nanoTime();
			http.send(head(id, 2 * LIMIT));
			RawHttp.Response response = http.read();
			assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
			JsonNode problem = assertProblem(response, 413, "payload-too-large", "Request body too large");
			assertThat(problem.get("detail").asString()).contains(Integer.toString(2 * LIMIT))
				.contains(Integer.toString(LIMIT))
				.contains("adam.limits.max-request-size");
			assertThat(response.header("Connection")).isEqualTo("close");
			assertThat(http.closedByServer(Duration.ofSeconds(5))).isTrue();
		}
		assertSteps(id, 0);
	}

	@Test
	void createWithContentLengthBeyondTheLimitShouldAnswer413AndCreateNothing() throws Exception {
		int before = sessions();
		RawHttp.Response response = RawHttp.exchange(this.port, "POST /v1/sessions HTTP/1.1\r\nHost: x\r\n"
				+ "Content-Type: application/octet-stream\r\nContent-Length: 5000000000\r\n\r\n");
		assertProblem(response, 413, "payload-too-large", "Request body too large");
		assertThat(sessions()).isEqualTo(before);
	}

	@Test
	void chunkedBodyLongerThanTheLimitShouldAnswer413WhileItIsRead() throws Exception {
		String id = session();
		try (RawHttp http = connect()) {
			http.send(chunkedHead(id)).chunk("{\"gradients\":{\"dW1\":[");
			String numbers = "0.125,".repeat(10_000);
			int sent = 0;
			try {
				while (sent < 4 * LIMIT) {
					http.chunk(numbers);
					sent += numbers.length();
				}
			}
			catch (IOException closed) {
				// the server stopped reading once the body passed the limit
			}
			assertThat(sent).isGreaterThan(LIMIT - numbers.length());
			JsonNode problem = assertProblem(http.read(), 413, "payload-too-large", "Request body too large");
			assertThat(problem.get("detail").asString()).contains(Integer.toString(LIMIT));
		}
		assertSteps(id, 0);
	}

	// Capacity: streamed bodies and the memory for bodies read ahead

	@Test
	void streamedBodiesBeyondTheirLimitShouldAnswer503WithRetryAfterUntilOneEnds() throws Exception {
		String id = session();
		List<RawHttp> stalled = new ArrayList<>();
		try {
			for (int i = 0; i < 2; i++) {
				stalled.add(connect().send(chunkedHead(id)).chunk(STEP.substring(0, 10)));
			}
			Thread.sleep(500); // both are being read on a worker thread now
			try (RawHttp third = connect()) {
				third.send(chunkedHead(id)).chunk(STEP).chunk("");
				RawHttp.Response response = third.read();
				JsonNode problem = assertProblem(response, 503, "service-unavailable", "Service unavailable");
				assertThat(problem.get("detail").asString()).contains("adam.http.max-streamed-bodies");
				assertThat(response.header("Retry-After")).isEqualTo("1");
			}
			for (RawHttp http : stalled) {
				assertThat(http.read().status()).isEqualTo(408);
			}
		}
		finally {
			for (RawHttp http : stalled) {
				http.close();
			}
		}
		try (RawHttp next = connect()) {
			next.send(chunkedHead(id)).chunk(STEP).chunk("");
			assertThat(next.read().status()).isEqualTo(200);
		}
		assertSteps(id, 1);
	}

	@Test
	void bodiesReadAheadShareTheirMemoryAndGiveItBack() throws Exception {
		String id = session();
		String small = padded(16 * 1024);
		List<RawHttp> stalled = new ArrayList<>();
		try {
			// two stalled 16 KB bodies take the 32 KB for bodies read ahead, two stalled chunked ones both streams
			for (int i = 0; i < 2; i++) {
				stalled.add(connect().send(head(id, small.length()) + small.substring(0, 100)));
				stalled.add(connect().send(chunkedHead(id)).chunk(STEP.substring(0, 10)));
			}
			Thread.sleep(500);
			try (RawHttp third = connect()) {
				third.send(head(id, small.length()) + small);
				assertProblem(third.read(), 503, "service-unavailable", "Service unavailable");
			}
			for (RawHttp http : stalled) {
				assertThat(http.read().status()).isEqualTo(408);
			}
		}
		finally {
			for (RawHttp http : stalled) {
				http.close();
			}
		}
		// both streams busy again: a small body can only be read ahead, so its memory must have come back
		List<RawHttp> streams = new ArrayList<>();
		try {
			for (int i = 0; i < 2; i++) {
				streams.add(connect().send(chunkedHead(id)).chunk(STEP.substring(0, 10)));
			}
			Thread.sleep(500);
			try (RawHttp next = connect()) {
				next.send(head(id, small.length()) + small);
				RawHttp.Response response = next.read();
				assertThat(response.status()).as(response.body()).isEqualTo(200);
			}
		}
		finally {
			for (RawHttp http : streams) {
				http.close();
			}
		}
		assertSteps(id, 1);
	}

	private static void assertRequestTimeout(RawHttp.Response response, long start, Duration within) {
		Duration took = Duration.ofNanos(System.nanoTime() - start);
		JsonNode problem = assertProblem(response, 408, "request-timeout", "Request body too slow");
		assertThat(problem.get("detail").asString()).contains("2 s").contains("adam.limits.request-body-timeout");
		assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(1_900)).isLessThan(within);
	}

	/** The step's JSON followed by spaces (still one JSON object), {@code length} bytes in all. */
	private static String padded(int length) {
		return STEP + " ".repeat(length - STEP.length());
	}

	private static String head(String id, long contentLength) {
		return "POST /v1/sessions/" + id + "/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
				+ "Content-Length: " + contentLength + "\r\n\r\n";
	}

	private static String chunkedHead(String id) {
		return "POST /v1/sessions/" + id + "/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
				+ "Transfer-Encoding: chunked\r\n\r\n";
	}

	private static String chunk(String data) {
		return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
	}

	/** Sends the rest of a body the server may have stopped reading (it may have closed the connection). */
	private static void sendQuietly(RawHttp http, String data) {
		try {
			http.send(data);
		}
		catch (IOException closed) {
			// the answer is still there to read
		}
	}

	private RawHttp connect() throws IOException {
		return RawHttp.connect(this.port, Duration.ofSeconds(30));
	}

	private String session() throws IOException {
		String body = "{\"parameters\":{\"W1\":[[0.5,-0.2]]}}";
		RawHttp.Response created = RawHttp.exchange(this.port, "POST /v1/sessions HTTP/1.1\r\nHost: x\r\n"
				+ "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n"
				+ body);
		assertThat(created.status()).as(created.body()).isEqualTo(201);
		return JSON.readTree(created.body()).get("id").asString();
	}

	private void assertSteps(String id, long steps) throws IOException {
		RawHttp.Response session = RawHttp.exchange(this.port, "GET /v1/sessions/" + id + " HTTP/1.1\r\nHost: x\r\n"
				+ "Connection: close\r\n\r\n");
		assertThat(JSON.readTree(session.body()).get("step").asLong()).isEqualTo(steps);
	}

	private int sessions() throws IOException {
		RawHttp.Response list = RawHttp.exchange(this.port, "GET /v1/sessions HTTP/1.1\r\nHost: x\r\n"
				+ "Connection: close\r\n\r\n");
		return JSON.readTree(list.body()).get("sessions").size();
	}

}
