package dev.adamopt.web;

import dev.adamopt.security.SecurityLayerTestConfiguration;
import dev.adamopt.session.SessionLayerTestConfiguration;
import org.junit.jupiter.api.Test;

import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import static org.assertj.core.api.Assertions.assertThat;

/** Idempotency-Key on steps and creates, ETags and If-Match, against the real session layer. */
@WebMvcTest(SessionController.class)
@Import({ JacksonConfiguration.class, SessionLayerTestConfiguration.class, SecurityLayerTestConfiguration.class })
class IdempotencyAndPreconditionsTest extends SessionApiTestSupport {

	private static final String HELD = "{\"optimizer\":{\"learningRate\":0.01},\"parameters\":"
			+ "{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"b1\":[[0.0],[0.0]]}}";

	private static final String GRADIENTS = "{\"gradients\":{\"dW1\":[[0.01,-0.03],[0.02,0.0]],\"db1\":[[0.1],[-0.1]]}}";

	private static final String OTHER_GRADIENTS = "{\"gradients\":{\"dW1\":[[0.5,0.5],[0.5,0.5]]}}";

	private static final String CLIENT_HELD_STEP = "{\"parameters\":{\"w\":[1.0,2.0,3.0]},\"gradients\":{\"dw\":[0.1,-0.2,0.3]}}";

	@Test
	void retriedStepWithTheSameKeyAndBodyShouldAnswerTheSameStepWithoutApplyingIt() {
		for (String create : new String[] { HELD, "{}" }) {
			String id = createId(create);
			String body = create.equals(HELD) ? GRADIENTS : CLIENT_HELD_STEP;
			MvcTestResult first = keyedStep(id, "key-1", body);
			assertThat(first).hasStatusOk().doesNotContainHeader(IdempotencyKeys.REPLAYED_HEADER);
			for (int retry = 0; retry < 3; retry++) {
				MvcTestResult again = keyedStep(id, "key-1", body);
				assertThat(again).hasStatusOk()
					.hasHeader(IdempotencyKeys.REPLAYED_HEADER, "true")
					.hasHeader("ETag", first.getResponse().getHeader("ETag"))
					.hasBodyTextEqualTo(body(first));
			}
			assertThat(read(this.mvc.get().uri("/v1/sessions/" + id).exchange()).get("step").asLong()).isEqualTo(1);
			// a new key is a new step
			MvcTestResult second = keyedStep(id, "key-2", body);
			assertThat(second).hasStatusOk().doesNotContainHeader(IdempotencyKeys.REPLAYED_HEADER);
			assertThat(read(second).get("step").asLong()).isEqualTo(2);
		}
	}

	@Test
	void sameKeyWithAnotherBodyShouldAnswer422AndChangeNothing() {
		String id = createId(HELD);
		assertThat(keyedStep(id, "k", GRADIENTS)).hasStatusOk();
		String state = body(this.mvc.get().uri("/v1/sessions/" + id + "/state").exchange());
		MvcTestResult reused = keyedStep(id, "k", OTHER_GRADIENTS);
		assertProblem(reused, HttpStatus.UNPROCESSABLE_CONTENT, "/problems/idempotency-key-reused", "'k'",
				"step 1", "same body");
		assertThat(this.mvc.get().uri("/v1/sessions/" + id + "/state")).hasBodyTextEqualTo(state);
	}

	@Test
	void keyOfAnOlderStepShouldAnswer409WithTheSessionsStep() {
		String id = createId(HELD);
		assertThat(keyedStep(id, "first", GRADIENTS)).hasStatusOk();
		assertThat(keyedStep(id, "second", GRADIENTS)).hasStatusOk();
		assertThat(step(id, GRADIENTS)).hasStatusOk();
		String state = body(this.mvc.get().uri("/v1/sessions/" + id + "/state").exchange());
		MvcTestResult late = keyedStep(id, "first", GRADIENTS);
		assertProblem(late, HttpStatus.CONFLICT, "/problems/idempotency-key-outdated", "step 1", "step 3 now");
		assertThat(this.mvc.get().uri("/v1/sessions/" + id + "/state")).hasBodyTextEqualTo(state);
	}

