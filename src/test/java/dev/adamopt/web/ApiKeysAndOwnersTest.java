package dev.adamopt.web;

import java.util.ArrayList;
import java.util.List;

import dev.adamopt.security.SecurityLayerTestConfiguration;
import dev.adamopt.session.SessionLayerTestConfiguration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MockMvcTester.MockMvcRequestBuilder;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * API keys and owners at the controller, with the application's security: a request without a valid key is a 401
 * problem; a session is its creator key's, and to every other key exactly as absent as an id that never existed.
 */
@WebMvcTest(controllers = SessionController.class, properties = {
		"adam.security.api-keys=alice:" + ApiKeysAndOwnersTest.ALICE_SHA256 + ", bob:" + ApiKeysAndOwnersTest.BOB_SHA256 })
@Import({ JacksonConfiguration.class, SessionLayerTestConfiguration.class, SecurityLayerTestConfiguration.class })
class ApiKeysAndOwnersTest {

	static final String ALICE = "alice-secret-key";

	/** {@code printf %s alice-secret-key | sha256sum} */
	static final String ALICE_SHA256 = "d85cc5e31c65548b64632af4304e20eb0f792b7280b1cf6fd73ffa0d9c745f5b";

	static final String BOB = "bob-secret-key";

	static final String BOB_SHA256 = "2656fecc42e5ed2e72a2a5f2d92068d8c7bfe8f9af4c62895a25dcb6f5bbb64b";

	private static final String HELD = "{\"parameters\":{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"b1\":[[0.0],[0.0]]}}";

	private static final String GRADIENTS = "{\"gradients\":{\"dW1\":[[0.01,-0.03],[0.02,0.0]],\"db1\":[[0.1],[-0.1]]}}";

	private static final String ABSENT = "00000000-0000-4000-8000-000000000000";

	private final JsonMapper json = JsonMapper.builder().build();

	@Autowired
	private MockMvcTester mvc;

	@Test
	void aRequestWithoutAKeyShouldBeA401ProblemAskingForABearerKey() {
		for (MockMvcRequestBuilder request : List.of(this.mvc.get().uri("/v1/sessions"),
				this.mvc.get().uri("/v1/sessions/{id}", ABSENT),
				this.mvc.post().uri("/v1/sessions").contentType(MediaType.APPLICATION_JSON).content(HELD))) {
			MvcTestResult result = request.exchange();
			assertThat(result).hasStatus(HttpStatus.UNAUTHORIZED)
				.hasContentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
				.hasHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
				.hasHeader("X-Content-Type-Options", "nosniff");
			JsonNode problem = read(result);
			assertThat(problem.get("type").asString()).isEqualTo("/problems/unauthorized");
			assertThat(problem.get("title").asString()).isEqualTo("Unauthorized");
			assertThat(problem.get("status").asInt()).isEqualTo(401);
			assertThat(problem.get("detail").asString()).contains("'Authorization: Bearer <key>'");
		}
	}

