package dev.adamopt.process;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.adamopt.tensor.SafetensorsBytes;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reproductions of issue 6 in a JVM of the service's own with a small heap: large sessions, a huge JSON body,
 * checkpoints of a session that fills much of the heap, and steps that run out of memory.
 */
class SmallHeapProcessTest {

	private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final String OCTET = "application/octet-stream";

	/** As the Dockerfile runs it: an OutOfMemoryError would end the process, so the tests see any. */
	private static final String EXIT_ON_OOM = "-XX:+ExitOnOutOfMemoryError";

	@Test
	void sessionsBeyondTheDefaultBudgetShouldBeRefusedWith507WhileTheOthersKeepStepping() throws Exception {
		try (ServiceProcess service = ServiceProcess.start("budget", List.of("-Xmx256m", EXIT_ON_OOM), Map.of())) {
			int size = 2_000_000;
			List<String> ids = new ArrayList<>();
			HttpResponse<String> refused = null;
			for (int i = 0; i < 6 && refused == null; i++) {
				String id = createEmpty(service);
				HttpResponse<String> put = send(service, "PUT", "/v1/sessions/" + id + "/parameters", OCTET,
						parameters("w", size, i + 1));
				if (put.statusCode() == 204) {
					ids.add(id);
				}
				else {
					refused = put;
				}
			}
			// half of a 256 MB heap holds two sessions of 48 MB of state, not three
			assertThat(ids).hasSize(2);
			assertThat(refused.statusCode()).isEqualTo(507);
			assertThat(refused.body()).contains("/problems/insufficient-storage", "needs");
			for (String id : ids) {
				HttpResponse<byte[]> step = sendBytes(service, "POST", "/v1/sessions/" + id + "/steps",
						SafetensorsBytes.builder().f64("w.grad", new int[] { size }, ramp(size, 0.01)).build());
				assertThat(step.statusCode()).isEqualTo(200);
			}
			assertThat(service.isAlive()).isTrue();
			assertThat(service.log()).doesNotContain("OutOfMemoryError");
		}
	}

	@Test
	void aHugeJsonBodyShouldBeRefusedWith507AsItIsDecoded() throws Exception {
		try (ServiceProcess service = ServiceProcess.start("huge-json", List.of("-Xmx256m", EXIT_ON_OOM), Map.of())) {
			String id = createEmpty(service);
			// 20 million numbers, about 400 MB of JSON: 160 MB of doubles, beyond the 128 MB budget
			HttpResponse<String> response = HTTP.send(HttpRequest
				.newBuilder(service.uri("/v1/sessions/" + id + "/steps"))
				.header("Content-Type", "application/json")
				.POST(BodyPublishers.ofInputStream(() -> new NumbersBody(20_000_000)))
				.timeout(Duration.ofMinutes(3))
				.build(), BodyHandlers.ofString());
			assertThat(response.statusCode()).isEqualTo(507);
			assertThat(response.body()).contains("/problems/insufficient-storage", "decoding the request's tensors");
			assertThat(service.isAlive()).isTrue();
			HttpResponse<String> session = send(service, "GET", "/v1/sessions/" + id, null, null);
			assertThat(session.statusCode()).isEqualTo(200);
			assertThat(JSON.readTree(session.body()).get("step").asLong()).isZero();
		}
	}

	@Test
	void aCheckpointShouldNeedNoMoreThanOneCopyOfTheState() throws Exception {
		// 90 MB of state (3.75M float64 parameters held, two moments) in a 300 MB heap: one copy fits, three do not
		try (ServiceProcess service = ServiceProcess.start("checkpoint",
				List.of("-Xmx300m", EXIT_ON_OOM), Map.of("adam.limits.memory", "200MB"))) {
			int size = 3_750_000;
			String id = createEmpty(service);
			assertThat(send(service, "PUT", "/v1/sessions/" + id + "/parameters", OCTET, parameters("w", size, 1))
				.statusCode()).isEqualTo(204);
			assertThat(sendBytes(service, "POST", "/v1/sessions/" + id + "/steps",
					SafetensorsBytes.builder().f64("w.grad", new int[] { size }, ramp(size, 0.01)).build())
				.statusCode()).isEqualTo(200);
			for (int round = 0; round < 2; round++) {
				HttpResponse<InputStream> binary = HTTP.send(HttpRequest.newBuilder(service.uri("/v1/sessions/" + id
						+ "/state")).header("Accept", OCTET).build(), BodyHandlers.ofInputStream());
				assertThat(binary.statusCode()).isEqualTo(200);
				assertThat(drain(binary.body())).isEqualTo(binary.headers().firstValueAsLong("Content-Length")
					.orElseThrow());
				HttpResponse<InputStream> json = HTTP.send(HttpRequest.newBuilder(service.uri("/v1/sessions/" + id
						+ "/state")).build(), BodyHandlers.ofInputStream());
				assertThat(json.statusCode()).isEqualTo(200);
				assertThat(drain(json.body())).isGreaterThan(3L * size * 10);
			}
			assertThat(service.isAlive()).isTrue();
			assertThat(service.log()).doesNotContain("OutOfMemoryError");
		}
	}

