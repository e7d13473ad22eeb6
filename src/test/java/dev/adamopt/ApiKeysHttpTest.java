package dev.adamopt;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.adamopt.web.RawHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * API keys over real HTTP, with Spring Security's and the service's own debug logging on: a request without a valid
 * key is a 401 problem whether its body was read ahead, streamed or absent; requests with a key pass on every path
 * (the read-ahead body reaches the security chain on its async dispatch); another key's session answers every
 * operation as an absent one; the OpenAPI document, Swagger UI, health and the visualization's pages stay open, the
 * metrics do not; a CORS preflight is never 401; and no key ever reaches the log.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "adam.security.api-keys=alice:" + ApiKeysHttpTest.ALICE_SHA256 + ",bob:" + ApiKeysHttpTest.BOB_SHA256,
				"logging.level.org.springframework.security=DEBUG", "logging.level.dev.adamopt=DEBUG",
				"adam.limits.max-request-size=4MB" })
@ExtendWith(OutputCaptureExtension.class)
class ApiKeysHttpTest {

	static final String ALICE = "alice-http-key-7f3a";

	/** {@code printf %s alice-http-key-7f3a | sha256sum} */
	static final String ALICE_SHA256 = "042b3751dcd1a644f1985dc942d6c1ebb6b8088e1a0ed3e4865a4bac61be9076";

	static final String BOB = "bob-http-key-91c2";

	static final String BOB_SHA256 = "ce90a19b714a18176c4fbd4b77c65f0797714d97ec4c8a8b71a5fc83ee01e494";

	private static final String UNKNOWN = "mallory-http-key-0000";

	private static final String HELD = "{\"parameters\":{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"b1\":[[0.0],[0.0]]}}";

	private static final String GRADIENTS = "{\"gradients\":{\"dW1\":[[0.01,-0.03],[0.02,0.0]],\"db1\":[[0.1],[-0.1]]}}";

	private static final String ABSENT = "00000000-0000-4000-8000-000000000000";

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

	private final JsonMapper json = JsonMapper.builder().build();

	@LocalServerPort
	int port;

