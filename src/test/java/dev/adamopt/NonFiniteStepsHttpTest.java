package dev.adamopt;

import java.net.http.HttpResponse;
import java.util.stream.Stream;

import dev.adamopt.TrainingHttp.StepAnswer;
import dev.adamopt.tensor.SafetensorsBytes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static dev.adamopt.TrainingHttp.requiredLong;
import static dev.adamopt.TrainingHttp.requiredString;
import static dev.adamopt.TrainingHttp.JSON_TYPE;
import static dev.adamopt.TrainingHttp.OCTET;
import static dev.adamopt.TrainingHttp.PROBLEM;
import static dev.adamopt.reference.ReferenceCase.JSON;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Non-finite steps over HTTP. Under {@code "nonFinite": "error"} (the default) a NaN or infinite gradient, in JSON
 * (Python's bare tokens) or in safetensors, is {@code 422 /problems/non-finite-gradient} naming the tensor and the first
 * bad flat index, and changes nothing; a step whose result would not be finite is refused or skipped the same way.
 * Every answer and checkpoint stays strict RFC 8259 JSON (read here with a strict parser).
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class NonFiniteStepsHttpTest {

	private static final int[] SHAPE = { 2, 3 };

	@LocalServerPort
	private int port;

	private TrainingHttp http;

	@BeforeEach
	void bindClient() {
		this.http = new TrainingHttp(this.port);
	}

	/** A session with the default nonFinite policy holding encoder.weight (2x3) and encoder.bias, one step taken. */
	private String steppedSession(String precision) {
		String id = this.http
			.postJson(201, "/v1/sessions", ("{\"precision\": \"" + precision + "\", \"parameters\": {"
					+ "\"encoder.weight\": [[0.5, -0.5, 1.0], [2.0, -1.0, 0.25]], \"encoder.bias\": [0.1, -0.1]}}")
				.getBytes())
			.get("id")
			.stringValue();
		this.http.postJson(200, steps(id), ("{\"gradients\": {\"encoder.weight\": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "
				+ "\"encoder.bias\": [0.01, -0.02]}, \"loss\": 1.5}").getBytes());
		return id;
	}

	static Stream<Arguments> nonFiniteJsonTokens() {
		return Stream.of(Arguments.of("NaN"), Arguments.of("Infinity"), Arguments.of("-Infinity"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("nonFiniteJsonTokens")
	void nonFiniteJsonGradientShouldBe422NamingTheTensorAndTheFirstBadIndexAndChangeNothing(String token) {
		String id = steppedSession("float64");
		Snapshot before = snapshot(id);

		// flat indices 4 and 5 are bad: the first is 4
		HttpResponse<byte[]> response = this.http.send("POST", steps(id), JSON_TYPE, JSON_TYPE,
				("{\"gradients\": {\"encoder.bias\": [0.5, 0.5], \"encoder.weight\": [[0.1, 0.2, 0.3], [0.4, " + token
						+ ", " + token + "]]}, \"loss\": 2.0}").getBytes());

		assertNonFiniteGradientProblem(response, "encoder.weight", 4);
		assertThat(snapshot(id)).as("a refused step changes nothing").isEqualTo(before);
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "float64", "float32" })
	void nonFiniteSafetensorsGradientShouldBe422NamingTheTensorAndTheFirstBadIndexAndChangeNothing(String precision) {
		String id = steppedSession(precision);
		Snapshot before = snapshot(id);
		SafetensorsBytes.Builder file = SafetensorsBytes.builder().metadata("loss", "2.0");
		if (precision.equals("float32")) {
			file.f32("encoder.weight.grad", SHAPE, 0.1f, 0.2f, Float.POSITIVE_INFINITY, 0.4f, Float.NaN, 0.6f)
				.f32("encoder.bias.grad", new int[] { 2 }, 0.5f, 0.5f);
		}
		else {
			file.f64("encoder.bias.grad", new int[] { 2 }, 0.5, 0.5)
				.f64("encoder.weight.grad", SHAPE, 0.1, 0.2, Double.NEGATIVE_INFINITY, 0.4, Double.NaN, 0.6);
		}

		HttpResponse<byte[]> response = this.http.send("POST", steps(id), OCTET, OCTET, file.build());

		assertNonFiniteGradientProblem(response, "encoder.weight", 2);
		assertThat(snapshot(id)).as("a refused step changes nothing").isEqualTo(before);
	}

	@Test
	void nonFiniteGradientOfAClientHeldSessionShouldBe422AndChangeNothing() {
		String id = this.http.postJson(201, "/v1/sessions", "{}".getBytes()).get("id").stringValue();
		String parameters = "\"parameters\": {\"encoder.weight\": [[0.5, -0.5, 1.0], [2.0, -1.0, 0.25]]}";
		this.http.postJson(200, steps(id),
				("{" + parameters + ", \"gradients\": {\"encoder.weight\": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]}}")
					.getBytes());
		Snapshot before = snapshot(id);

		HttpResponse<byte[]> response = this.http.send("POST", steps(id), JSON_TYPE, JSON_TYPE,
				("{" + parameters + ", \"gradients\": {\"encoder.weight\": [[NaN, 0.2, 0.3], [0.4, 0.5, 0.6]]}}")
					.getBytes());

		assertNonFiniteGradientProblem(response, "encoder.weight", 0);
		assertThat(snapshot(id)).isEqualTo(before);
	}

	/**
	 * {@code epsilon} 0 and a zero gradient: torch's update is 0 / 0 = NaN. Under {@code error} the step is refused
	 * (422), under {@code skip} it is skipped (200, {@code skipped}); either way nothing changes and no NaN reaches an
	 * answer or a checkpoint.
	 */
	@ParameterizedTest(name = "nonFinite {0}")
	@ValueSource(strings = { "error", "skip" })
	void stepWhoseResultWouldNotBeFiniteShouldBeRefusedOrSkippedAndChangeNothing(String policy) {
		String id = this.http
			.postJson(201, "/v1/sessions", ("{\"optimizer\": {\"epsilon\": 0.0, \"nonFinite\": \"" + policy
					+ "\"}, \"parameters\": {\"w\": [1.0, 2.0]}}").getBytes())
			.get("id")
			.stringValue();
		Snapshot before = snapshot(id);

		HttpResponse<byte[]> response = this.http.send("POST", steps(id), JSON_TYPE, JSON_TYPE,
				"{\"gradients\": {\"w\": [0.0, 1.0]}}".getBytes());

		if (policy.equals("error")) {
			assertThat(response.statusCode()).as(TrainingHttp.text(response.body())).isEqualTo(422);
			assertThat(TrainingHttp.contentType(response)).isEqualTo(PROBLEM);
			assertThat(requiredString(JSON.readTree(response.body()), "detail")).contains("'w'");
			assertThat(snapshot(id)).isEqualTo(before);
		}
		else {
			assertThat(response.statusCode()).as(TrainingHttp.text(response.body())).isEqualTo(200);
			StepAnswer answer = StepAnswer.ofJson(JSON.readTree(response.body()));
			assertThat(answer.skipped()).isTrue();
			assertThat(answer.step()).isZero();
			assertThat(answer.parameters().get("w")).isEqualTo(JSON.readTree("[1.0, 2.0]"));
			assertThat(snapshot(id).state()).as("only the skipped-step count changes")
				.isEqualTo(withoutSkippedSteps(before.state()));
			assertThat(snapshot(id).skippedSteps()).isEqualTo(1);
		}
	}

	@Test
	void skippedStepsShouldBeCountedInTheSessionView() {
		String id = this.http
			.postJson(201, "/v1/sessions",
					"{\"optimizer\": {\"nonFinite\": \"skip\"}, \"parameters\": {\"w\": [1.0, 2.0]}}".getBytes())
			.get("id")
			.stringValue();
		assertThat(snapshot(id).skippedSteps()).isZero();

		for (String gradient : new String[] { "[NaN, 1.0]", "[0.5, 0.5]", "[1.0, -Infinity]", "[Infinity, NaN]" }) {
			this.http.postJson(200, steps(id), ("{\"gradients\": {\"w\": " + gradient + "}}").getBytes());
		}

		JsonNode view = this.http.getJson("/v1/sessions/" + id);
		assertThat(requiredLong(view, "skippedSteps")).isEqualTo(3);
		assertThat(requiredLong(view, "step")).as("only one step was applied").isEqualTo(1);
		assertThat(requiredString(view.path("optimizer"), "nonFinite")).isEqualTo("skip");
	}

	@Test
	void sessionViewShouldShowTheDefaultNonFinitePolicy() {
		String id = this.http.postJson(201, "/v1/sessions", "{}".getBytes()).get("id").stringValue();

		JsonNode view = this.http.getJson("/v1/sessions/" + id);

		assertThat(requiredString(view.path("optimizer"), "nonFinite")).isEqualTo("error");
	}

	// ---- helpers ----------------------------------------------------------------------------------------------

	private static void assertNonFiniteGradientProblem(HttpResponse<byte[]> response, String tensor, int index) {
		String body = TrainingHttp.text(response.body());
		assertThat(response.statusCode()).as(body).isEqualTo(422);
		assertThat(TrainingHttp.contentType(response)).as(body).isEqualTo(PROBLEM);
		JsonNode problem = JSON.readTree(response.body());
		assertThat(requiredString(problem, "type")).as(body).endsWith("/problems/non-finite-gradient");
		assertThat(requiredLong(problem, "status")).isEqualTo(422);
		assertThat(requiredString(problem, "detail")).as("the detail names the tensor and the first bad index")
			.contains(tensor)
			.containsPattern("index " + index + "\\b");
	}

	/** What a step must not change: the JSON checkpoint, the view's step and skipped steps, the history. */
	private record Snapshot(JsonNode state, long step, long skippedSteps, JsonNode history) {

	}

	private Snapshot snapshot(String id) {
		JsonNode view = this.http.getJson("/v1/sessions/" + id);
		return new Snapshot(withoutSkippedSteps(this.http.getJson("/v1/sessions/" + id + "/state")),
				requiredLong(view, "step"), requiredLong(view, "skippedSteps"),
				this.http.getJson("/v1/sessions/" + id + "/history"));
	}

	/** The checkpoint without its count of skipped steps (where it carries one), which a skipped step changes. */
	private static JsonNode withoutSkippedSteps(JsonNode state) {
		ObjectNode copy = (ObjectNode) state.deepCopy();
		copy.remove("skippedSteps");
		return copy;
	}

	private static String steps(String id) {
		return "/v1/sessions/" + id + "/steps";
	}

}