	@Test
	void anUnknownKeyOrAnotherKindOfAuthorizationShouldBeA401ThatNeverQuotesTheKey() {
		String wrong = "not-a-key-of-this-service";
		MvcTestResult unknown = this.mvc.get()
			.uri("/v1/sessions")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + wrong)
			.exchange();
		assertThat(unknown).hasStatus(HttpStatus.UNAUTHORIZED)
			.hasContentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
			.hasHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
		assertThat(read(unknown).get("type").asString()).isEqualTo("/problems/unauthorized");
		assertThat(read(unknown).get("detail").asString()).contains("is not one of this service's keys")
			.doesNotContain(wrong);
		// a key's SHA-256 is not the key
		assertThat(this.mvc.get().uri("/v1/sessions").header(HttpHeaders.AUTHORIZATION, "Bearer " + ALICE_SHA256))
			.hasStatus(HttpStatus.UNAUTHORIZED);
		for (String authorization : List.of("Basic " + ALICE, ALICE, "Bearer ", "Bearer    ")) {
			MvcTestResult result = this.mvc.get()
				.uri("/v1/sessions")
				.header(HttpHeaders.AUTHORIZATION, authorization)
				.exchange();
			assertThat(result).as(authorization).hasStatus(HttpStatus.UNAUTHORIZED);
			assertThat(read(result).get("detail").asString()).as(authorization)
				.contains("'Bearer <key>'")
				.doesNotContain(ALICE);
		}
		// the scheme is case-insensitive (RFC 9110), the key is not
		assertThat(this.mvc.get().uri("/v1/sessions").header(HttpHeaders.AUTHORIZATION, "bearer " + ALICE))
			.hasStatusOk();
		assertThat(this.mvc.get().uri("/v1/sessions").header(HttpHeaders.AUTHORIZATION, "Bearer " + ALICE.toUpperCase()))
			.hasStatus(HttpStatus.UNAUTHORIZED);
	}

	@Test
	void anotherKeyShouldGetTheAnswerOfAnAbsentIdOnEveryOperationAndChangeNothing() throws Exception {
		String id = createAs(ALICE, HELD);
		assertThat(as(ALICE, step(id))).hasStatusOk();
		String before = body(as(ALICE, this.mvc.get().uri("/v1/sessions/{id}/state", id)).exchange());

		List<Operation> operations = List.of(new Operation(HttpMethod.GET, "/v1/sessions/{id}", null),
				new Operation(HttpMethod.PATCH, "/v1/sessions/{id}", "{\"optimizer\":{\"learningRate\":1e6}}"),
				new Operation(HttpMethod.POST, "/v1/sessions/{id}/steps", GRADIENTS),
				new Operation(HttpMethod.GET, "/v1/sessions/{id}/state", null),
				new Operation(HttpMethod.GET, "/v1/sessions/{id}/parameters", null),
				new Operation(HttpMethod.PUT, "/v1/sessions/{id}/parameters",
						"{\"W1\":[[-999,-999],[-999,-999]],\"b1\":[[-999],[-999]]}"),
				new Operation(HttpMethod.GET, "/v1/sessions/{id}/history", null),
				new Operation(HttpMethod.DELETE, "/v1/sessions/{id}", null));
		for (Operation operation : operations) {
			MvcTestResult absent = as(BOB, operation.request(this.mvc, ABSENT)).exchange();
			MvcTestResult others = as(BOB, operation.request(this.mvc, id)).exchange();
			assertThat(others).as(operation.toString()).hasStatus(HttpStatus.NOT_FOUND)
				.hasContentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON);
			assertThat(absent).as(operation.toString()).hasStatus(HttpStatus.NOT_FOUND);
			assertThat(body(others)).as("%s on another key's session answers as on an absent id", operation)
				.isEqualTo(body(absent).replace(ABSENT, id));
			assertThat(read(others).get("type").asString()).isEqualTo("/problems/session-not-found");
		}
		// alice's session is as it was
		assertThat(as(ALICE, this.mvc.get().uri("/v1/sessions/{id}/state", id))).hasStatusOk()
			.hasBodyTextEqualTo(before);
		assertThat(as(ALICE, step(id))).hasStatusOk();
	}

	@Test
	void theListShouldShowAKeyOnlyItsOwnSessionsAPageAtATime() {
		List<String> alices = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			alices.add(createAs(ALICE, "{}"));
			createAs(BOB, "{}");
			createAs(BOB, "{}");
		}
		List<String> listed = new ArrayList<>();
		String token = null;
		int pages = 0;
		do {
			MockMvcRequestBuilder request = this.mvc.get().uri("/v1/sessions").param("pageSize", "2");
			if (token != null) {
				request = request.param("pageToken", token);
			}
			JsonNode page = read(as(ALICE, request).exchange());
			page.get("sessions").forEach(session -> listed.add(session.get("id").asString()));
			assertThat(page.get("sessions").size()).isLessThanOrEqualTo(2);
			token = page.has("nextPageToken") ? page.get("nextPageToken").asString() : null;
			pages++;
		}
		while (token != null && pages < 10);
		assertThat(listed).as("alice's sessions among this test's").containsAll(alices);
		assertThat(listed).as("no session of bob's").allMatch(id -> isAlices(id));
		assertThat(pages).isEqualTo((listed.size() + 1) / 2);
	}

	@Test
	void anIdempotencyKeyOfAnotherKeyShouldCreateANewSessionNotAnswerTheOthers() {
		MvcTestResult alices = as(ALICE, this.mvc.post()
			.uri("/v1/sessions")
			.contentType(MediaType.APPLICATION_JSON)
			.header("Idempotency-Key", "shared-key-1")
			.content(HELD)).exchange();
		MvcTestResult bobs = as(BOB, this.mvc.post()
			.uri("/v1/sessions")
			.contentType(MediaType.APPLICATION_JSON)
			.header("Idempotency-Key", "shared-key-1")
			.content(HELD)).exchange();
		assertThat(alices).hasStatus(HttpStatus.CREATED);
		assertThat(bobs).hasStatus(HttpStatus.CREATED).doesNotContainHeader("Idempotent-Replayed");
		assertThat(read(bobs).get("id").asString()).isNotEqualTo(read(alices).get("id").asString());
		MvcTestResult retried = as(ALICE, this.mvc.post()
			.uri("/v1/sessions")
			.contentType(MediaType.APPLICATION_JSON)
			.header("Idempotency-Key", "shared-key-1")
			.content(HELD)).exchange();
		assertThat(retried).hasHeader("Idempotent-Replayed", "true");
		assertThat(read(retried).get("id").asString()).isEqualTo(read(alices).get("id").asString());
	}

	@Test
	void aResumedCheckpointShouldBelongToTheKeyThatResumedIt() {
		String id = createAs(ALICE, HELD);
		String state = body(as(ALICE, this.mvc.get().uri("/v1/sessions/{id}/state", id)).exchange());
		String copy = createAs(BOB, "{\"state\":" + state + "}");
		assertThat(as(BOB, this.mvc.get().uri("/v1/sessions/{id}", copy))).hasStatusOk();
		assertThat(as(ALICE, this.mvc.get().uri("/v1/sessions/{id}", copy))).hasStatus(HttpStatus.NOT_FOUND);
	}

	// ---- helpers ----------------------------------------------------------------------------------------------------

	private boolean isAlices(String id) {
		return as(ALICE, this.mvc.get().uri("/v1/sessions/{id}", id)).exchange().getResponse().getStatus() == 200;
	}

	private record Operation(HttpMethod method, String path, String body) {

		MockMvcRequestBuilder request(MockMvcTester mvc, String id) {
			MockMvcRequestBuilder request = mvc.method(this.method).uri(this.path, id);
			return (this.body != null) ? request.contentType(MediaType.APPLICATION_JSON).content(this.body) : request;
		}

		@Override
		public String toString() {
			return this.method + " " + this.path;
		}

	}

	private static MockMvcRequestBuilder as(String key, MockMvcRequestBuilder request) {
		return request.header(HttpHeaders.AUTHORIZATION, "Bearer " + key);
	}

	private MockMvcRequestBuilder step(String id) {
		return this.mvc.post().uri("/v1/sessions/{id}/steps", id).contentType(MediaType.APPLICATION_JSON).content(GRADIENTS);
	}

	private String createAs(String key, String body) {
		MvcTestResult result = as(key,
				this.mvc.post().uri("/v1/sessions").contentType(MediaType.APPLICATION_JSON).content(body))
			.exchange();
		assertThat(result).hasStatus(HttpStatus.CREATED);
		return read(result).get("id").asString();
	}

	private JsonNode read(MvcTestResult result) {
		return this.json.readTree(body(result));
	}

	private static String body(MvcTestResult result) {
		return SessionApiTestSupport.body(result);
	}

}
