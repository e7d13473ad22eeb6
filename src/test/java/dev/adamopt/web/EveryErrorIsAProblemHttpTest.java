package dev.adamopt.web;

import java.io.IOException;

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
 * Over a real socket, what Tomcat refuses before Spring MVC sees a request, {@code /error}, and clients that accept
 * only {@code application/problem+json}: every error is a problem with a stable type and a useful detail; never HTML,
 * never a stack trace, never the server's name.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class EveryErrorIsAProblemHttpTest {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final String PROBLEM = "application/problem+json";

	@LocalServerPort
	private int port;

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
			/v1/sessions/%zz        | invalid %-encoding: % must be followed by two hexadecimal digits
			/v1/sessions/%0         | invalid %-encoding
			/v1/sessions/%00        | encoded NUL (%00)
			/v1/sessions/a%00b/steps | encoded NUL (%00)
			/v1/sessions/a%2Fb      | encoded slash or backslash (%2F, %5C)
			/v1/sessions/a%5cb      | encoded slash or backslash (%2F, %5C)
			/v1/../../etc/passwd    | '..' segments lead above the root
			/v1/ses{sions           | must be %-encoded
			/v1\\sessions           | must be %-encoded
			""")
	void invalidUrlShouldBeAnsweredAsProblem(String target, String detail) throws IOException {
		RawHttp.Response response = request("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
		JsonNode problem = assertProblem(response, 400, "invalid-url", "Invalid URL");
		assertThat(problem.get("detail").asString()).contains(detail).contains("/v1/sessions");
	}

	@Test
	void requestHeadersTooLargeShouldBeAnsweredAsProblem() throws IOException {
		RawHttp.Response response = request("GET /v1/sessions HTTP/1.1\r\nHost: localhost\r\nX-Padding: "
				+ "p".repeat(20_000) + "\r\n\r\n");
		JsonNode problem = assertProblem(response, 431, "headers-too-large", "Request headers too large");
		assertThat(problem.get("detail").asString()).contains("server.max-http-request-header-size");
	}

	@Test
	void requestLineTooLargeShouldBeAnsweredAsProblem() throws IOException {
		RawHttp.Response response = request("GET /v1/sessions/" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
		assertProblem(response, 431, "headers-too-large", "Request headers too large");
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', textBlock = """
			invalid method name    | G(T /v1/sessions HTTP/1.1\\r\\nHost: x                  | not a valid HTTP method name
			missing Host           | GET /v1/sessions HTTP/1.1\\r\\nX-No-Host: x             | request line and the Host and Content-Length headers
			Content-Length not a number | POST /v1/sessions HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: ten | request line and the Host and Content-Length headers
			unsupported HTTP version | GET /v1/sessions HTTP/9.9\\r\\nHost: x                  | send HTTP/1.1
			""")
	void malformedRequestShouldBeAnsweredAsProblem(String what, String head, String detail) throws IOException {
		RawHttp.Response response = request(head.replace("\\r\\n", "\r\n") + "\r\n\r\n");
		JsonNode problem = assertProblem(response, 400, "bad-request", "Bad request");
		assertThat(problem.get("detail").asString()).contains(detail);
	}

	@Test
	void errorPathShouldBeAProblemEvenForClientsThatAcceptOnlyHtml() throws IOException {
		RawHttp.Response response = request("GET /error HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n");
		JsonNode problem = assertProblem(response, 404, "resource-not-found", "Resource not found");
		assertThat(problem.get("detail").asString()).contains("/v1/sessions");
	}

	@Test
	void errorPathShouldBeAProblemForEveryMethod() throws IOException {
		RawHttp.Response response = request("POST /error HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
				+ "Content-Length: 2\r\n\r\n{}");
		assertProblem(response, 404, "resource-not-found", "Resource not found");
	}

	@Test
	void traceShouldBeAnsweredAsProblem() throws IOException {
		RawHttp.Response response = request("TRACE /v1/sessions HTTP/1.1\r\nHost: x\r\n\r\n");
		JsonNode problem = assertProblem(response, 405, "method-not-allowed", "Method not allowed");
		assertThat(problem.get("detail").asString()).contains("Allow header");
		assertThat(response.header("Allow")).contains("GET").doesNotContain("TRACE");
	}

	@Test
	void sessionForClientsThatAcceptOnlyHtmlShouldBeA406Problem() throws IOException {
		String id = createSession("{}");
		RawHttp.Response response = request("GET /v1/sessions/" + id + " HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n");
		assertProblem(response, 406, "not-acceptable", "Not acceptable");
	}

	// A client that accepts only application/problem+json

	@Test
	void deleteWhenClientAcceptsOnlyProblemsShouldDeleteTheSession() throws IOException {
		String id = createSession("{}");
		RawHttp.Response response = request("DELETE /v1/sessions/" + id + " HTTP/1.1\r\nHost: x\r\nAccept: " + PROBLEM
				+ "\r\n\r\n");
		assertThat(response.status()).isEqualTo(204);
		assertThat(response.body()).isEmpty();
		assertThat(request("GET /v1/sessions/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(404);
	}

	@Test
	void deleteOfUnknownSessionWhenClientAcceptsOnlyProblemsShouldAnswerTheProblem() throws IOException {
		RawHttp.Response response = request("DELETE /v1/sessions/nope HTTP/1.1\r\nHost: x\r\nAccept: " + PROBLEM
				+ "\r\n\r\n");
		assertProblem(response, 404, "session-not-found", "Session not found");
	}

	@Test
	void putParametersWhenClientAcceptsOnlyProblemsShouldHoldThem() throws IOException {
		String id = createSession("{}");
		String body = "{\"W1\":[[0.5,-0.2]]}";
		RawHttp.Response response = request("PUT /v1/sessions/" + id + "/parameters HTTP/1.1\r\nHost: x\r\nAccept: "
				+ PROBLEM + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
		assertThat(response.status()).isEqualTo(204);
		RawHttp.Response held = request("GET /v1/sessions/" + id + "/parameters HTTP/1.1\r\nHost: x\r\n\r\n");
		assertThat(held.body()).isEqualTo(body);
	}

	@Test
	void getWhenClientAcceptsOnlyProblemsShouldAnswer406AsProblem() throws IOException {
		String id = createSession("{}");
		RawHttp.Response response = request("GET /v1/sessions/" + id + " HTTP/1.1\r\nHost: x\r\nAccept: " + PROBLEM
				+ "\r\n\r\n");
		JsonNode problem = assertProblem(response, 406, "not-acceptable", "Not acceptable");
		assertThat(problem.get("detail").asString()).contains("application/json");
	}

	@Test
	void stepWhenClientAcceptsOnlyProblemsShouldAnswer406AndNotStep() throws IOException {
		String id = createSession("{\"parameters\":{\"W1\":[[0.5,-0.2]]}}");
		String body = "{\"gradients\":{\"dW1\":[[0.1,0.2]]}}";
		RawHttp.Response response = request("POST /v1/sessions/" + id + "/steps HTTP/1.1\r\nHost: x\r\nAccept: "
				+ PROBLEM + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
		assertProblem(response, 406, "not-acceptable", "Not acceptable");
		JsonNode session = JSON.readTree(request("GET /v1/sessions/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n").body());
		assertThat(session.get("step").asLong()).isZero();
	}

	private String createSession(String body) throws IOException {
		RawHttp.Response created = request("POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
				+ "Content-Length: " + body.length() + "\r\n\r\n" + body);
		assertThat(created.status()).as(created.body()).isEqualTo(201);
		return JSON.readTree(created.body()).get("id").asString();
	}

	private RawHttp.Response request(String request) throws IOException {
		return RawHttp.exchange(this.port, request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
	}

	/** The answer is a problem of this kind, and shows nothing of the server's insides. */
	static JsonNode assertProblem(RawHttp.Response response, int status, String slug, String title) {
		assertThat(response.status()).as(response.body()).isEqualTo(status);
		assertThat(response.header("Content-Type")).startsWith(PROBLEM);
		assertThat(response.body()).doesNotContainIgnoringCase("<html")
			.doesNotContain("Exception", "\tat ", "Tomcat", "tomcat", "Apache", "org.", "dev.adamopt");
		JsonNode problem = JSON.readTree(response.body());
		assertThat(problem.get("type").asString()).isEqualTo("/problems/" + slug);
		assertThat(problem.get("title").asString()).isEqualTo(title);
		assertThat(problem.get("status").asInt()).isEqualTo(status);
		assertThat(problem.get("detail").asString()).isNotBlank().isNotEqualTo(title);
		return problem;
	}

}