	@Test
	void replayShouldSurviveAPutOfParametersThatFollowsTheStep() {
		String id = createId(HELD);
		MvcTestResult first = keyedStep(id, "k", GRADIENTS);
		assertThat(first).hasStatusOk();
		long bytes = read(this.mvc.get().uri("/v1/sessions/" + id).exchange()).get("bytes").asLong();
		assertThat(this.mvc.put()
			.uri("/v1/sessions/{id}/parameters", id)
			.contentType(MediaType.APPLICATION_JSON)
			.content("{\"W1\":[[9,9],[9,9]],\"b1\":[[9],[9]]}")).hasStatus(HttpStatus.NO_CONTENT);
		// the replaced parameters are kept as the step's answer, counted in the session's bytes
		assertThat(read(this.mvc.get().uri("/v1/sessions/" + id).exchange()).get("bytes").asLong())
			.isEqualTo(bytes + 6 * 8);
		MvcTestResult again = keyedStep(id, "k", GRADIENTS);
		assertThat(again).hasStatusOk().hasHeader(IdempotencyKeys.REPLAYED_HEADER, "true");
		assertThat(body(again)).isEqualTo(body(first));
	}

	@Test
	void retriedCreateWithTheSameKeyShouldAnswerTheSameSession() {
		MvcTestResult first = keyedCreate("create-1", HELD);
		assertThat(first).hasStatus(HttpStatus.CREATED).doesNotContainHeader(IdempotencyKeys.REPLAYED_HEADER);
		String id = read(first).get("id").asString();
		assertThat(step(id, GRADIENTS)).hasStatusOk();
		MvcTestResult again = keyedCreate("create-1", HELD);
		assertThat(again).hasStatus(HttpStatus.CREATED)
			.hasHeader(IdempotencyKeys.REPLAYED_HEADER, "true")
			.hasHeader("Location", "/v1/sessions/" + id)
			.hasBodyTextEqualTo(body(first));
		assertThat(read(this.mvc.get().uri("/v1/sessions?pageSize=1000").exchange()).get("sessions").valueStream()
			.filter(session -> session.get("id").asString().equals(id))
			.count()).isEqualTo(1);
		assertProblem(keyedCreate("create-1", "{}"), HttpStatus.UNPROCESSABLE_CONTENT, "/problems/idempotency-key-reused",
				id);
		// once the session is gone its key is free again
		assertThat(this.mvc.delete().uri("/v1/sessions/" + id)).hasStatus(HttpStatus.NO_CONTENT);
		MvcTestResult fresh = keyedCreate("create-1", "{}");
		assertThat(fresh).hasStatus(HttpStatus.CREATED).doesNotContainHeader(IdempotencyKeys.REPLAYED_HEADER);
		assertThat(read(fresh).get("id").asString()).isNotEqualTo(id);
	}

	@Test
	void malformedIdempotencyKeyShouldAnswer400() {
		String id = createId(HELD);
		assertProblem(keyedStep(id, "x".repeat(256), GRADIENTS), HttpStatus.BAD_REQUEST, "/problems/invalid-header",
				"Idempotency-Key", "255");
		assertProblem(keyedStep(id, "has space", GRADIENTS), HttpStatus.BAD_REQUEST, "/problems/invalid-header");
		assertThat(read(this.mvc.get().uri("/v1/sessions/" + id).exchange()).get("step").asLong()).isZero();
	}

