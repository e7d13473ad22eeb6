package dev.adamopt;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Per-key limits over real HTTP, on a service whose OpenAPI document, Swagger UI, health and pages are switched off
 * for callers without a key ({@code adam.security.open.*=false}): each then needs a key like the API; a key beyond its
 * rate gets 429 with Retry-After, beyond its sessions or memory 507 naming its quota.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
		"adam.security.api-keys=carol:6f3ffa4130054c82843599263a82b97a23cec0f15a467c20f709314dd536e065,"
				+ "dave:8da54a73173271e9fa4935f90846c644762e27b2a1f44d75d36ea4221fb48e28",
		"adam.security.open.api-docs=false", "adam.security.open.swagger-ui=false", "adam.security.open.health=false",
		"adam.security.open.pages=false",
		"adam.limits.per-key.requests-per-second=2", "adam.limits.per-key.max-sessions=1",
		"adam.limits.per-key.memory=1MB" })
class PerKeyLimitsHttpTest {

	private static final String CAROL = "carol-http-key";

	private static final String DAVE = "dave-http-key";

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

	private final JsonMapper json = JsonMapper.builder().build();

	@LocalServerPort
	int port;

	@Test
	void theDocumentSwaggerUiHealthAndPagesSwitchedOffShouldNeedAKey() throws Exception {
		for (String path : new String[] { "/v3/api-docs", "/swagger-ui/index.html", "/actuator/health", "/",
				"/sessions.html", "/assets/surface.js" }) {
			HttpResponse<String> without = send(null, "GET", path, null);
			assertThat(without.statusCode()).as(path).isEqualTo(401);
			assertThat(this.json.readTree(without.body()).get("type").asString()).isEqualTo("/problems/unauthorized");
			assertThat(eventually(DAVE, "GET", path, null).statusCode()).as(path + " with a key").isEqualTo(200);
		}
	}

	@Test
	void aKeyBeyondItsRateShouldGet429WithRetryAfter() throws Exception {
		HttpResponse<String> refused = null;
		// two requests a second: a burst of a few dozen requests meets the limit however slow the machine
		for (int i = 0; i < 50 && refused == null; i++) {
			HttpResponse<String> response = send(CAROL, "GET", "/v1/sessions", null);
			if (response.statusCode() == 429) {
				refused = response;
			}
			else {
				assertThat(response.statusCode()).isEqualTo(200);
			}
		}
		assertThat(refused).as("a 429 within 50 requests at 2 a second").isNotNull();
		// a token comes back every half second: retry after 1 s
		assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
		assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
				type -> assertThat(type).startsWith("application/problem+json"));
		JsonNode problem = this.json.readTree(refused.body());
		assertThat(problem.get("type").asString()).isEqualTo("/problems/too-many-requests");
		assertThat(problem.get("detail").asString()).contains("API key 'carol'", "2 requests per second");
		// after Retry-After the key is served again
		Thread.sleep(1_100);
		assertThat(send(CAROL, "GET", "/v1/sessions", null).statusCode()).isEqualTo(200);
	}

	@Test
	void aKeyAtItsQuotasShouldGet507NamingThem() throws Exception {
		HttpResponse<String> created = eventually(DAVE, "POST", "/v1/sessions", "{}");
		assertThat(created.statusCode()).isEqualTo(201);
		HttpResponse<String> second = eventually(DAVE, "POST", "/v1/sessions", "{}");
		assertThat(second.statusCode()).isEqualTo(507);
		assertThat(this.json.readTree(second.body()).get("type").asString()).isEqualTo("/problems/too-many-sessions");
		assertThat(this.json.readTree(second.body()).get("detail").asString())
			.contains("API key 'dave' already holds 1 sessions", "adam.limits.per-key.max-sessions");
		String id = this.json.readTree(created.body()).get("id").asString();
		// 50,000 float64 parameters held take 1.2 MB of state: beyond dave's 1 MB
		StringBuilder large = new StringBuilder("{\"w\":[");
		for (int i = 0; i < 50_000; i++) {
			large.append((i == 0) ? "" : ",").append("0.25");
		}
		large.append("]}");
		HttpResponse<String> tooLarge = eventually(DAVE, "PUT", "/v1/sessions/" + id + "/parameters",
				large.toString());
		assertThat(tooLarge.statusCode()).isEqualTo(507);
		assertThat(this.json.readTree(tooLarge.body()).get("type").asString()).isEqualTo("/problems/insufficient-storage");
		assertThat(this.json.readTree(tooLarge.body()).get("detail").asString())
			.contains("of the 1048576 bytes of session memory of API key 'dave' (adam.limits.per-key.memory)");
		assertThat(eventually(DAVE, "DELETE", "/v1/sessions/" + id, null).statusCode()).isEqualTo(204);
		assertThat(eventually(DAVE, "POST", "/v1/sessions", "{}").statusCode()).isEqualTo(201);
	}

	@Test
	void aRequestsCopiesShouldCountAgainstItsKeysMemoryQuotaToo() throws Exception {
		// 25,000 float64 parameters held, with their two moments: 600 KB of state, within carol's 1 MB; a checkpoint
		// copies them for its answer, 600 KB more, which her quota does not have
		String held = "{\"parameters\":{\"w\":" + constantList(25_000, "0.25") + "}}";
		HttpResponse<String> created = eventually(CAROL, "POST", "/v1/sessions", held);
		assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
		String id = this.json.readTree(created.body()).get("id").asString();

		HttpResponse<String> checkpoint = eventually(CAROL, "GET", "/v1/sessions/" + id + "/state", null);
		assertThat(checkpoint.statusCode()).as(checkpoint.body()).isEqualTo(507);
		assertThat(this.json.readTree(checkpoint.body()).get("detail").asString())
			.contains("of API key 'carol' (adam.limits.per-key.memory)");
		assertThat(eventually(CAROL, "DELETE", "/v1/sessions/" + id, null).statusCode()).isEqualTo(204);
	}

	/** A JSON list of {@code count} times {@code value}. */
	private static String constantList(int count, String value) {
		StringBuilder list = new StringBuilder("[");
		for (int i = 0; i < count; i++) {
			list.append((i == 0) ? "" : ",").append(value);
		}
		return list.append(']').toString();
	}

	/** Sends, waiting out the key's rate (the tests share it with the others of their key) a bounded number of times. */
	private HttpResponse<String> eventually(String key, String method, String path, String body) throws Exception {
		for (int i = 0; i < 20; i++) {
			HttpResponse<String> response = send(key, method, path, body);
			if (response.statusCode() != 429) {
				return response;
			}
			Thread.sleep(1_000);
		}
		throw new AssertionError("still 429 after 20 s: " + method + " " + path);
	}

	private HttpResponse<String> send(String key, String method, String path, String body) throws Exception {
		HttpRequest.Builder request = ApiRequests.json(URI.create("http://localhost:" + this.port + path), method, body, key);
		return this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

}
