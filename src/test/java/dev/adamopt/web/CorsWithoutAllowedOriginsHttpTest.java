package dev.adamopt.web;

import java.io.IOException;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The default, no {@code adam.cors.allowed-origins}: a browser lets no page on another origin call the API, because
 * every preflight is refused (with a problem that says which property to set); a request that is not preflighted is
 * served as it was before CORS existed here (the browser keeps its answer from a page on another origin), so that
 * same-origin pages whose Origin the service cannot recognise (behind a proxy) keep working.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class CorsWithoutAllowedOriginsHttpTest {

	@LocalServerPort
	private int port;

	@Test
	void preflightShouldBeRefusedNamingThePropertyToSet() throws IOException {
		RawHttp.Response response = RawHttp.exchange(this.port, "OPTIONS /v1/sessions HTTP/1.1\r\nHost: x\r\n"
				+ "Origin: https://app.example.com\r\nAccess-Control-Request-Method: POST\r\n"
				+ "Access-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n");
		JsonNode problem = EveryErrorIsAProblemHttpTest.assertProblem(response, 403, "cross-origin-not-allowed",
				"Cross-origin request not allowed");
		assertThat(problem.get("detail").asString()).contains("adam.cors.allowed-origins lists no origin");
		assertThat(response.headers().keySet()).noneMatch(h -> h.startsWith("access-control-"));
	}

	@Test
	void requestWithAnOriginThatIsNotPreflightedShouldBeServedWithoutCorsHeaders() throws IOException {
		RawHttp.Response response = RawHttp.exchange(this.port, "GET /v1/sessions HTTP/1.1\r\nHost: x\r\n"
				+ "Origin: https://app.example.com\r\nConnection: close\r\n\r\n");
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.headers().keySet()).noneMatch(h -> h.startsWith("access-control-"));
	}

}