	@Test
	void etagShouldChangeWithEveryStepPatchAndPut() {
		MvcTestResult created = create(HELD);
		String id = read(created).get("id").asString();
		String etag = created.getResponse().getHeader("ETag");
		assertThat(etag).matches("\"\\d+\"");
		assertThat(this.mvc.get().uri("/v1/sessions/" + id)).hasHeader("ETag", etag);
		java.util.Set<String> seen = new java.util.HashSet<>(java.util.List.of(etag));
		MvcTestResult stepped = step(id, GRADIENTS);
		assertThat(seen.add(stepped.getResponse().getHeader("ETag"))).isTrue();
		assertThat(this.mvc.get().uri("/v1/sessions/" + id)).hasHeader("ETag", stepped.getResponse().getHeader("ETag"));
		MvcTestResult patched = patch(id, "{\"optimizer\":{\"learningRate\":0.001}}");
		assertThat(seen.add(patched.getResponse().getHeader("ETag"))).isTrue();
		MvcTestResult put = this.mvc.put()
			.uri("/v1/sessions/{id}/parameters", id)
			.contentType(MediaType.APPLICATION_JSON)
			.content("{\"W1\":[[1,1],[1,1]],\"b1\":[[1],[1]]}")
			.exchange();
		assertThat(seen.add(put.getResponse().getHeader("ETag"))).isTrue();
		assertThat(this.mvc.get().uri("/v1/sessions/" + id)).hasHeader("ETag", put.getResponse().getHeader("ETag"));
	}

	@Test
	void staleIfMatchShouldAnswer412OnStepPatchPutAndDeleteAndChangeNothing() {
		MvcTestResult created = create(HELD);
		String id = read(created).get("id").asString();
		String stale = created.getResponse().getHeader("ETag");
		String current = step(id, GRADIENTS).getResponse().getHeader("ETag");
		String state = body(this.mvc.get().uri("/v1/sessions/" + id + "/state").exchange());

		assertProblem(this.mvc.post()
			.uri("/v1/sessions/{id}/steps", id)
			.contentType(MediaType.APPLICATION_JSON)
			.header("If-Match", stale)
			.content(GRADIENTS)
			.exchange(), HttpStatus.PRECONDITION_FAILED, "/problems/precondition-failed", current, "step 1");
		assertProblem(this.mvc.patch()
			.uri("/v1/sessions/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.header("If-Match", stale)
			.content("{\"optimizer\":{\"learningRate\":1}}")
			.exchange(), HttpStatus.PRECONDITION_FAILED, "/problems/precondition-failed");
		assertProblem(this.mvc.put()
			.uri("/v1/sessions/{id}/parameters", id)
			.contentType(MediaType.APPLICATION_JSON)
			.header("If-Match", stale)
			.content("{\"W1\":[[1,1],[1,1]],\"b1\":[[1],[1]]}")
			.exchange(), HttpStatus.PRECONDITION_FAILED, "/problems/precondition-failed");
		assertProblem(this.mvc.delete().uri("/v1/sessions/{id}", id).header("If-Match", stale).exchange(),
				HttpStatus.PRECONDITION_FAILED, "/problems/precondition-failed");
		assertThat(this.mvc.get().uri("/v1/sessions/" + id + "/state")).hasBodyTextEqualTo(state);

		// the current ETag (alone, in a list, or *) lets each through
		assertThat(this.mvc.post()
			.uri("/v1/sessions/{id}/steps", id)
			.contentType(MediaType.APPLICATION_JSON)
			.header("If-Match", stale + ", " + current)
			.content(GRADIENTS)).hasStatusOk();
		assertThat(this.mvc.delete().uri("/v1/sessions/{id}", id).header("If-Match", "*"))
			.hasStatus(HttpStatus.NO_CONTENT);
	}

	private MvcTestResult keyedStep(String id, String key, String body) {
		return this.mvc.post()
			.uri("/v1/sessions/{id}/steps", id)
			.contentType(MediaType.APPLICATION_JSON)
			.header(IdempotencyKeys.HEADER, key)
			.content(body)
			.exchange();
	}

	private MvcTestResult keyedCreate(String key, String body) {
		return this.mvc.post()
			.uri("/v1/sessions")
			.contentType(MediaType.APPLICATION_JSON)
			.header(IdempotencyKeys.HEADER, key)
			.content(body)
			.exchange();
	}

	private static void assertProblem(MvcTestResult result, HttpStatus status, String type, String... inDetail) {
		assertThat(result).hasStatus(status).hasContentType(MediaType.APPLICATION_PROBLEM_JSON);
		assertThat(read(result).get("type").asString()).isEqualTo(type);
		if (inDetail.length > 0) {
			assertThat(read(result).get("detail").asString()).contains(inDetail);
		}
	}

}
