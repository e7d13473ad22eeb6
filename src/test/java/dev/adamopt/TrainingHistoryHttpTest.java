package dev.adamopt;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import dev.adamopt.TrainingHttp.StepAnswer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static dev.adamopt.TrainingHttp.requiredLong;
import static dev.adamopt.TrainingHttp.requiredDouble;
import static dev.adamopt.TrainingHttp.requiredBoolean;
import static dev.adamopt.TrainingHttp.requiredString;
import static dev.adamopt.TrainingHttp.JSON_TYPE;
import static dev.adamopt.TrainingHttp.NODES;
import static dev.adamopt.TrainingHttp.PROBLEM;
import static dev.adamopt.reference.ReferenceCase.JSON;
import static dev.adamopt.reference.ReferenceCase.PYTHON_JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code GET /v1/sessions/{id}/history} over HTTP after a short run of a session with a schedule, clipping and
 * {@code "nonFinite": "skip"}: one entry per step, oldest first, each with what its step answered, the loss as it was
 * sent, a skipped step's entry, and {@code since}.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class TrainingHistoryHttpTest {

	/** Every field an entry may have. */
	private static final Set<String> FIELDS = Set.of("step", "time", "learningRate", "gradNorm", "updateNorm", "loss",
			"clipped", "skipped", "durationMicros");

	@LocalServerPort
	private int port;

	private TrainingHttp http;

	@BeforeEach
	void bindClient() {
		this.http = new TrainingHttp(this.port);
	}

	/** A step of the run: its gradients as JSON text (Python's tokens for non-finite values) and its loss. */
	private record Sent(String gradients, Double loss) {

	}

	/** What the run sent and was answered, and when it ran. */
	private record RunResult(String id, List<Sent> sent, List<StepAnswer> answers, Instant started, Instant ended) {

	}

	/**
	 * Five steps of a session that holds {@code w} and {@code b}: learning rate 0.1 halved after every applied step
	 * (StepLR, step size 1, gamma 0.5), clipping by norm 1.0, skipping non-finite steps. Step 2 is clipped (norm 5),
	 * step 3 holds a NaN and is skipped, step 4 sends no loss.
	 */
	private RunResult run() {
		ObjectNode create = NODES.objectNode();
		ObjectNode optimizer = create.putObject("optimizer");
		optimizer.put("learningRate", 0.1);
		optimizer.putObject("schedule").put("type", "step").put("stepSize", 1).put("gamma", 0.5);
		optimizer.putObject("clipping").put("maxNorm", 1.0);
		optimizer.put("nonFinite", "skip");
		ObjectNode parameters = create.putObject("parameters");
		parameters.putArray("w").add(1.0).add(-2.0);
		parameters.put("b", 0.5);
		String id = this.http.postJson(201, "/v1/sessions", JSON.writeValueAsBytes(create)).get("id").stringValue();

		List<Sent> sent = List.of(new Sent("{\"w\": [0.3, -0.4], \"b\": 0.1}", 2.5),
				new Sent("{\"w\": [3.0, 4.0], \"b\": 0.0}", 0.1 + 0.2),
				new Sent("{\"w\": [NaN, 1.0], \"b\": 0.0}", 1.75),
				new Sent("{\"w\": [0.01, 0.02], \"b\": -0.03}", null),
				new Sent("{\"w\": [0.2, 0.1], \"b\": 0.05}", 0.5));
		List<StepAnswer> answers = new ArrayList<>();
		Instant started = Instant.now();
		for (Sent step : sent) {
			ObjectNode body = NODES.objectNode();
			body.set("gradients", PYTHON_JSON.readTree(step.gradients()));
			if (step.loss() != null) {
				body.put("loss", step.loss());
			}
			answers.add(StepAnswer.ofJson(
					this.http.postJson(200, "/v1/sessions/" + id + "/steps", PYTHON_JSON.writeValueAsBytes(body))));
		}
		Instant ended = Instant.now();
		return new RunResult(id, sent, answers, started, ended);
	}

	@Test
	void historyShouldHaveOneEntryPerStepOldestFirstWithWhatEachStepAnsweredAndTheLossAsSent() {
		RunResult run = run();

		JsonNode history = this.http.getJson("/v1/sessions/" + run.id() + "/history");

		assertThat(history.propertyNames()).containsExactly("steps");
		JsonNode entries = history.get("steps");
		assertThat(entries.isArray()).isTrue();
		assertThat(entries).as("one entry per step, the skipped one included: %s", entries).hasSize(5);
		Instant previous = Instant.MIN;
		long longest = Duration.between(run.started(), run.ended()).toNanos() / 1000;
		for (int i = 0; i < entries.size(); i++) {
			JsonNode entry = entries.get(i);
			StepAnswer answer = run.answers().get(i);
			String at = "entry " + i + " " + entry;
			assertThat(FIELDS).as(at + ": fields").containsAll(entry.propertyNames());
			assertThat(requiredBoolean(entry, "skipped")).as(at + ": skipped").isEqualTo(answer.skipped());
			Double loss = run.sent().get(i).loss();
			if (loss == null) {
				assertThat(entry.path("loss").isMissingNode() || entry.get("loss").isNull())
					.as(at + ": no loss sent, none recorded")
					.isTrue();
			}
			else {
				assertThat(entry.path("loss").isNumber()).as(at + ": loss").isTrue();
				assertThat(entry.get("loss").doubleValue()).as(at + ": the loss as sent, bit for bit").isEqualTo(loss);
			}
			Instant time = Instant.parse(requiredString(entry, "time"));
			assertThat(time).as(at + ": time, oldest first").isAfterOrEqualTo(previous);
			assertThat(time).as(at + ": time within the run")
				.isBetween(run.started().minusSeconds(1), run.ended().plusSeconds(1));
			previous = time;
			assertThat(entry.path("durationMicros").isIntegralNumber()).as(at + ": durationMicros").isTrue();
			assertThat(entry.get("durationMicros").longValue()).as(at + ": durationMicros, within the request's time")
				.isBetween(0L, longest + 1_000_000);
			if (answer.skipped()) {
				continue;
			}
			assertThat(requiredLong(entry, "step")).as(at + ": step").isEqualTo(answer.step());
			assertThat(requiredDouble(entry, "learningRate")).as(at + ": learningRate")
				.isEqualTo(answer.learningRate());
			assertThat(requiredDouble(entry, "gradNorm")).as(at + ": gradNorm").isEqualTo(answer.gradNorm());
			assertThat(requiredDouble(entry, "updateNorm")).as(at + ": updateNorm").isEqualTo(answer.updateNorm());
			assertThat(requiredBoolean(entry, "clipped")).as(at + ": clipped").isEqualTo(answer.clipped());
		}

		// what the steps answered, so what the history holds, is the session's real behaviour
		List<Long> steps = new ArrayList<>();
		entries.forEach((entry) -> steps.add(requiredLong(entry, "step")));
		assertThat(steps.get(0)).isEqualTo(1);
		assertThat(steps.get(1)).isEqualTo(2);
		assertThat(steps.get(2)).as("the skipped step's entry: the step count it left").isBetween(2L, 3L);
		assertThat(steps.get(3)).isEqualTo(3);
		assertThat(steps.get(4)).isEqualTo(4);
		assertThat(requiredBoolean(entries.get(2), "skipped")).as("step 3 sent a NaN").isTrue();
		assertThat(requiredDouble(entries.get(2), "loss")).isEqualTo(1.75);
		double[] rates = { 0.1, 0.05, 0.025, 0.0125 };
		int[] applied = { 0, 1, 3, 4 };
		for (int i = 0; i < rates.length; i++) {
			assertThat(requiredDouble(entries.get(applied[i]), "learningRate"))
				.as("the schedule halves the rate after each applied step, not after the skipped one")
				.isCloseTo(rates[i], within(1e-15));
		}
		assertThat(requiredDouble(entries.get(0), "gradNorm")).isCloseTo(Math.sqrt(0.09 + 0.16 + 0.01),
				within(1e-15));
		assertThat(requiredDouble(entries.get(1), "gradNorm")).as("before clipping").isCloseTo(5.0, within(1e-15));
		assertThat(requiredBoolean(entries.get(0), "clipped")).as("norm 0.51 is below 1.0").isFalse();
		assertThat(requiredBoolean(entries.get(1), "clipped")).as("norm 5 is above 1.0").isTrue();
		for (int i : applied) {
			assertThat(requiredDouble(entries.get(i), "updateNorm")).as("entry %d moved the parameters", i)
				.isPositive();
		}
	}

	@Test
	void historySinceAStepShouldAnswerOnlyTheEntriesAfterIt() {
		RunResult run = run();
		String path = "/v1/sessions/" + run.id() + "/history";
		JsonNode all = this.http.getJson(path).get("steps");
		assertThat(all).hasSize(5);

		for (long since = 0; since <= 5; since++) {
			ArrayNode expected = NODES.arrayNode();
			for (JsonNode entry : all) {
				if (requiredLong(entry, "step") > since) {
					expected.add(entry);
				}
			}
			JsonNode answered = this.http.getJson(path + "?since=" + since).get("steps");
			assertThat(answered).as("since=%d: the entries whose step is greater, oldest first", since)
				.isEqualTo(expected);
		}
		assertThat(this.http.getJson(path + "?since=0").get("steps")).as("since=0: every entry").isEqualTo(all);
		assertThat(this.http.getJson(path + "?since=2").get("steps")).as("since=2: the entries of steps 3 and 4")
			.hasSizeBetween(2, 3);
		assertThat(this.http.getJson(path + "?since=4").get("steps")).as("since the latest step: nothing new")
			.isEmpty();
	}

	@Test
	void historyOfANewSessionShouldBeEmpty() {
		String id = this.http.postJson(201, "/v1/sessions", "{}".getBytes()).get("id").stringValue();

		JsonNode history = this.http.getJson("/v1/sessions/" + id + "/history");

		assertThat(history.get("steps")).isEmpty();
	}

	@Test
	void historyOfAnUnknownSessionShouldBeTheSessionNotFoundProblem() {
		byte[] body = this.http.expect(404, "GET", "/v1/sessions/00000000-0000-0000-0000-000000000000/history", null,
				JSON_TYPE, null);

		JsonNode problem = JSON.readTree(body);
		assertThat(requiredString(problem, "type")).isEqualTo("/problems/session-not-found");
	}

	@Test
	void historySinceSomethingOtherThanANumberShouldBeA400ProblemNamingSince() {
		String id = this.http.postJson(201, "/v1/sessions", "{}".getBytes()).get("id").stringValue();

		var response = this.http.send("GET", "/v1/sessions/" + id + "/history?since=yesterday", null, JSON_TYPE, null);

		assertThat(response.statusCode()).as(TrainingHttp.text(response.body())).isEqualTo(400);
		assertThat(TrainingHttp.contentType(response)).isEqualTo(PROBLEM);
		assertThat(requiredString(JSON.readTree(response.body()), "detail")).contains("since");
	}

}
