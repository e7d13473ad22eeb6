package dev.adamopt.web;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CORS over a real socket, with one allowed origin: preflights answered for the API's methods and headers, the
 * answer headers a page needs exposed, and everything else refused with a problem that carries no
 * {@code Access-Control-Allow-Origin} and changes nothing. The browser's side is {@code BrowserCorsTest}.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "adam.cors.allowed-origins=https://app.example.com,http://127.0.0.1:5173",
				"adam.limits.max-request-size=1MB", "adam.limits.request-body-timeout=2s" })
class CorsHttpTest {

	private static final String ALLOWED = "https://app.example.com";

	private static final String OTHER = "https://evil.example.net";

	private static final JsonMapper JSON = JsonMapper.builder().build();

	@LocalServerPort
	private int port;

	@ParameterizedTest(name = "{0} {1}")
	@CsvSource(textBlock = """
			POST,   /v1/sessions
			POST,   /v1/sessions/some-id/steps
			GET,    /v1/sessions/some-id/state
			PUT,    /v1/sessions/some-id/parameters
			PATCH,  /v1/sessions/some-id
			DELETE, /v1/sessions/some-id
			""")
	void preflightFromAnAllowedOriginShouldAllowTheApisMethodAndHeaders(String method, String path)
			throws IOException {
		RawHttp.Response response = preflight(path, ALLOWED, method,
				"content-type,authorization,idempotency-key,if-match");
		assertThat(response.status()).as(response.body()).isEqualTo(200);
		assertThat(response.header("Access-Control-Allow-Origin")).isEqualTo(ALLOWED);
		assertThat(list(response, "Access-Control-Allow-Methods")).containsExactly("GET", "HEAD", "POST", "PUT",
				"PATCH", "DELETE");
		assertThat(list(response, "Access-Control-Allow-Headers")).map(h -> h.toLowerCase(Locale.ROOT))
			.containsExactlyInAnyOrder("content-type", "authorization", "idempotency-key", "if-match");
		assertThat(response.header("Access-Control-Max-Age")).isEqualTo("1800");
		assertThat(response.header("Access-Control-Allow-Credentials")).isNull();
		assertThat(response.headers().get("vary")).contains("Origin");
		assertThat(response.body()).isEmpty();
	}

	@Test
	void preflightShouldBeAnsweredOnceWithOneOfEachHeader() throws IOException {
		RawHttp.Response response = preflight("/v1/sessions", ALLOWED, "POST", "content-type");
		for (String header : List.of("access-control-allow-origin", "access-control-allow-methods",
				"access-control-allow-headers", "access-control-max-age", "x-content-type-options")) {
			assertThat(response.headers().get(header)).as(header).hasSize(1);
		}
		assertThat(response.headers().get("vary")).doesNotHaveDuplicates();
	}

	@Test
	void createFromAnAllowedOriginShouldExposeLocationETagAndIdempotentReplayed() throws IOException {
		String body = "{\"parameters\":{\"w\":[1.0,2.0]}}";
		RawHttp.Response created = request("POST /v1/sessions HTTP/1.1\r\nHost: x\r\nOrigin: " + ALLOWED
				+ "\r\nIdempotency-Key: k-1\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
				+ "\r\n\r\n" + body);
		assertThat(created.status()).as(created.body()).isEqualTo(201);
		assertThat(created.header("Access-Control-Allow-Origin")).isEqualTo(ALLOWED);
		assertThat(list(created, "Access-Control-Expose-Headers")).containsExactlyInAnyOrder("Location", "ETag",
				"Idempotent-Replayed", "Retry-After", "WWW-Authenticate");
		assertThat(created.header("Location")).startsWith("/v1/sessions/");
		assertThat(created.header("ETag")).matches("\"\\d+\"");
	}

