package dev.adamopt.web;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;

import dev.adamopt.tensor.SafetensorsBytes;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that closes its connection in the middle of an answer is not the service's failure: one DEBUG line, no
 * ERROR, no stack trace.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "logging.level.dev.adamopt.web=DEBUG")
@ExtendWith(OutputCaptureExtension.class)
class ClientDisconnectLoggingTest {

	private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	@LocalServerPort
	private int port;

	@ParameterizedTest
	@ValueSource(strings = { "application/json", "application/octet-stream" })
	void clientClosingDuringALargeAnswerShouldBeOneDebugLine(String accept, CapturedOutput output) throws Exception {
		// a session of 1M parameters that has stepped: its checkpoint is about 60 MB of JSON or 24 MB of
		// safetensors, far more than the socket buffers between server and client hold
		String id = JsonMapper.builder().build().readTree(send("POST", "/v1/sessions", "application/json",
				"{}".getBytes())).get("id").asString();
		Random random = new Random(7);
		double[] values = random.doubles(1_000_000).toArray();
		send("PUT", "/v1/sessions/" + id + "/parameters", "application/octet-stream",
				SafetensorsBytes.builder().f64("W", new int[] { 1000, 1000 }, values).build());
		Arrays.setAll(values, i -> random.nextGaussian());
		send("POST", "/v1/sessions/" + id + "/steps", "application/octet-stream",
				SafetensorsBytes.builder().f64("W.grad", new int[] { 1000, 1000 }, values).build());

		int before = output.getOut().length();
		try (RawHttp http = RawHttp.connect(this.port, Duration.ofSeconds(30))) {
			http.send("GET /v1/sessions/" + id + "/state HTTP/1.1\r\nHost: x\r\nAccept: " + accept
					+ "\r\nConnection: close\r\n\r\n");
			assertThat(http.readSome(1024)).startsWith("HTTP/1.1 200");
			http.abort();
		}
		long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
		while (!output.getOut().substring(before).contains("went away") && System.nanoTime() < deadline) {
			Thread.sleep(50);
		}
		Thread.sleep(500); // anything logged after the line would show now
		String logged = output.getOut().substring(before);
		assertThat(logged.lines().filter(line -> line.contains("went away")))
			.singleElement()
			.asString()
			.contains("DEBUG")
			.contains("/v1/sessions/" + id + "/state");
		assertThat(logged).doesNotContain(" ERROR ", " WARN ", "\tat ");
	}

	private byte[] send(String method, String path, String contentType, byte[] body) throws Exception {
		var response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path))
			.header("Content-Type", contentType)
			.method(method, BodyPublishers.ofByteArray(body))
			.build(), BodyHandlers.ofByteArray());
		assertThat(response.statusCode()).as(new String(response.body())).isBetween(200, 299);
		return response.body();
	}

}
