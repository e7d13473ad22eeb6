package dev.adamopt.web;

import dev.adamopt.session.SessionLayerTestConfiguration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients generated from the OpenAPI document send the optional fields they do not set as explicit {@code null} (the
 * Python client sends {@code "maxSecondMoment": null} back inside a checkpoint): an explicit {@code null} in a field
 * counts as the field left out, in creates, steps, PATCHes and checkpoints, nested objects included. Where a value
 * must stand (a tensor in {@code gradients}, an element of a list, a required field) {@code null} is still refused.
 */
@WebMvcTest(SessionController.class)
@Import({ JacksonConfiguration.class, SessionLayerTestConfiguration.class })
class ExplicitNullsTest extends SessionApiTestSupport {

	private static final String PARAMETERS = "{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"b1\":[[0.0],[0.0]]}";

	private static final String GRADIENTS = "{\"dW1\":[[0.01,-0.03],[0.02,0.0]],\"db1\":[[0.1],[-0.1]]}";

	/** Every optional field of OptimizerSettings, as null. */
	private static final String NULL_OPTIMIZER_FIELDS = "\"algorithm\":null,\"learningRate\":null,\"beta1\":null,"
			+ "\"beta2\":null,\"epsilon\":null,\"weightDecay\":null,\"amsgrad\":null,\"maximize\":null,"
			+ "\"initialLearningRate\":null,\"schedule\":null,\"clipping\":null,\"groups\":null,\"nonFinite\":null";

	@Test
	void createWithEveryFieldNullShouldMakeTheSessionThatAnEmptyBodyMakes() {
		JsonNode expected = session(createId("{}"));
		JsonNode actual = session(createId("{\"optimizer\":{" + NULL_OPTIMIZER_FIELDS + "},\"precision\":null,"
				+ "\"parameters\":null,\"state\":null}"));
		assertThat(actual.get("optimizer")).isEqualTo(expected.get("optimizer"));
		assertThat(actual.get("precision")).isEqualTo(expected.get("precision"));
		assertThat(actual.get("holdsParameters").asBoolean()).isFalse();
		assertThat(createId("{\"optimizer\":null}")).isNotBlank();
	}

	@Test
	void nullsInsideScheduleClippingAndGroupsShouldCountAsLeftOut() {
		String plain = "{\"optimizer\":{\"algorithm\":\"adamw\",\"learningRate\":0.01,"
				+ "\"schedule\":{\"type\":\"sequential\",\"milestones\":[2],\"schedules\":[{\"type\":\"linear\","
				+ "\"totalIters\":2},{\"type\":\"cosine\",\"tMax\":10}]},"
				+ "\"clipping\":{\"maxNorm\":1.0},\"groups\":[{\"match\":[\"b*\"],\"weightDecay\":0.0}]},"
				+ "\"parameters\":" + PARAMETERS + "}";
		String nulls = "{\"optimizer\":{\"algorithm\":\"adamw\",\"learningRate\":0.01,\"beta1\":null,"
				+ "\"initialLearningRate\":null,\"nonFinite\":null,"
				+ "\"schedule\":{\"type\":\"sequential\",\"milestones\":[2],\"position\":null,\"gamma\":null,"
				+ "\"tMax\":null,\"schedules\":[{\"type\":\"linear\",\"totalIters\":2,\"startFactor\":null,"
				+ "\"endFactor\":null,\"stepSize\":null,\"position\":null},{\"type\":\"cosine\",\"tMax\":10,"
				+ "\"etaMin\":null,\"milestones\":null,\"schedules\":null}]},"
				+ "\"clipping\":{\"maxNorm\":1.0,\"normType\":null,\"maxValue\":null},"
				+ "\"groups\":[{\"match\":[\"b*\"],\"weightDecay\":0.0,\"learningRate\":null,\"beta1\":null,"
				+ "\"beta2\":null,\"epsilon\":null,\"initialLearningRate\":null}]},"
				+ "\"precision\":null,\"parameters\":" + PARAMETERS + ",\"state\":null}";
		String expected = createId(plain);
		String actual = createId(nulls);
		assertThat(session(actual).get("optimizer")).isEqualTo(session(expected).get("optimizer"));
		// and they step alike, through the schedule's warm-up, clipping and the groups
		for (int i = 0; i < 3; i++) {
			String gradients = "{\"gradients\":" + GRADIENTS + "}";
			assertThat(body(step(actual, gradients))).isEqualTo(body(step(expected, gradients)));
		}
	}

	@Test
	void stepWithNullParametersAndLossShouldStepAsWithoutThem() {
		String create = "{\"optimizer\":{\"learningRate\":0.01},\"parameters\":" + PARAMETERS + "}";
		String expected = createId(create);
		String actual = createId(create);
		MvcTestResult plain = step(expected, "{\"gradients\":" + GRADIENTS + "}");
		MvcTestResult nulls = step(actual, "{\"parameters\":null,\"gradients\":" + GRADIENTS + ",\"loss\":null}");
		assertThat(nulls).hasStatusOk();
		assertThat(body(nulls)).isEqualTo(body(plain));
		assertThat(history(actual).get(0).has("loss")).isFalse();
	}