	@Test
	void problemFromAnAllowedOriginShouldCarryTheCorsHeadersSoThePageCanReadIt() throws IOException {
		RawHttp.Response missing = request("GET /v1/sessions/nope HTTP/1.1\r\nHost: x\r\nOrigin: " + ALLOWED
				+ "\r\n\r\n");
		EveryErrorIsAProblemHttpTest.assertProblem(missing, 404, "session-not-found", "Session not found");
		assertThat(missing.header("Access-Control-Allow-Origin")).isEqualTo(ALLOWED);
	}

	@Test
	void refusalOfTheRequestBodyFilterFromAnAllowedOriginShouldCarryTheCorsHeaders() throws IOException {
		RawHttp.Response tooLarge = request("POST /v1/sessions HTTP/1.1\r\nHost: x\r\nOrigin: " + ALLOWED
				+ "\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{");
		EveryErrorIsAProblemHttpTest.assertProblem(tooLarge, 413, "payload-too-large", "Request body too large");
		assertThat(tooLarge.header("Access-Control-Allow-Origin")).isEqualTo(ALLOWED);
		assertThat(list(tooLarge, "Access-Control-Expose-Headers")).contains("Retry-After");
	}

	@Test
	void stalledBodyFromAnAllowedOriginShouldGetItsTimeoutProblemWithTheCorsAndSecurityHeaders() throws IOException {
		try (RawHttp connection = RawHttp.connect(this.port, Duration.ofSeconds(60))) {
			// a small body is read ahead without a thread; the 408 comes from the async timeout, off the filter chain
			connection.send("POST /v1/sessions HTTP/1.1\r\nHost: x\r\nOrigin: " + ALLOWED
					+ "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"optimizer\":");
			RawHttp.Response timeout = connection.read();
			EveryErrorIsAProblemHttpTest.assertProblem(timeout, 408, "request-timeout", "Request body too slow");
			assertThat(timeout.header("Access-Control-Allow-Origin")).isEqualTo(ALLOWED);
			assertThat(timeout.headers().get("x-content-type-options")).containsExactly("nosniff");
			assertThat(timeout.headers().get("cache-control")).containsExactly("no-store");
		}
	}

	@Test
	void preflightFromAnotherOriginShouldBeRefusedWithAProblemAndNoAllowOrigin() throws IOException {
		RawHttp.Response response = preflight("/v1/sessions", OTHER, "POST", "content-type");
		JsonNode problem = EveryErrorIsAProblemHttpTest.assertProblem(response, 403, "cross-origin-not-allowed",
				"Cross-origin request not allowed");
		assertThat(problem.get("detail").asString()).contains("'" + OTHER + "'", "adam.cors.allowed-origins")
			.doesNotContain(ALLOWED);
		assertThat(problem.get("instance").asString()).isEqualTo("/v1/sessions");
		assertNoCorsAnswer(response);
	}