	@Test
	void withoutAValidKeyEveryKindOfRequestShouldBeA401ProblemAndDoNothing() throws Exception {
		List<String> alices = list(ALICE);
		List<String> bobs = list(BOB);
		List<HttpRequest.Builder> requests = List.of(request("GET", "/v1/sessions", null),
				// a small body is read ahead before a worker thread takes the request
				request("POST", "/v1/sessions", HELD),
				// a body of unknown length is streamed
				request("POST", "/v1/sessions", null).header("Content-Type", "application/json")
					.POST(HttpRequest.BodyPublishers
						.ofInputStream(() -> new ByteArrayInputStream(HELD.getBytes(StandardCharsets.UTF_8)))),
				request("DELETE", "/v1/sessions/" + ABSENT, null), request("GET", "/actuator/prometheus", null));
		for (HttpRequest.Builder builder : requests) {
			for (String key : new String[] { null, UNKNOWN }) {
				if (key != null) {
					builder.setHeader("Authorization", "Bearer " + key);
				}
				HttpRequest sent = builder.build();
				HttpResponse<String> response = this.http.send(sent, HttpResponse.BodyHandlers.ofString());
				assertThat(response.statusCode()).as("%s with key %s", sent, key).isEqualTo(401);
				assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
						type -> assertThat(type).startsWith("application/problem+json"));
				assertThat(response.headers().firstValue("WWW-Authenticate"))
					.hasValue((key == null) ? "Bearer" : "Bearer error=\"invalid_token\"");
				JsonNode problem = this.json.readTree(response.body());
				assertThat(problem.get("type").asString()).isEqualTo("/problems/unauthorized");
				assertThat(problem.get("instance").asString()).isEqualTo(sent.uri().getPath());
			}
		}
		assertThat(list(ALICE)).as("nothing was created").isEqualTo(alices);
		assertThat(list(BOB)).isEqualTo(bobs);
	}

	@Test
	void aKeyShouldPassWhetherItsBodyIsReadAheadStreamedOrLarge() throws Exception {
		String small = id(send(ALICE, request("POST", "/v1/sessions", HELD), 201));
		String chunked = id(send(ALICE, request("POST", "/v1/sessions", null).header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers
				.ofInputStream(() -> new ByteArrayInputStream(HELD.getBytes(StandardCharsets.UTF_8)))), 201));
		// beyond adam.http.buffered-body-size (1 MB): streamed on the worker thread
		StringBuilder large = new StringBuilder("{\"parameters\":{\"w\":[");
		for (int i = 0; i < 150_000; i++) {
			large.append((i == 0) ? "" : ",").append("0.123456789");
		}
		large.append("]}}");
		assertThat(large.length()).isGreaterThan(1 << 20);
		String big = id(send(ALICE, request("POST", "/v1/sessions", large.toString()), 201));
		assertThat(list(ALICE)).contains(small, chunked, big);
		JsonNode step = this.json.readTree(send(ALICE, request("POST", "/v1/sessions/" + small + "/steps", GRADIENTS),
				200).body());
		assertThat(step.get("step").asInt()).isEqualTo(1);
	}

	@Test
	void anotherKeyShouldGetTheAnswerOfAnAbsentSessionOnEveryOperation() throws Exception {
		String id = id(send(ALICE, request("POST", "/v1/sessions", HELD), 201));
		send(ALICE, request("POST", "/v1/sessions/" + id + "/steps", GRADIENTS), 200);
		String state = send(ALICE, request("GET", "/v1/sessions/" + id + "/state", null), 200).body();
		String[][] operations = { { "GET", "" }, { "PATCH", "", "{\"optimizer\":{\"learningRate\":1e6}}" },
				{ "POST", "/steps", GRADIENTS }, { "GET", "/state" }, { "GET", "/parameters" },
				{ "PUT", "/parameters", "{\"W1\":[[-999,-999],[-999,-999]],\"b1\":[[-999],[-999]]}" },
				{ "GET", "/history" }, { "DELETE", "" } };
		for (String[] operation : operations) {
			String body = (operation.length > 2) ? operation[2] : null;
			HttpResponse<String> others = send(BOB,
					request(operation[0], "/v1/sessions/" + id + operation[1], body), 404);
			HttpResponse<String> absent = send(BOB,
					request(operation[0], "/v1/sessions/" + ABSENT + operation[1], body), 404);
			assertThat(others.body()).as("%s %s", operation[0], operation[1])
				.isEqualTo(absent.body().replace(ABSENT, id));
			assertThat(others.headers().map().keySet()).as("%s %s: the same headers", operation[0], operation[1])
				.isEqualTo(absent.headers().map().keySet());
		}
		assertThat(send(ALICE, request("GET", "/v1/sessions/" + id + "/state", null), 200).body()).isEqualTo(state);
		assertThat(list(BOB)).doesNotContain(id);
		assertThat(list(ALICE)).contains(id);
	}

	@Test
	void theDocumentSwaggerUiAndHealthShouldStayOpenAndTheDocumentShouldAskForTheBearerKey() throws Exception {
		HttpResponse<String> docs = send(null, request("GET", "/v3/api-docs", null), 200);
		JsonNode document = this.json.readTree(docs.body());
		JsonNode scheme = document.at("/components/securitySchemes/bearer");
		assertThat(scheme.get("type").asString()).isEqualTo("http");
		assertThat(scheme.get("scheme").asString()).isEqualTo("bearer");
		int operations = 0;
		for (String path : document.get("paths").propertyNames()) {
			for (String method : document.get("paths").get(path).propertyNames()) {
				JsonNode operation = document.get("paths").get(path).get(method);
				assertThat(operation.at("/security/0/bearer").isArray()).as("%s %s needs the key", method, path).isTrue();
				assertThat(operation.at("/responses/401/content/application~1problem+json/schema/$ref").asString())
					.isEqualTo("#/components/schemas/Problem");
				assertThat(operation.at("/responses/429/content/application~1problem+json/schema/$ref").asString())
					.isEqualTo("#/components/schemas/Problem");
				operations++;
			}
		}
		assertThat(operations).isEqualTo(10);
		assertThat(send(null, request("GET", "/swagger-ui/index.html", null), 200).body()).contains("Swagger UI");
		assertThat(send(null, request("GET", "/v3/api-docs/swagger-config", null), 200).body()).contains("/v3/api-docs");
		assertThat(send(null, request("GET", "/actuator/health", null), 200).body()).contains("\"UP\"");
		// the metrics are not open: they take a key
		assertThat(send(ALICE, request("GET", "/actuator/prometheus", null), 200).body()).contains("adam_sessions");
	}

	@Test
	void theVisualizationsPagesShouldLoadWithoutAKeyWhileTheApiTheyCallNeedsOne() throws Exception {
		String index = send(null, request("GET", "/", null), 200).body();
		assertThat(index).contains("<title>Adam on a surface");
		assertThat(send(null, request("GET", "/index.html", null), 200).body()).isEqualTo(index);
		assertThat(send(null, request("GET", "/sessions.html", null), 200).body()).contains("<title>Sessions");
		for (String asset : new String[] { "/assets/surface.js", "/assets/sessions.js", "/assets/api.js",
				"/assets/pages.css", "/assets/favicon.svg" }) {
			HttpResponse<String> answer = send(null, request("GET", asset, null), 200);
			assertThat(answer.headers().firstValue("Content-Security-Policy")).as(asset).isPresent();
			assertThat(answer.body()).as(asset).isNotEmpty();
		}
		// only the pages: the API they call, other files and a path beside them need the key
		for (String path : new String[] { "/v1/sessions", "/no-such-page.html", "/index.html.bak", "/assetsx/a.js" }) {
			HttpResponse<String> refused = send(null, request("GET", path, null), 401);
			assertThat(this.json.readTree(refused.body()).get("type").asString()).as(path)
				.isEqualTo("/problems/unauthorized");
		}
		// with a key, a file that is not there is a 404 problem, as anywhere
		assertThat(send(ALICE, request("GET", "/assets/no-such-file.js", null), 404).body())
			.contains("/problems/resource-not-found");
	}

	@Test
	void aCorsPreflightShouldNeverBe401AndAnswersShouldCarryTheSecurityHeadersOnce() throws Exception {
		HttpResponse<String> preflight = this.http.send(request("OPTIONS", "/v1/sessions", null)
			.header("Origin", "http://localhost:5173")
			.header("Access-Control-Request-Method", "POST")
			.header("Access-Control-Request-Headers", "authorization, content-type")
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(preflight.statusCode()).isNotEqualTo(401);
		assertThat(preflight.headers().firstValue("WWW-Authenticate")).isEmpty();
		// a small body is read ahead before the request is served on a second dispatch: its answer has them too
		HttpResponse<String> created = send(ALICE, request("POST", "/v1/sessions", HELD), 201);
		assertSecurityHeaders(created);
		assertSecurityHeaders(send(ALICE, request("GET", "/v1/sessions", null), 200));
		assertSecurityHeaders(send(null, request("GET", "/v1/sessions", null), 401));
	}

	@Test
	void aRefusedUploadShouldStayAProblemOfItsOwnWithoutErrorsBehindIt(CapturedOutput output) throws Exception {
		// without a key: refused before its body is looked at
		RawHttp.Response unauthenticated = RawHttp.exchange(this.port, "POST /v1/sessions HTTP/1.1\r\n"
				+ "Host: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{");
		assertThat(unauthenticated.status()).isEqualTo(401);
		assertThat(unauthenticated.header("Connection")).isEqualTo("close");
		// with a key: the request body filter refuses it; Tomcat then includes the error page, which the security
		// chain lets through
		RawHttp.Response tooLarge = RawHttp.exchange(this.port, "POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\n"
				+ "Authorization: Bearer " + ALICE + "\r\nContent-Type: application/json\r\n"
				+ "Content-Length: 5000000\r\n\r\n{");
		assertThat(tooLarge.status()).isEqualTo(413);
		assertThat(this.json.readTree(tooLarge.body()).get("type").asString()).isEqualTo("/problems/payload-too-large");
		// a streamed body without a key is refused unread, and the connection closes after the answer
		HttpResponse<String> refused = this.http.send(request("POST", "/v1/sessions", null)
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers
				.ofInputStream(() -> new ByteArrayInputStream(HELD.getBytes(StandardCharsets.UTF_8))))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(refused.statusCode()).isEqualTo(401);
		assertThat(refused.headers().firstValue("Connection")).hasValue("close");
		send(ALICE, request("GET", "/v1/sessions", null), 200);
		assertThat(output.getAll()).doesNotContain(" ERROR ", "Exception Processing");
	}

	@Test
	void noKeyShouldEverReachTheLog(CapturedOutput output) throws Exception {
		String id = id(send(ALICE, request("POST", "/v1/sessions", HELD), 201));
		send(BOB, request("GET", "/v1/sessions/" + id, null), 404);
		send(UNKNOWN, request("GET", "/v1/sessions", null), 401);
		send("Basic " + ALICE, request("GET", "/v1/sessions", null), 401);
		send(ALICE, request("DELETE", "/v1/sessions/" + id, null), 204);
		assertThat(output.getAll()).as("the debug log of these requests").contains("/v1/sessions")
			.doesNotContain(ALICE, BOB, UNKNOWN);
	}

	// ---- helpers ----------------------------------------------------------------------------------------------------

	private HttpRequest.Builder request(String method, String path, String body) {
		HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path))
			.timeout(Duration.ofSeconds(60));
		if (body != null) {
			builder.header("Content-Type", "application/json");
			return builder.method(method, HttpRequest.BodyPublishers.ofString(body));
		}
		return builder.method(method, HttpRequest.BodyPublishers.noBody());
	}

	/** Sends with {@code key} ({@code null}: none; "Basic ..." as it is) and checks the status. */
	private HttpResponse<String> send(String key, HttpRequest.Builder builder, int status) throws Exception {
		if (key != null) {
			builder.setHeader("Authorization", key.startsWith("Basic ") ? key : "Bearer " + key);
		}
		HttpRequest request = builder.build();
		HttpResponse<String> response = this.http.send(request, HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as("%s: %s", request, response.body()).isEqualTo(status);
		return response;
	}

	private String id(HttpResponse<String> created) {
		return this.json.readTree(created.body()).get("id").asString();
	}

	private List<String> list(String key) throws Exception {
		List<String> ids = new ArrayList<>();
		JsonNode page = this.json.readTree(send(key, request("GET", "/v1/sessions?pageSize=1000", null), 200).body());
		page.get("sessions").forEach(session -> ids.add(session.get("id").asString()));
		return ids;
	}

	/** The same security headers as without keys, each once: Spring Security writes none of its own. */
	private static void assertSecurityHeaders(HttpResponse<String> response) {
		assertThat(response.headers().allValues("X-Content-Type-Options")).containsExactly("nosniff");
		assertThat(response.headers().allValues("X-Frame-Options")).containsExactly("DENY");
		assertThat(response.headers().allValues("Cache-Control")).containsExactly("no-store");
		assertThat(response.headers().map().keySet()).noneMatch(name -> name.equalsIgnoreCase("X-XSS-Protection")
				|| name.equalsIgnoreCase("Pragma") || name.equalsIgnoreCase("Expires"));
	}

}
