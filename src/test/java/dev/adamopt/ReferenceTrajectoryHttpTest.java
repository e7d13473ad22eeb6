package dev.adamopt;

import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import dev.adamopt.reference.BitExactComparison;
import dev.adamopt.reference.ReferenceCase;
import dev.adamopt.reference.ReferenceCase.Step;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.EntityExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;
import org.springframework.test.web.servlet.client.RestTestClient.RequestHeadersSpec;

import static dev.adamopt.reference.ReferenceCase.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs every torch trajectory in {@code src/test/resources/reference} through the HTTP API, in every way a client
 * can drive a session, and requires the parameters after every step and the final state to have torch's exact bits.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class ReferenceTrajectoryHttpTest {

	/** How a client drives the session. */
	enum Mode {

		/** The client holds the parameters and sends them with the gradients every step. */
		CLIENT_HELD(false, false),

		/** The session is created with the parameters; steps send gradients only, named the article's way (dW1). */
		SERVICE_HELD(true, false),

		/** As {@link #CLIENT_HELD}, checkpointed midway into a new session that finishes the run. */
		CLIENT_HELD_RESUMED_MIDWAY(false, true),

		/** As {@link #SERVICE_HELD}, checkpointed midway into a new session that finishes the run. */
		SERVICE_HELD_RESUMED_MIDWAY(true, true);

		final boolean serviceHoldsParameters;

		final boolean resumesMidway;

		Mode(boolean serviceHoldsParameters, boolean resumesMidway) {
			this.serviceHoldsParameters = serviceHoldsParameters;
			this.resumesMidway = resumesMidway;
		}

	}

	@LocalServerPort
	private int port;

	private RestTestClient http;

	@BeforeEach
	void bindClient() {
		this.http = RestTestClient.bindToServer().baseUrl("http://localhost:" + this.port).build();
	}

	static Stream<Arguments> everyReferenceCaseInEveryMode() {
		return ReferenceCase.all()
			.stream()
			.flatMap((reference) -> Stream.of(Mode.values()).map((mode) -> Arguments.of(reference, mode)));
	}

	@Test
	void referenceDirectoryShouldHoldEveryCaseOfTheReadme() {
		List<String> files = ReferenceCase.all().stream().map(ReferenceCase::file).toList();
		assertTrue(files.size() >= 11, () -> "expected at least 11 reference cases, found " + files);
	}

	@ParameterizedTest(name = "{0} {1}")
	@MethodSource("everyReferenceCaseInEveryMode")
	void serviceShouldReproduceTorchTrajectoryBitForBit(ReferenceCase reference, Mode mode) {
		BitExactComparison comparison = new BitExactComparison(reference.file() + " " + mode, reference.isFloat32());
		List<Step> steps = reference.steps();
		int resumeAfter = mode.resumesMidway ? steps.size() / 2 : -1;
		String id = createSession(reference, mode);
		JsonNode clientParameters = reference.initialParameters();

		for (Step step : steps) {
			JsonNode answer = step(id, mode.serviceHoldsParameters ? null : clientParameters, gradients(step, mode));
			assertEquals(step.number(), answer.get("step").longValue(), "the session's step count");
			JsonNode parameters = answer.get("parameters");
			assertEquals(Set.copyOf(reference.tensorNames()), Set.copyOf(parameters.propertyNames()),
					() -> "step " + step.number() + " answers every tensor");
			step.expectedParameters()
				.properties()
				.forEach((entry) -> comparison.checkTensor("step " + step.number() + " " + entry.getKey(),
						entry.getValue(), parameters.get(entry.getKey())));
			clientParameters = parameters;
			if (step.number() == resumeAfter) {
				id = checkpointAndResume(id, reference, mode, step, comparison);
			}
		}
		assertStateMatches(state(id), reference, mode, steps.get(steps.size() - 1), comparison);
		comparison.assertBitExact();
	}

	/** GETs the state, checks it, deletes the session and resumes the state in a new one, whose id it returns. */
	private String checkpointAndResume(String id, ReferenceCase reference, Mode mode, Step step,
			BitExactComparison comparison) {
		JsonNode checkpoint = state(id);
		assertStateMatches(checkpoint, reference, mode, step, comparison);
		send(this.http.delete().uri("/v1/sessions/{id}", id), HttpStatus.NO_CONTENT);
		send(this.http.get().uri("/v1/sessions/{id}/state", id), HttpStatus.NOT_FOUND);
		ObjectNode body = JSON.createObjectNode();
		body.set("state", checkpoint);
		String resumed = post("/v1/sessions", body, HttpStatus.CREATED).get("id").stringValue();
		assertNotEquals(id, resumed, "a resumed session gets a new id");
		assertSameJson("state of the resumed session", checkpoint, state(resumed));
		return resumed;
	}

	/** Checks a checkpoint against the reference after {@code step}: settings, step counts and every number. */
	private static void assertStateMatches(JsonNode checkpoint, ReferenceCase reference, Mode mode, Step step,
			BitExactComparison comparison) {
		String at = "state after step " + step.number() + " ";
		// every field resolved: the reference's, and the non-finite policy's default
		ObjectNode optimizer = ((ObjectNode) reference.optimizer()).deepCopy();
		optimizer.put("nonFinite", "error");
		assertSameJson(at + "optimizer", optimizer, checkpoint.get("optimizer"));
		assertEquals(reference.precision(), checkpoint.get("precision").stringValue(), at + "precision");
		assertEquals(step.number(), checkpoint.get("step").longValue(), at + "step");
		assertEquals(mode.serviceHoldsParameters, checkpoint.get("holdsParameters").booleanValue(),
				at + "holdsParameters");
		JsonNode tensors = checkpoint.get("tensors");
		assertEquals(Set.copyOf(reference.tensorNames()), Set.copyOf(tensors.propertyNames()), at + "tensors");
		for (String name : reference.tensorNames()) {
			JsonNode actual = tensors.get(name);
			String where = at + name + ".";
			assertEquals(reference.amsgrad(), actual.has("maxSecondMoment"),
					where + "maxSecondMoment is there exactly when amsgrad is on");
			assertEquals(mode.serviceHoldsParameters, actual.has("parameter"),
					where + "parameter is there exactly when the session holds it");
			if (mode.serviceHoldsParameters) {
				comparison.checkTensor(where + "parameter", step.expectedParameters().get(name),
						actual.get("parameter"));
			}
			JsonNode expected = step.expectedState().get(name);
			if (expected == null) {
				assertEquals(0, actual.get("step").longValue(), where + "step of a tensor that had no gradient yet");
				continue;
			}
			assertEquals(expected.get("step").longValue(), actual.get("step").longValue(), where + "step");
			for (String moment : List.of("firstMoment", "secondMoment", "maxSecondMoment")) {
				if (expected.has(moment)) {
					comparison.checkTensor(where + moment, expected.get(moment), actual.get(moment));
				}
			}
		}
	}

	// requests

	private String createSession(ReferenceCase reference, Mode mode) {
		ObjectNode body = JSON.createObjectNode();
		body.set("optimizer", reference.optimizer());
		body.put("precision", reference.precision());
		if (mode.serviceHoldsParameters) {
			body.set("parameters", reference.initialParameters());
		}
		JsonNode session = post("/v1/sessions", body, HttpStatus.CREATED);
		assertEquals(mode.serviceHoldsParameters, session.get("holdsParameters").booleanValue(), "holdsParameters");
		return session.get("id").stringValue();
	}

	/** The step's gradients, named as the tensors or, when the service holds the parameters, as {@code "d" + name}. */
	private static ObjectNode gradients(Step step, Mode mode) {
		ObjectNode gradients = JSON.createObjectNode();
		step.gradients()
			.properties()
			.forEach((entry) -> gradients.set((mode.serviceHoldsParameters ? "d" : "") + entry.getKey(),
					entry.getValue()));
		return gradients;
	}

	private JsonNode step(String id, JsonNode parameters, JsonNode gradients) {
		ObjectNode body = JSON.createObjectNode();
		if (parameters != null) {
			body.set("parameters", parameters);
		}
		body.set("gradients", gradients);
		return post("/v1/sessions/" + id + "/steps", body, HttpStatus.OK);
	}

	private JsonNode state(String id) {
		return send(this.http.get().uri("/v1/sessions/{id}/state", id), HttpStatus.OK);
	}

	private JsonNode post(String uri, JsonNode body, HttpStatus expected) {
		return send(this.http.post().uri(uri).contentType(MediaType.APPLICATION_JSON).body(JSON.writeValueAsString(body)),
				expected);
	}

	/** Sends the request, asserts the status (showing the problem body if it differs) and parses the answer. */
	private static JsonNode send(RequestHeadersSpec<?> request, HttpStatus expected) {
		EntityExchangeResult<String> result = request.exchange().returnResult(String.class);
		assertEquals(expected.value(), result.getStatus().value(),
				() -> result.getMethod() + " " + result.getUrl() + " answered " + result.getResponseBody());
		String body = result.getResponseBody();
		return (body != null) ? JSON.readTree(body) : null;
	}

	// JSON

	/** Same JSON: objects with the same keys (any order), arrays alike, numbers with the same bits. */
	private static void assertSameJson(String what, JsonNode expected, JsonNode actual) {
		if (expected.isObject() && actual.isObject()) {
			assertEquals(Set.copyOf(expected.propertyNames()), Set.copyOf(actual.propertyNames()), what + ": keys");
			expected.properties()
				.forEach((entry) -> assertSameJson(what + "." + entry.getKey(), entry.getValue(),
						actual.get(entry.getKey())));
		}
		else if (expected.isArray() && actual.isArray()) {
			assertEquals(expected.size(), actual.size(), what + ": length");
			for (int i = 0; i < expected.size(); i++) {
				assertSameJson(what + "[" + i + "]", expected.get(i), actual.get(i));
			}
		}
		else if (expected.isNumber() && actual.isNumber()) {
			if (Double.doubleToRawLongBits(expected.doubleValue()) != Double.doubleToRawLongBits(actual.doubleValue())
					|| expected.isIntegralNumber() != actual.isIntegralNumber()) {
				fail(what + ": expected " + expected + ", got " + actual);
			}
		}
		else {
			assertEquals(expected, actual, what);
		}
	}

}