	@Test
	void listingTenThousandSessionsShouldAnswerAPageAtATime() throws Exception {
		int sessions = 10_000;
		try (ServiceProcess service = ServiceProcess.start("many-sessions", List.of("-Xmx96m", EXIT_ON_OOM),
				Map.of("adam.limits.max-sessions", Integer.toString(sessions)))) {
			java.util.Set<String> created = new java.util.HashSet<>();
			for (int i = 0; i < sessions; i++) {
				created.add(createEmpty(service));
			}
			HttpResponse<String> beyond = send(service, "POST", "/v1/sessions", "application/json",
					"{}".getBytes(StandardCharsets.UTF_8));
			assertThat(beyond.statusCode()).isEqualTo(507);
			assertThat(beyond.body()).contains("/problems/too-many-sessions");

			var first = JSON.readTree(send(service, "GET", "/v1/sessions", null, null).body());
			assertThat(first.get("sessions").size()).isEqualTo(100);
			java.util.Set<String> listed = new java.util.HashSet<>();
			String token = null;
			int pages = 0;
			do {
				var page = JSON.readTree(send(service, "GET", "/v1/sessions?pageSize=1000"
						+ ((token != null) ? "&pageToken=" + token : ""), null, null).body());
				page.get("sessions").forEach(session -> listed.add(session.get("id").asString()));
				token = page.has("nextPageToken") ? page.get("nextPageToken").asString() : null;
				pages++;
			}
			while (token != null);
			assertThat(pages).isEqualTo(sessions / 1000);
			assertThat(listed).isEqualTo(created);
			assertThat(service.isAlive()).isTrue();
		}
	}

	/**
	 * With the budget switched off (set far above the heap), steps really run out of memory. Each one that does must
	 * leave every tensor as it was, and the retry must give what a step from that state gives.
	 */
	@Test
	void aStepThatRunsOutOfMemoryShouldChangeNoTensor() throws Exception {
		try (ServiceProcess service = ServiceProcess.start("out-of-memory", List.of("-Xmx160m"),
				Map.of("adam.limits.memory", "100GB"))) {
			// 125 tensors of 25,000 elements: 25 MB a copy, 75 MB of state
			int count = 125;
			int size = 25_000;
			String id = createEmpty(service);
			assertThat(send(service, "PUT", "/v1/sessions/" + id + "/parameters", OCTET, manyTensors(count, size, ""))
				.statusCode()).isEqualTo(204);
			byte[] gradients = manyTensors(count, size, ".grad");
			HttpResponse<byte[]> first = sendBytes(service, "POST", "/v1/sessions/" + id + "/steps", gradients);
			assertThat(first.statusCode()).isEqualTo(200);
			// fill the heap with held parameters of other sessions until it is nearly full
			List<String> ballast = new ArrayList<>();
			for (int i = 0; i < 40; i++) {
				String other = createEmpty(service);
				HttpResponse<String> put = send(service, "PUT", "/v1/sessions/" + other + "/parameters", OCTET,
						parameters("w", 500_000, 1));
				ballast.add(other);
				if (put.statusCode() != 204) {
					break;
				}
			}
			int failures = 0;
			for (int attempt = 0; attempt < 5; attempt++) {
				HttpResponse<byte[]> step = sendBytes(service, "POST", "/v1/sessions/" + id + "/steps", gradients);
				if (step.statusCode() == 200) {
					break;
				}
				failures++;
				assertThat(step.statusCode()).isEqualTo(500);
			}
			assertThat(failures).as("steps that ran out of memory").isPositive();
			for (String other : ballast) {
				send(service, "DELETE", "/v1/sessions/" + other, null, null);
			}
			// nothing moved: the session is still at step 1 with the parameters of the first answer
			assertThat(JSON.readTree(send(service, "GET", "/v1/sessions/" + id, null, null).body()).get("step").asLong())
				.isEqualTo(1);
			HttpResponse<byte[]> held = HTTP.send(HttpRequest.newBuilder(service.uri("/v1/sessions/" + id
					+ "/parameters")).header("Accept", OCTET).build(), BodyHandlers.ofByteArray());
			assertThat(tensorBytes(held.body())).isEqualTo(tensorBytes(first.body()));
			// and the retry gives what a replay from the start gives at its second step
			HttpResponse<byte[]> retry = sendBytes(service, "POST", "/v1/sessions/" + id + "/steps", gradients);
			assertThat(retry.statusCode()).isEqualTo(200);
			// the heap holds one such session at a time
			send(service, "DELETE", "/v1/sessions/" + id, null, null);
			String replay = createEmpty(service);
			assertThat(send(service, "PUT", "/v1/sessions/" + replay + "/parameters", OCTET,
					manyTensors(count, size, "")).statusCode()).isEqualTo(204);
			assertThat(sendBytes(service, "POST", "/v1/sessions/" + replay + "/steps", gradients).statusCode())
				.isEqualTo(200);
			HttpResponse<byte[]> second = sendBytes(service, "POST", "/v1/sessions/" + replay + "/steps", gradients);
			assertThat(tensorBytes(retry.body())).isEqualTo(tensorBytes(second.body()));
		}
	}