	@Test
	void requestFromAnotherOriginShouldBeRefusedUnreadAndChangeNothing() throws IOException {
		long before = sessionCount();
		String body = "{}";
		RawHttp.Response response = request("POST /v1/sessions HTTP/1.1\r\nHost: x\r\nOrigin: " + OTHER
				+ "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
		EveryErrorIsAProblemHttpTest.assertProblem(response, 403, "cross-origin-not-allowed",
				"Cross-origin request not allowed");
		assertNoCorsAnswer(response);
		assertThat(response.header("Connection")).isEqualTo("close");
		assertThat(sessionCount()).isEqualTo(before);
	}

	@Test
	void simpleGetFromAnotherOriginShouldBeRefused() throws IOException {
		RawHttp.Response response = request("GET /v1/sessions HTTP/1.1\r\nHost: x\r\nOrigin: " + OTHER + "\r\n\r\n");
		EveryErrorIsAProblemHttpTest.assertProblem(response, 403, "cross-origin-not-allowed",
				"Cross-origin request not allowed");
		assertNoCorsAnswer(response);
	}

	@Test
	void preflightForAHeaderTheApiDoesNotReadShouldBeRefusedNamingIt() throws IOException {
		RawHttp.Response response = preflight("/v1/sessions", ALLOWED, "POST", "content-type,x-debug");
		JsonNode problem = EveryErrorIsAProblemHttpTest.assertProblem(response, 403, "cross-origin-not-allowed",
				"Cross-origin request not allowed");
		assertThat(problem.get("detail").asString()).contains("'x-debug'", "Idempotency-Key")
			.doesNotContain("content-type,");
		assertNoCorsAnswer(response);
	}

	@Test
	void preflightForAMethodTheApiDoesNotTakeShouldBeRefusedNamingIt() throws IOException {
		RawHttp.Response response = preflight("/v1/sessions", ALLOWED, "TRACE", null);
		JsonNode problem = EveryErrorIsAProblemHttpTest.assertProblem(response, 403, "cross-origin-not-allowed",
				"Cross-origin request not allowed");
		assertThat(problem.get("detail").asString()).contains("'TRACE'", "GET, HEAD, POST, PUT, PATCH, DELETE");
		assertNoCorsAnswer(response);
	}

	@Test
	void preflightOutsideTheApiShouldBeRefused() throws IOException {
		RawHttp.Response response = preflight("/actuator/health", ALLOWED, "GET", "authorization");
		JsonNode problem = EveryErrorIsAProblemHttpTest.assertProblem(response, 403, "cross-origin-not-allowed",
				"Cross-origin request not allowed");
		assertThat(problem.get("detail").asString()).contains("under /v1 only");
		assertNoCorsAnswer(response);
	}

	@Test
	void malformedOriginShouldBeRefusedSayingSo() throws IOException {
		RawHttp.Response response = preflight("/v1/sessions", "http://app.example.com:port", "POST", null);
		JsonNode problem = EveryErrorIsAProblemHttpTest.assertProblem(response, 403, "cross-origin-not-allowed",
				"Cross-origin request not allowed");
		assertThat(problem.get("detail").asString()).contains("is not a valid origin");
	}

	@Test
	void requestsWithoutOriginOrFromTheServicesOwnOriginShouldGetNoCorsHeaders() throws IOException {
		RawHttp.Response plain = request("GET /v1/sessions HTTP/1.1\r\nHost: x\r\n\r\n");
		assertThat(plain.status()).isEqualTo(200);
		assertNoCorsAnswer(plain);
		String self = "127.0.0.1:" + this.port;
		RawHttp.Response sameOrigin = request("GET /v1/sessions HTTP/1.1\r\nHost: " + self + "\r\nOrigin: http://"
				+ self + "\r\n\r\n");
		assertThat(sameOrigin.status()).isEqualTo(200);
		assertNoCorsAnswer(sameOrigin);
	}

	private static void assertNoCorsAnswer(RawHttp.Response response) {
		assertThat(response.headers().keySet()).noneMatch(h -> h.startsWith("access-control-"));
	}

	private RawHttp.Response preflight(String path, String origin, String method, String headers) throws IOException {
		return request("OPTIONS " + path + " HTTP/1.1\r\nHost: x\r\nOrigin: " + origin
				+ "\r\nAccess-Control-Request-Method: " + method
				+ ((headers != null) ? "\r\nAccess-Control-Request-Headers: " + headers : "") + "\r\n\r\n");
	}

	private long sessionCount() throws IOException {
		RawHttp.Response list = request("GET /v1/sessions?pageSize=1000 HTTP/1.1\r\nHost: x\r\n\r\n");
		assertThat(list.status()).isEqualTo(200);
		return JSON.readTree(list.body()).get("sessions").size();
	}

	private static List<String> list(RawHttp.Response response, String header) {
		String value = response.header(header);
		assertThat(value).as(header).isNotNull();
		return Arrays.stream(value.split(",")).map(String::trim).toList();
	}

	private RawHttp.Response request(String request) throws IOException {
		return RawHttp.exchange(this.port, request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
	}

}
