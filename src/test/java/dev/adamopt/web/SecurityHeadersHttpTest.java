package dev.adamopt.web;

import java.io.IOException;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Over a real socket, {@code X-Content-Type-Options: nosniff} on every answer, whoever writes it (Spring MVC, the
 * request body filter, {@code /error}, Tomcat's error report for what it refuses before any filter, the actuator,
 * the OpenAPI document, Swagger UI), and {@code Cache-Control: no-store} on every answer of the API, successes and
 * problems alike (what Tomcat refuses before any filter included); ETags and conditional requests work as before.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class SecurityHeadersHttpTest {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final String HELD = "{\"optimizer\":{\"learningRate\":0.01},\"parameters\":{\"W1\":[[0.5,-0.2]],"
			+ "\"b1\":0.25}}";

	private static final String GRADIENTS = "{\"gradients\":{\"dW1\":[[0.1,0.2]],\"db1\":-0.5}}";

	@LocalServerPort
	private int port;

	@Test
	void everyAnswerOfASessionsLifeShouldBeNosniffAndNoStore() throws IOException {
		RawHttp.Response created = post("/v1/sessions", HELD, "");
		assertThat(created.status()).isEqualTo(201);
		assertApiHeaders(created);
		String session = created.header("Location");
		String etag = created.header("ETag");

		RawHttp.Response step = post(session + "/steps", GRADIENTS, "If-Match: " + etag + "\r\n");
		assertThat(step.status()).as(step.body()).isEqualTo(200);
		assertThat(step.body()).contains("\"parameters\"");
		assertApiHeaders(step);
		assertThat(step.header("ETag")).isNotEqualTo(etag);

		for (String path : List.of(session, session + "/state", session + "/parameters", session + "/history",
				"/v1/sessions")) {
			RawHttp.Response read = get(path, "");
			assertThat(read.status()).as(path).isEqualTo(200);
			assertApiHeaders(read);
		}
		RawHttp.Response binary = get(session + "/parameters", "Accept: application/octet-stream\r\n");
		assertThat(binary.status()).isEqualTo(200);
		assertThat(binary.header("Content-Type")).isEqualTo("application/octet-stream");
		assertApiHeaders(binary);
		RawHttp.Response binaryState = get(session + "/state", "Accept: application/octet-stream\r\n");
		assertThat(binaryState.status()).isEqualTo(200);
		assertApiHeaders(binaryState);

		String patchBody = "{\"optimizer\":{\"learningRate\":0.005}}";
		RawHttp.Response patched = request("PATCH " + session + " HTTP/1.1\r\nHost: x\r\nContent-Type: "
				+ "application/json\r\nContent-Length: " + patchBody.length() + "\r\n\r\n" + patchBody);
		assertThat(patched.status()).isEqualTo(200);
		assertApiHeaders(patched);

		String parameters = "{\"W1\":[[1.0,2.0]],\"b1\":0.0}";
		RawHttp.Response put = request("PUT " + session + "/parameters HTTP/1.1\r\nHost: x\r\nContent-Type: "
				+ "application/json\r\nContent-Length: " + parameters.length() + "\r\n\r\n" + parameters);
		assertThat(put.status()).isEqualTo(204);
		assertApiHeaders(put);

		RawHttp.Response deleted = request("DELETE " + session + " HTTP/1.1\r\nHost: x\r\n\r\n");
		assertThat(deleted.status()).isEqualTo(204);
		assertApiHeaders(deleted);
	}

	@Test
	void conditionalRequestsShouldWorkAsBeforeAndTheirAnswersBeNoStoreToo() throws IOException {
		RawHttp.Response created = post("/v1/sessions", HELD, "");
		String session = created.header("Location");
		String etag = created.header("ETag");

		RawHttp.Response notModified = get(session, "If-None-Match: " + etag + "\r\n");
		assertThat(notModified.status()).isEqualTo(304);
		assertThat(notModified.header("ETag")).isEqualTo(etag);
		assertApiHeaders(notModified);

		assertThat(post(session + "/steps", GRADIENTS, "If-Match: " + etag + "\r\n").status()).isEqualTo(200);
		RawHttp.Response stale = post(session + "/steps", GRADIENTS, "If-Match: " + etag + "\r\n");
		EveryErrorIsAProblemHttpTest.assertProblem(stale, 412, "precondition-failed", "Precondition failed");
		assertApiHeaders(stale);
		assertThat(JSON.readTree(get(session, "").body()).get("step").asLong()).isEqualTo(1);
	}

	@Test
	void problemsOfTheApiShouldBeNosniffAndNoStore() throws IOException {
		RawHttp.Response missing = get("/v1/sessions/nope", "");
		EveryErrorIsAProblemHttpTest.assertProblem(missing, 404, "session-not-found", "Session not found");
		assertApiHeaders(missing);

		RawHttp.Response malformed = post("/v1/sessions", "{\"optimizer\":", "");
		EveryErrorIsAProblemHttpTest.assertProblem(malformed, 400, "malformed-request", "Malformed request body");
		assertApiHeaders(malformed);

		RawHttp.Response notAcceptable = get("/v1/sessions/nope", "Accept: text/html\r\n");
		assertThat(notAcceptable.status()).isEqualTo(406);
		assertApiHeaders(notAcceptable);

		RawHttp.Response trace = request("TRACE /v1/sessions HTTP/1.1\r\nHost: x\r\n\r\n");
		EveryErrorIsAProblemHttpTest.assertProblem(trace, 405, "method-not-allowed", "Method not allowed");
		assertApiHeaders(trace);
	}

	@Test
	void refusalOfTheRequestBodyFilterShouldBeNosniffAndNoStore() throws IOException {
		RawHttp.Response tooLarge = request("POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
				+ "\r\nContent-Length: 5000000000\r\n\r\n{");
		EveryErrorIsAProblemHttpTest.assertProblem(tooLarge, 413, "payload-too-large", "Request body too large");
		assertApiHeaders(tooLarge);
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "/v1/sessions/%zz", "/v1/sessions/a%2Fb", "/v1/../../etc/passwd" })
	void whatTomcatRefusesBeforeAnyFilterShouldBeNosniffAndNoStore(String target) throws IOException {
		RawHttp.Response refused = request("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
		EveryErrorIsAProblemHttpTest.assertProblem(refused, 400, "invalid-url", "Invalid URL");
		assertApiHeaders(refused);
	}

	@Test
	void headersTooLargeShouldBeNosniffAndNoStore() throws IOException {
		RawHttp.Response refused = request("GET /v1/sessions HTTP/1.1\r\nHost: x\r\nX-Padding: " + "p".repeat(20_000)
				+ "\r\n\r\n");
		EveryErrorIsAProblemHttpTest.assertProblem(refused, 431, "headers-too-large", "Request headers too large");
		assertApiHeaders(refused);
	}

	/**
	 * Only nosniff is asserted here: that the filter marks no answer outside the API no-store is
	 * {@code BrowserConfigurationTest}'s (Spring Security's own Cache-Control writer is off).
	 */
	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "/actuator/health", "/actuator/prometheus", "/v3/api-docs", "/swagger-ui/index.html",
			"/swagger-ui.html", "/error", "/no-such-page" })
	void answersOutsideTheApiShouldBeNosniff(String path) throws IOException {
		RawHttp.Response response = get(path, "");
		assertThat(response.status()).as(path).isIn(200, 302, 404);
		assertThat(response.headers().get("x-content-type-options")).as(path).containsExactly("nosniff");
		assertThat(response.headers().get("x-frame-options")).as(path).containsExactly("DENY");
	}

	/** The API's headers: exactly one nosniff, one DENY and one no-store. */
	private static void assertApiHeaders(RawHttp.Response response) {
		assertThat(response.headers().get("x-content-type-options")).as("X-Content-Type-Options")
			.containsExactly("nosniff");
		assertThat(response.headers().get("x-frame-options")).as("X-Frame-Options").containsExactly("DENY");
		assertThat(response.headers().get("cache-control")).as("Cache-Control").containsExactly("no-store");
	}

	private RawHttp.Response get(String path, String headers) throws IOException {
		return request("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n");
	}

	private RawHttp.Response post(String path, String body, String headers) throws IOException {
		return request("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + headers
				+ "Content-Length: " + body.length() + "\r\n\r\n" + body);
	}

	private RawHttp.Response request(String request) throws IOException {
		return RawHttp.exchange(this.port, request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
	}

}