	private static Map<String, String> tensorBytes(byte[] safetensors) {
		Map<String, String> result = new java.util.TreeMap<>();
		SafetensorsBytes.parse(safetensors)
			.tensors()
			.forEach((name, entry) -> result.put(name, Arrays.toString(sha(entry.bytes()))));
		return result;
	}

	private static byte[] sha(byte[] bytes) {
		try {
			return java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
		}
		catch (java.security.NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static String createEmpty(ServiceProcess service) throws Exception {
		HttpResponse<String> created = send(service, "POST", "/v1/sessions", "application/json",
				"{}".getBytes(StandardCharsets.UTF_8));
		assertThat(created.statusCode()).isEqualTo(201);
		return JSON.readTree(created.body()).get("id").asString();
	}

	private static byte[] parameters(String name, int size, double scale) {
		return SafetensorsBytes.builder().f64(name, new int[] { size }, ramp(size, scale)).build();
	}

	private static byte[] manyTensors(int count, int size, String suffix) {
		SafetensorsBytes.Builder builder = SafetensorsBytes.builder();
		for (int i = 0; i < count; i++) {
			builder.f64("t" + i + suffix, new int[] { size }, ramp(size, 0.01 * (i + 1)));
		}
		return builder.build();
	}

	private static double[] ramp(int size, double scale) {
		double[] data = new double[size];
		for (int i = 0; i < size; i++) {
			data[i] = scale * Math.sin(i + 1);
		}
		return data;
	}

	private static long drain(InputStream in) throws IOException {
		long total = 0;
		byte[] buffer = new byte[1 << 16];
		for (int n; (n = in.read(buffer)) > 0;) {
			total += n;
		}
		in.close();
		return total;
	}

	private static HttpResponse<String> send(ServiceProcess service, String method, String path, String contentType,
			byte[] body) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(service.uri(path))
			.method(method, (body != null) ? BodyPublishers.ofByteArray(body) : BodyPublishers.noBody())
			.timeout(Duration.ofMinutes(2));
		if (contentType != null) {
			request.header("Content-Type", contentType);
		}
		return HTTP.send(request.build(), BodyHandlers.ofString());
	}

	private static HttpResponse<byte[]> sendBytes(ServiceProcess service, String method, String path, byte[] body)
			throws Exception {
		return HTTP.send(HttpRequest.newBuilder(service.uri(path))
			.method(method, BodyPublishers.ofByteArray(body))
			.header("Content-Type", OCTET)
			.header("Accept", OCTET)
			.timeout(Duration.ofMinutes(2))
			.build(), BodyHandlers.ofByteArray());
	}

	/** {@code {"gradients": {"dw": [n numbers]}}}, made as it is read. */
	private static final class NumbersBody extends InputStream {

		private static final byte[] NUMBER = "0.12345678901234567,".getBytes(StandardCharsets.US_ASCII);

		private final byte[] head = "{\"gradients\": {\"dw\": [".getBytes(StandardCharsets.US_ASCII);

		private final byte[] tail = "0]}}".getBytes(StandardCharsets.US_ASCII);

		private final long length;

		private long position;

		NumbersBody(long numbers) {
			this.length = this.head.length + numbers * NUMBER.length + this.tail.length;
		}

		@Override
		public int read() {
			if (this.position >= this.length) {
				return -1;
			}
			long p = this.position++;
			if (p < this.head.length) {
				return this.head[(int) p];
			}
			long inNumbers = p - this.head.length;
			long numbersLength = this.length - this.head.length - this.tail.length;
			if (inNumbers < numbersLength) {
				return NUMBER[(int) (inNumbers % NUMBER.length)];
			}
			return this.tail[(int) (inNumbers - numbersLength)];
		}

		@Override
		public int read(byte[] buffer, int offset, int count) {
			if (this.position >= this.length) {
				return -1;
			}
			int n = (int) Math.min(count, this.length - this.position);
			for (int i = 0; i < n; i++) {
				buffer[offset + i] = (byte) read();
			}
			return n;
		}

	}

}