	@Test
	void patchWithNullFieldsShouldChangeOnlyTheFieldsGiven() {
		String create = "{\"optimizer\":{\"learningRate\":0.01,\"schedule\":{\"type\":\"step\",\"stepSize\":5},"
				+ "\"clipping\":{\"maxValue\":0.5},\"groups\":[{\"match\":[\"b*\"],\"beta1\":0.8}],"
				+ "\"nonFinite\":\"skip\"},\"parameters\":" + PARAMETERS + "}";
		String expected = createId(create);
		String actual = createId(create);
		assertThat(patch(expected, "{\"optimizer\":{\"beta2\":0.99}}")).hasStatusOk();
		MvcTestResult patched = patch(actual, "{\"optimizer\":{\"beta2\":0.99," + NULL_OPTIMIZER_FIELDS
			.replace("\"beta2\":null,", "") + "}}");
		assertThat(patched).hasStatusOk();
		JsonNode optimizer = read(patched).get("optimizer");
		assertThat(optimizer).isEqualTo(session(expected).get("optimizer"));
		assertThat(optimizer.get("beta2").asDouble()).isEqualTo(0.99);
		assertThat(optimizer.get("schedule").get("type").asString()).isEqualTo("step");
		assertThat(optimizer.get("clipping").get("maxValue").asDouble()).isEqualTo(0.5);
		assertThat(optimizer.get("groups").get(0).get("beta1").asDouble()).isEqualTo(0.8);
		assertThat(optimizer.get("nonFinite").asString()).isEqualTo("skip");
	}

	@Test
	void checkpointWithNullsAsAGeneratedClientSendsItShouldResumeExactly() {
		String id = createId("{\"optimizer\":{\"learningRate\":0.01,\"schedule\":{\"type\":\"cosine\",\"tMax\":10}},"
				+ "\"parameters\":" + PARAMETERS + "}");
		assertThat(step(id, "{\"gradients\":" + GRADIENTS + "}")).hasStatusOk();
		String checkpoint = body(this.mvc.get().uri("/v1/sessions/{id}/state", id).exchange());

		// what a generated client sends back: every field it knows of, those it did not get as null
		ObjectNode state = (ObjectNode) json.readTree(checkpoint);
		ObjectNode optimizer = (ObjectNode) state.get("optimizer");
		optimizer.putNull("clipping");
		optimizer.putNull("groups");
		((ObjectNode) optimizer.get("schedule")).putNull("stepSize").putNull("gamma").putNull("milestones");
		state.get("tensors").forEach(tensor -> ((ObjectNode) tensor).putNull("maxSecondMoment"));
		ObjectNode request = json.createObjectNode();
		request.set("state", state);
		request.putNull("optimizer");
		request.putNull("precision");
		request.putNull("parameters");

		MvcTestResult resumed = create(json.writeValueAsString(request));
		assertThat(resumed).as(body(resumed)).hasStatus(HttpStatus.CREATED);
		String copy = read(resumed).get("id").asString();
		assertThat(body(this.mvc.get().uri("/v1/sessions/{id}/state", copy).exchange())).isEqualTo(checkpoint);
		String gradients = "{\"gradients\":" + GRADIENTS + "}";
		assertThat(body(step(copy, gradients))).isEqualTo(body(step(id, gradients)));
	}

	// null where a value must stand is still refused

	@Test
	void nullTensorInGradientsShouldStillBeRefused() {
		String id = createId("{\"parameters\":" + PARAMETERS + "}");
		assertProblem(step(id, "{\"gradients\":{\"dW1\":null}}"), HttpStatus.BAD_REQUEST, "invalid-tensor",
				"gradients.dW1: a tensor must be a number or nested arrays of numbers, got null");
		assertProblem(step(id, "{\"gradients\":null}"), HttpStatus.BAD_REQUEST, "malformed-request",
				"gradients is required");
	}

	@Test
	void nullInARequiredFieldShouldBeReportedAsMissing() {
		String id = createId("{}");
		assertProblem(patch(id, "{\"optimizer\":null}"), HttpStatus.BAD_REQUEST, "malformed-request",
				"optimizer is required");
		assertProblem(create("{\"state\":{\"step\":null,\"tensors\":{}}}"), HttpStatus.BAD_REQUEST,
				"invalid-checkpoint", "state.step is required");
		assertProblem(create("{\"state\":{\"step\":0,\"tensors\":null}}"), HttpStatus.BAD_REQUEST,
				"invalid-checkpoint", "state.tensors is required");
		assertProblem(create("{\"optimizer\":{\"schedule\":{\"type\":null}}}"), HttpStatus.BAD_REQUEST,
				"invalid-setting", "optimizer.schedule.type is required");
	}

	@Test
	void nullAsAnElementOfAListShouldStillBeRefused() {
		assertProblem(create("{\"optimizer\":{\"schedule\":{\"type\":\"multiStep\",\"milestones\":[5,null]}}}"),
				HttpStatus.BAD_REQUEST, "malformed-request",
				"optimizer.schedule.milestones[1]: expected a whole number, got null");
		assertProblem(create("{\"optimizer\":{\"groups\":[{\"match\":[\"b*\",null]}]}}"), HttpStatus.BAD_REQUEST,
				"malformed-request", "optimizer.groups[0].match[1]: expected a string, got null");
		assertProblem(create("{\"optimizer\":{\"groups\":[null]}}"), HttpStatus.BAD_REQUEST, "invalid-setting",
				"optimizer.groups[0] must be an object, not null");
	}

	private JsonNode session(String id) {
		MvcTestResult result = this.mvc.get().uri("/v1/sessions/{id}", id).exchange();
		assertThat(result).hasStatusOk();
		return read(result);
	}

	private JsonNode history(String id) {
		MvcTestResult result = this.mvc.get().uri("/v1/sessions/{id}/history", id).exchange();
		assertThat(result).hasStatusOk();
		return read(result).get("steps");
	}

	private static void assertProblem(MvcTestResult result, HttpStatus status, String slug, String detail) {
		assertThat(result).hasStatus(status).hasContentType(MediaType.APPLICATION_PROBLEM_JSON);
		JsonNode problem = read(result);
		assertThat(problem.get("type").asString()).isEqualTo("/problems/" + slug);
		assertThat(problem.get("detail").asString()).contains(detail);
	}

}
