package dev.adamopt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import dev.adamopt.TrainingHttp.StepAnswer;
import dev.adamopt.reference.BitExactComparison;
import dev.adamopt.reference.ReferenceCase;
import dev.adamopt.reference.ReferenceCase.Step;
import dev.adamopt.tensor.SafetensorsBytes;
import dev.adamopt.training.TensorGlob;
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

import static dev.adamopt.TrainingHttp.requiredLong;
import static dev.adamopt.TrainingHttp.requiredDouble;
import static dev.adamopt.TrainingHttp.requiredBoolean;
import static dev.adamopt.TrainingHttp.requiredString;
import static dev.adamopt.TrainingHttp.JSON_TYPE;
import static dev.adamopt.TrainingHttp.NODES;
import static dev.adamopt.TrainingHttp.OCTET;
import static dev.adamopt.reference.ReferenceCase.JSON;
import static dev.adamopt.reference.ReferenceCase.PYTHON_JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Runs every torch trajectory of the training features ({@code src/test/resources/reference/training}: schedules,
 * clipping, parameter groups, skipped non-finite steps) through the HTTP API, in every way a client drives a session
 * (it or the service holds the parameters; JSON or safetensors bodies; checkpointed and resumed twice, before and after
 * the schedules' boundaries), and holds every step to torch: the parameters and the final state within the README's
 * tolerances, the learning rate used, the gradient norms, the update's norm, {@code clipped} and {@code skipped}; the
 * session view's learning rate, schedule position, groups and skipped steps; and the history to the answers.
 * <p>
 * Tolerances (the README's, and the issue's for the statistics): parameters and moments float64 1e-12 absolute,
 * float32 {@code |a - b| <= 1e-5 * max(1, |b|)}; learning rates 1e-12 relative in both precisions (a learning rate is
 * a double in torch too); {@code gradNorm}, {@code totalNorm} and {@code updateNorm} 1e-12 relative in float64 and
 * 1e-5 relative in float32, where torch itself reduces in float and a float32 session may too. {@code updateNorm} is
 * held to the change of torch's parameters in float64; in float32 to the change of the parameters the service
 * answered (held to torch by the float32 tolerance), since 1e-5 of a parameter is more than 1e-5 of an update.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class TrainingReferenceHttpTest {

	/** float64 statistics and every learning rate: relative tolerance. */
	private static final double RELATIVE = 1e-12;

	/** float32 statistics: relative tolerance, the README's float32 tolerance. */
	private static final double RELATIVE_FLOAT32 = 1e-5;

	/** {@code clip_grad_norm_} divides by {@code total_norm + 1e-6}. */
	private static final double CLIP_EPSILON = 1e-6;

	/** Who holds the parameters. */
	enum Holder {

		/** The client sends the parameters with the gradients every step. */
		CLIENT,

		/** The session holds them; steps send gradients only ({@code dW1} in JSON, {@code W1.grad} in safetensors). */
		SERVICE

	}

	/** How tensors travel. */
	enum Body {

		/** JSON requests and answers; non-finite gradients as Python's bare tokens. */
		JSON,

		/**
		 * Safetensors steps and answers, the loss and the statistics in {@code __metadata__}; checkpoints in
		 * safetensors; a service-held session gets its parameters by a safetensors PUT.
		 */
		SAFETENSORS

	}

	/**
	 * One way to drive a session.
	 *
	 * @param holder who holds the parameters
	 * @param resumes whether the run is checkpointed and resumed in a new session, at {@link #resumePoints}
	 * @param body how tensors travel
	 */
	record Mode(Holder holder, boolean resumes, Body body) {

		boolean serviceHolds() {
			return this.holder == Holder.SERVICE;
		}

		@Override
		public String toString() {
			return this.holder.name().toLowerCase() + "-held " + (this.resumes ? "resumed " : "") + this.body;
		}

	}

	@LocalServerPort
	private int port;

	private TrainingHttp http;

	@BeforeEach
	void bindClient() {
		this.http = new TrainingHttp(this.port);
	}

	static Stream<Arguments> everyTrainingCaseInEveryMode() {
		List<Mode> modes = new ArrayList<>();
		for (Holder holder : Holder.values()) {
			for (boolean resumes : new boolean[] { false, true }) {
				for (Body body : Body.values()) {
					modes.add(new Mode(holder, resumes, body));
				}
			}
		}
		return ReferenceCase.training()
			.stream()
			.flatMap((reference) -> modes.stream().map((mode) -> Arguments.of(reference, mode)));
	}

	/**
	 * The steps after which a resumed run is checkpointed and resumed in a new session: after step 2 (before the
	 * schedules' first boundaries: SequentialLR's milestone, the first warm restart, StepLR's first decay, the end of
	 * LinearLR's warm-up, so that a resumed session crosses them) and after half the run (past them, within a later
	 * phase: the cosine after the warm-up, the third warm-restart cycle).
	 */
	static List<Integer> resumePoints(ReferenceCase reference) {
		return List.of(2, reference.steps().size() / 2);
	}

	// ---- the cases and the resume points ---------------------------------------------------------------------

	@Test
	void trainingDirectoryShouldHoldACaseForEveryFeatureOfTheIssue() {
		List<ReferenceCase> cases = ReferenceCase.training();
		assertThat(cases).as("training reference cases").hasSizeGreaterThanOrEqualTo(15);
		Set<String> schedules = new TreeSet<>();
		Set<String> clippings = new TreeSet<>();
		boolean groups = false;
		boolean skips = false;
		boolean float32 = false;
		for (ReferenceCase reference : cases) {
			collectScheduleTypes(reference.schedule(), schedules);
			JsonNode clipping = reference.optimizer().get("clipping");
			if (clipping != null) {
				clippings.add(clipping.has("maxValue") ? "value" : "norm " + clipping.path("normType").asString("2"));
			}
			groups |= reference.optimizer().has("groups");
			skips |= reference.steps().stream().anyMatch(Step::skipped);
			float32 |= reference.isFloat32();
		}
		assertThat(schedules).containsExactlyInAnyOrder("step", "multiStep", "exponential", "cosine",
				"cosineWarmRestarts", "linear", "sequential");
		assertThat(clippings).contains("value", "norm 2", "norm 1", "norm inf");
		assertThat(groups).as("a case with parameter groups").isTrue();
		assertThat(skips).as("a case with skipped steps").isTrue();
		assertThat(float32).as("a float32 case").isTrue();
	}

	@Test
	void resumePointsShouldCheckpointBeforeAndAfterTheScheduleBoundaries() {
		ReferenceCase warmup = trainingCase("schedule-warmup-then-cosine");
		int milestone = warmup.schedule().get("milestones").get(0).intValue();
		List<Integer> positions = resumePoints(warmup).stream().map((point) -> position(warmup, point)).toList();
		assertThat(positions).as("schedule positions at the resume points of %s", warmup)
			.anyMatch((position) -> position < milestone)
			.anyMatch((position) -> position > milestone);

		ReferenceCase restarts = trainingCase("schedule-cosine-warm-restarts");
		List<Integer> boundaries = warmRestarts(restarts.schedule(), restarts.steps().size());
		List<Integer> restartPositions = resumePoints(restarts).stream()
			.map((point) -> position(restarts, point))
			.toList();
		assertThat(restartPositions).as("positions at the resume points of %s; restarts at %s", restarts, boundaries)
			.anyMatch((position) -> position < boundaries.get(0))
			.anyMatch((position) -> position > boundaries.get(0) && !boundaries.contains(position));

		ReferenceCase skipping = trainingCase("nonfinite-skip");
		assertThat(resumePoints(skipping)).as("a resumed session of %s meets skipped steps", skipping)
			.allMatch((point) -> skipping.steps().stream().skip(point).anyMatch(Step::skipped));
	}

	// ---- every case, every mode ------------------------------------------------------------------------------

	@ParameterizedTest(name = "{0} {1}")
	@MethodSource("everyTrainingCaseInEveryMode")
	void serviceShouldFollowTorchThroughEveryTrainingCase(ReferenceCase reference, Mode mode) {
		Run run = new Run(reference, mode);
		run.create();
		List<Integer> resumePoints = mode.resumes() ? resumePoints(reference) : List.of();
		for (Step step : reference.steps()) {
			run.step(step);
			if (resumePoints.contains(step.number())) {
				run.checkpointAndResume(step);
			}
		}
		Step last = reference.steps().get(reference.steps().size() - 1);
		assertState(run.comparison, "final state", this.http.getJson(state(run.id)), reference, mode, last,
				run.applied, null);
		if (!mode.resumes()) {
			run.assertHistory();
		}
		run.comparison.assertWithinTolerance();
	}

	/** One run of a case in a mode: the session, what the client knows, what it sent and what it was answered. */
	private final class Run {

		final ReferenceCase reference;

		final Mode mode;

		final BitExactComparison comparison;

		final double tolerance;

		String id;

		/** The parameters as the service last answered them (at first the initial ones). */
		JsonNode parameters;

		/** Torch's parameters before the current step. */
		JsonNode torchParameters;

		/** Applied (not skipped) steps so far: the session's step count and the schedule's position. */
		int applied;

		int skipped;

		final List<Double> losses = new ArrayList<>();

		final List<StepAnswer> answers = new ArrayList<>();

		Run(ReferenceCase reference, Mode mode) {
			this.reference = reference;
			this.mode = mode;
			this.comparison = new BitExactComparison(reference.file() + " " + mode, reference.isFloat32());
			this.tolerance = reference.isFloat32() ? RELATIVE_FLOAT32 : RELATIVE;
			this.parameters = reference.initialParameters();
			this.torchParameters = reference.initialParameters();
		}

		void create() {
			ObjectNode body = NODES.objectNode();
			body.set("optimizer", this.reference.optimizer());
			body.put("precision", this.reference.precision());
			boolean putLater = this.mode.serviceHolds() && this.mode.body() == Body.SAFETENSORS;
			if (this.mode.serviceHolds() && !putLater) {
				body.set("parameters", this.reference.initialParameters());
			}
			JsonNode session = TrainingReferenceHttpTest.this.http.postJson(201, "/v1/sessions",
					JSON.writeValueAsBytes(body));
			this.id = session.get("id").stringValue();
			if (putLater) {
				TrainingReferenceHttpTest.this.http.expect(204, "PUT", "/v1/sessions/" + this.id + "/parameters",
						OCTET, JSON_TYPE, safetensors(this.reference.initialParameters(), null, null));
			}
			assertView(null);
		}

		void step(Step step) {
			String at = this.reference + " " + this.mode + " step " + step.number();
			JsonNode stateBefore = step.skipped() ? TrainingReferenceHttpTest.this.http.getJson(state(this.id)) : null;
			double loss = 1.0 / 3 + 0.1 * step.number();
			this.losses.add(loss);
			StepAnswer answer = send(step, loss);
			this.answers.add(answer);

			assertThat(answer.skipped()).as(at + ": skipped").isEqualTo(step.skipped());
			assertThat(answer.parameters().propertyNames()).as(at + ": the answer names every tensor")
				.containsExactlyInAnyOrderElementsOf(this.reference.tensorNames());
			if (step.skipped()) {
				this.skipped++;
				assertThat(answer.step()).as(at + ": a skipped step leaves the step count").isEqualTo(this.applied);
				for (String name : this.reference.tensorNames()) {
					assertSameBits(at + ": skipped, " + name + " is as it was", this.parameters.get(name),
							answer.parameters().get(name));
				}
				assertUnchangedButCounted(at, stateBefore, TrainingReferenceHttpTest.this.http.getJson(state(this.id)));
			}
			else {
				this.applied++;
				assertThat(answer.step()).as(at + ": step count").isEqualTo(this.applied);
				assertStatistics(at, step, answer);
			}
			step.expectedParameters()
				.properties()
				.forEach((entry) -> this.comparison.checkTensor("step " + step.number() + " " + entry.getKey(),
						entry.getValue(), answer.parameters().get(entry.getKey())));
			this.parameters = answer.parameters();
			this.torchParameters = step.expectedParameters();
			assertView(step);
		}

		/**
		 * A skipped step changes nothing in the checkpoint (tensors, moments, step counts, the schedule's position,
		 * the learning rates) but the count of skipped steps, where the checkpoint carries it.
		 */
		private void assertUnchangedButCounted(String at, JsonNode before, JsonNode after) {
			ObjectNode expected = (ObjectNode) before.deepCopy();
			ObjectNode actual = (ObjectNode) after.deepCopy();
			JsonNode skippedBefore = expected.remove("skippedSteps");
			JsonNode skippedAfter = actual.remove("skippedSteps");
			assertThat(actual).as(at + ": a skipped step changes nothing in the checkpoint").isEqualTo(expected);
			if (skippedBefore != null || skippedAfter != null) {
				assertThat(skippedAfter).as(at + ": skippedSteps in the checkpoint after the step").isNotNull();
				assertThat(skippedBefore).as(at + ": skippedSteps in the checkpoint before the step").isNotNull();
				assertThat(skippedAfter.longValue()).as(at + ": the checkpoint's skippedSteps counts the step")
					.isEqualTo(skippedBefore.longValue() + 1);
			}
		}

		private StepAnswer send(Step step, double loss) {
			String path = "/v1/sessions/" + this.id + "/steps";
			if (this.mode.body() == Body.JSON) {
				ObjectNode body = NODES.objectNode();
				if (!this.mode.serviceHolds()) {
					body.set("parameters", this.parameters);
				}
				ObjectNode gradients = body.putObject("gradients");
				step.gradients()
					.properties()
					.forEach((entry) -> gradients.set((this.mode.serviceHolds() ? "d" : "") + entry.getKey(),
							entry.getValue()));
				body.put("loss", loss);
				// NaN and infinities as bare tokens, as Python's json writes them
				return StepAnswer.ofJson(TrainingReferenceHttpTest.this.http.postJson(200, path,
						PYTHON_JSON.writeValueAsBytes(body)));
			}
			byte[] file = safetensors(this.mode.serviceHolds() ? null : this.parameters, step.gradients(),
					Double.toString(loss));
			return StepAnswer.ofSafetensors(
					TrainingReferenceHttpTest.this.http.expect(200, "POST", path, OCTET, OCTET, file), dtype());
		}

		private void assertStatistics(String at, Step step, StepAnswer answer) {
			assertThat(answer.learningRate()).as(at + ": learningRate in the answer").isNotNull();
			assertClose(at + ": learningRate", step.expectedLearningRate(), answer.learningRate(), RELATIVE);

			assertThat(answer.gradNorm()).as(at + ": gradNorm in the answer").isNotNull();
			assertClose(at + ": gradNorm, the L2 norm of the gradients sent", l2(step.gradients()), answer.gradNorm(),
					this.tolerance);

			if (step.expectedGradNorm() != null) {
				assertThat(answer.totalNorm()).as(at + ": totalNorm in the answer (clipping by norm)").isNotNull();
				assertClose(at + ": totalNorm, torch's clip_grad_norm_", step.expectedGradNorm(), answer.totalNorm(),
						this.tolerance);
			}
			else {
				assertThat(answer.totalNorm()).as(at + ": totalNorm only with clipping by norm").isNull();
			}

			assertThat(answer.updateNorm()).as(at + ": updateNorm in the answer").isNotNull();
			double update = this.reference.isFloat32() ? l2Difference(this.parameters, answer.parameters())
					: l2Difference(this.torchParameters, step.expectedParameters());
			assertClose(at + ": updateNorm", update, answer.updateNorm(), this.tolerance);

			assertThat(answer.clipped()).as(at + ": clipped").isEqualTo(expectedClipped(step));
		}

		/** Whether torch's clipping changed the gradients of this step. */
		private boolean expectedClipped(Step step) {
			JsonNode clipping = this.reference.optimizer().get("clipping");
			if (clipping == null) {
				return false;
			}
			if (clipping.has("maxNorm")) {
				return clipping.get("maxNorm").doubleValue() / (step.expectedGradNorm() + CLIP_EPSILON) < 1;
			}
			double maxValue = clipping.get("maxValue").doubleValue();
			for (JsonNode gradient : step.gradients()) {
				for (double g : ReferenceCase.flatten(gradient)) {
					if (Math.abs(g) > maxValue) {
						return true;
					}
				}
			}
			return false;
		}

		/**
		 * The session view after {@code step} ({@code null}: before the first): step count, skipped steps, the
		 * learning rate the next applied step will use, the schedule's position, each tensor's group.
		 */
		void assertView(Step step) {
			String at = this.reference + " " + this.mode + " view after step " + ((step == null) ? 0 : step.number());
			JsonNode view = TrainingReferenceHttpTest.this.http.getJson("/v1/sessions/" + this.id);
			assertThat(requiredLong(view, "step")).as(at + ": step").isEqualTo(this.applied);
			assertThat(view.path("skippedSteps").isIntegralNumber()).as(at + ": skippedSteps in %s", view).isTrue();
			assertThat(view.get("skippedSteps").longValue()).as(at + ": skippedSteps").isEqualTo(this.skipped);
			assertLearningRate(at, this.reference, view.get("optimizer"), this.applied,
					nextLearningRate(this.reference, (step == null) ? 0 : step.number()));
			assertOptimizer(at + ": optimizer", this.reference, view.get("optimizer"));
			JsonNode groups = this.reference.optimizer().get("groups");
			for (JsonNode tensor : view.get("tensors")) {
				String name = tensor.get("name").stringValue();
				Integer group = (groups == null) ? null : group(groups, name);
				if (group == null) {
					assertThat(tensor.has("group")).as(at + ": %s is in the default group: no 'group' in %s", name,
							tensor).isFalse();
				}
				else {
					assertThat(tensor.path("group").isIntegralNumber()).as(at + ": group of %s in %s", name, tensor)
						.isTrue();
					assertThat(tensor.get("group").intValue()).as(at + ": group of %s", name).isEqualTo(group);
				}
			}
			if (this.mode.serviceHolds() || step != null) {
				assertThat(view.get("tensors")).as(at + ": tensors fixed").hasSize(this.reference.tensorNames().size());
			}
		}

		/**
		 * Checkpoints the session (in the mode's format), checks the checkpoint against torch after {@code step},
		 * deletes the session and resumes the checkpoint in a new one, which must hold the same state.
		 */
		void checkpointAndResume(Step step) {
			String path = state(this.id);
			JsonNode checkpoint = TrainingReferenceHttpTest.this.http.getJson(path);
			assertState(this.comparison, "checkpoint after step " + step.number(), checkpoint, this.reference,
					this.mode, step, this.applied, nextLearningRate(this.reference, step.number()));
			byte[] binary = (this.mode.body() == Body.SAFETENSORS)
					? TrainingReferenceHttpTest.this.http.expect(200, "GET", path, null, OCTET, null) : null;
			TrainingReferenceHttpTest.this.http.expect(204, "DELETE", "/v1/sessions/" + this.id, null, null, null);

			String resumed;
			if (binary != null) {
				resumed = JSON.readTree(TrainingReferenceHttpTest.this.http.expect(201, "POST", "/v1/sessions", OCTET,
						JSON_TYPE, binary))
					.get("id")
					.stringValue();
				assertThat(TrainingReferenceHttpTest.this.http.expect(200, "GET", state(resumed), null, OCTET, null))
					.as("the resumed session's safetensors checkpoint")
					.isEqualTo(binary);
			}
			else {
				ObjectNode body = NODES.objectNode();
				body.set("state", checkpoint);
				resumed = TrainingReferenceHttpTest.this.http
					.postJson(201, "/v1/sessions", JSON.writeValueAsBytes(body))
					.get("id")
					.stringValue();
			}
			assertThat(resumed).isNotEqualTo(this.id);
			assertThat(TrainingReferenceHttpTest.this.http.getJson(state(resumed)))
				.as("the resumed session's checkpoint")
				.isEqualTo(checkpoint);
			this.id = resumed;
			assertView(step);
		}

		/** The history of a run that was not resumed: one entry per step, each what its step answered. */
		void assertHistory() {
			String at = this.reference + " " + this.mode + " history";
			JsonNode history = TrainingReferenceHttpTest.this.http.getJson("/v1/sessions/" + this.id + "/history");
			JsonNode entries = history.get("steps");
			assertThat(entries).as(at).isNotNull();
			assertThat(entries.size()).as(at + ": one entry per step").isEqualTo(this.answers.size());
			int applied = 0;
			for (int i = 0; i < entries.size(); i++) {
				JsonNode entry = entries.get(i);
				StepAnswer answer = this.answers.get(i);
				String where = at + " entry " + i + " " + entry;
				assertThat(requiredBoolean(entry, "skipped")).as(where + ": skipped").isEqualTo(answer.skipped());
				assertThat(requiredDouble(entry, "loss")).as(where + ": loss as sent").isEqualTo(this.losses.get(i));
				if (answer.skipped()) {
					assertThat(requiredLong(entry, "step")).as(where + ": step").isBetween((long) applied,
							applied + 1L);
					continue;
				}
				applied++;
				assertThat(requiredLong(entry, "step")).as(where + ": step").isEqualTo(applied);
				assertThat(requiredDouble(entry, "learningRate")).as(where + ": learningRate")
					.isEqualTo(answer.learningRate());
				assertThat(requiredDouble(entry, "gradNorm")).as(where + ": gradNorm")
					.isEqualTo(answer.gradNorm());
				assertThat(requiredDouble(entry, "updateNorm")).as(where + ": updateNorm")
					.isEqualTo(answer.updateNorm());
				assertThat(requiredBoolean(entry, "clipped")).as(where + ": clipped").isEqualTo(answer.clipped());
			}
		}

		private String dtype() {
			return this.reference.isFloat32() ? "F32" : "F64";
		}

		/** A safetensors step: parameters under their names, gradients as name.grad, the loss in __metadata__. */
		private byte[] safetensors(JsonNode parameters, JsonNode gradients, String loss) {
			SafetensorsBytes.Builder builder = SafetensorsBytes.builder();
			if (loss != null) {
				builder.metadata("loss", loss);
			}
			if (parameters != null) {
				parameters.properties().forEach((entry) -> add(builder, entry.getKey(), entry.getValue()));
			}
			if (gradients != null) {
				gradients.properties().forEach((entry) -> add(builder, entry.getKey() + ".grad", entry.getValue()));
			}
			return builder.build();
		}

		private void add(SafetensorsBytes.Builder builder, String name, JsonNode tensor) {
			int[] shape = ReferenceCase.shape(tensor);
			double[] values = ReferenceCase.flatten(tensor);
			if (this.reference.isFloat32()) {
				float[] floats = new float[values.length];
				for (int i = 0; i < values.length; i++) {
					floats[i] = (float) values[i];
					assertThat((double) floats[i]).as("%s[%d] is a float32 value", name, i).isEqualTo(values[i]);
				}
				builder.f32(name, shape, floats);
			}
			else {
				builder.f64(name, shape, values);
			}
		}

	}

	// ---- checkpoints -----------------------------------------------------------------------------------------

	/**
	 * Checks a JSON checkpoint against torch after {@code step}: the optimizer (every field of the case, the schedule
	 * with its position, the current learning rate), precision, step counts, moments and held parameters.
	 */
	private static void assertState(BitExactComparison comparison, String what, JsonNode checkpoint,
			ReferenceCase reference, Mode mode, Step step, int applied, Double nextLearningRate) {
		String at = reference + " " + mode + " " + what + ": ";
		assertLearningRate(at, reference, checkpoint.get("optimizer"), applied, nextLearningRate);
		assertOptimizer(at + "optimizer", reference, checkpoint.get("optimizer"));
		assertThat(requiredString(checkpoint, "precision")).as(at + "precision").isEqualTo(reference.precision());
		assertThat(requiredLong(checkpoint, "step")).as(at + "step").isEqualTo(applied);
		assertThat(requiredBoolean(checkpoint, "holdsParameters")).as(at + "holdsParameters")
			.isEqualTo(mode.serviceHolds());
		JsonNode tensors = checkpoint.get("tensors");
		assertThat(tensors.propertyNames()).as(at + "tensors").containsExactlyInAnyOrderElementsOf(reference.tensorNames());
		for (String name : reference.tensorNames()) {
			JsonNode actual = tensors.get(name);
			String where = what + " " + name + ".";
			assertThat(actual.has("maxSecondMoment")).as(at + name + ": maxSecondMoment exactly with amsgrad")
				.isEqualTo(reference.amsgrad());
			assertThat(actual.has("parameter")).as(at + name + ": parameter exactly when the session holds it")
				.isEqualTo(mode.serviceHolds());
			if (mode.serviceHolds()) {
				comparison.checkTensor(where + "parameter", step.expectedParameters().get(name), actual.get("parameter"));
			}
			JsonNode expected = step.expectedState().get(name);
			if (expected == null) {
				assertThat(requiredLong(actual, "step")).as(at + name + ": step, no gradient yet").isZero();
				continue;
			}
			assertThat(requiredLong(actual, "step")).as(at + name + ": step")
				.isEqualTo(expected.get("step").longValue());
			for (String moment : List.of("firstMoment", "secondMoment", "maxSecondMoment")) {
				if (expected.has(moment)) {
					comparison.checkTensor(where + moment, expected.get(moment), actual.get(moment));
				}
			}
		}
	}

	/**
	 * The optimizer of a session view or checkpoint holds every field of the case's: plain values with the same bits,
	 * the schedule's, clipping's and groups' fields (defaults may be added). The learning rates, which move with a
	 * schedule, are checked by {@link #assertLearningRate}.
	 */
	private static void assertOptimizer(String at, ReferenceCase reference, JsonNode actual) {
		boolean scheduled = reference.schedule() != null;
		reference.optimizer().properties().forEach((entry) -> {
			String field = entry.getKey();
			if (field.equals("learningRate")) {
				return;
			}
			assertThat(actual.has(field)).as("%s has %s: %s", at, field, actual).isTrue();
			if (field.equals("groups")) {
				JsonNode groups = actual.get("groups");
				assertThat(groups.size()).as(at + ".groups").isEqualTo(entry.getValue().size());
				for (int i = 0; i < groups.size(); i++) {
					JsonNode group = entry.getValue().get(i);
					for (Map.Entry<String, JsonNode> value : group.properties()) {
						if (!(scheduled && value.getKey().equals("learningRate"))) {
							assertContains(at + ".groups[" + i + "]." + value.getKey(), value.getValue(),
									groups.get(i).get(value.getKey()));
						}
					}
				}
			}
			else {
				assertContains(at + "." + field, entry.getValue(), actual.get(field));
			}
		});
	}

	/**
	 * {@code optimizer.learningRate} is torch's {@code param_group['lr']}: the configured one without a schedule,
	 * else the one the next applied step uses (unknown after the last step); {@code initialLearningRate} is the
	 * configured one and the schedule's {@code position} the number of applied steps.
	 */
	private static void assertLearningRate(String at, ReferenceCase reference, JsonNode optimizer, int applied,
			Double next) {
		double configured = reference.optimizer().get("learningRate").doubleValue();
		assertThat(optimizer.path("learningRate").isNumber()).as("%s learningRate in %s", at, optimizer).isTrue();
		if (reference.schedule() == null) {
			assertThat(optimizer.get("learningRate").doubleValue()).as(at + " learningRate").isEqualTo(configured);
			return;
		}
		assertThat(requiredDouble(optimizer, "initialLearningRate")).as("%s initialLearningRate in %s", at,
				optimizer).isEqualTo(configured);
		if (next != null) {
			assertClose(at + " learningRate (param_group['lr'], the next step's)", next,
					optimizer.get("learningRate").doubleValue(), RELATIVE);
		}
		JsonNode position = optimizer.path("schedule").path("position");
		assertThat(position.isIntegralNumber()).as("%s schedule.position in %s", at, optimizer).isTrue();
		assertThat(position.longValue()).as(at + " schedule.position (torch's last_epoch)").isEqualTo(applied);
	}

	/** The learning rate of the first applied step after step {@code number}, or {@code null} if none follows. */
	private static Double nextLearningRate(ReferenceCase reference, int number) {
		return reference.steps()
			.stream()
			.skip(number)
			.filter((step) -> !step.skipped())
			.findFirst()
			.map(Step::expectedLearningRate)
			.orElse(null);
	}

	// ---- the schedules, the groups -------------------------------------------------------------------------

	private static void collectScheduleTypes(JsonNode schedule, Set<String> into) {
		if (schedule == null) {
			return;
		}
		into.add(schedule.get("type").stringValue());
		if (schedule.has("schedules")) {
			schedule.get("schedules").forEach((inner) -> collectScheduleTypes(inner, into));
		}
	}

	/** The schedule's position after the first {@code steps} steps of a case: the steps applied. */
	private static int position(ReferenceCase reference, int steps) {
		return (int) reference.steps().stream().limit(steps).filter((step) -> !step.skipped()).count();
	}

	/** CosineAnnealingWarmRestarts' restarts (epochs where a cycle begins) up to {@code horizon}. */
	private static List<Integer> warmRestarts(JsonNode schedule, int horizon) {
		int length = schedule.get("t0").intValue();
		int multiplier = schedule.path("tMult").asInt(1);
		List<Integer> restarts = new ArrayList<>();
		for (int epoch = length; epoch <= horizon; length *= multiplier, epoch += length) {
			restarts.add(epoch);
		}
		return restarts;
	}

	/** The index of the first group with a glob matching the whole name ({@code *}, {@code ?}), or {@code null}. */
	static Integer group(JsonNode groups, String name) {
		for (int i = 0; i < groups.size(); i++) {
			for (JsonNode glob : groups.get(i).get("match")) {
				if (TensorGlob.matches(glob.stringValue(), name)) {
					return i;
				}
			}
		}
		return null;
	}

	// ---- numbers ---------------------------------------------------------------------------------------------

	/** The L2 norm over every value of every tensor, in double. */
	static double l2(JsonNode tensors) {
		double sum = 0;
		for (JsonNode tensor : tensors) {
			for (double value : ReferenceCase.flatten(tensor)) {
				sum += value * value;
			}
		}
		return Math.sqrt(sum);
	}

	/** The L2 norm of {@code after - before} over every tensor. */
	static double l2Difference(JsonNode before, JsonNode after) {
		double sum = 0;
		for (String name : after.propertyNames()) {
			double[] a = ReferenceCase.flatten(after.get(name));
			double[] b = ReferenceCase.flatten(before.get(name));
			for (int i = 0; i < a.length; i++) {
				double d = a[i] - b[i];
				sum += d * d;
			}
		}
		return Math.sqrt(sum);
	}

	static void assertClose(String what, double expected, double actual, double relative) {
		double difference = Math.abs(actual - expected);
		if (!(difference <= relative * Math.abs(expected))) {
			fail("%s: expected %s, got %s, off by %.3g relative (tolerance %.0e)", what, expected, actual,
					difference / Math.abs(expected), relative);
		}
	}

	/** Same tensor, bit for bit (NaN payloads and the sign of zero included). */
	private static void assertSameBits(String what, JsonNode expected, JsonNode actual) {
		assertThat(ReferenceCase.shape(actual)).as(what + ": shape").isEqualTo(ReferenceCase.shape(expected));
		double[] want = ReferenceCase.flatten(expected);
		double[] got = ReferenceCase.flatten(actual);
		for (int i = 0; i < want.length; i++) {
			assertThat(Double.doubleToRawLongBits(got[i])).as("%s: flat index %d, expected %s, got %s", what, i,
					want[i], got[i]).isEqualTo(Double.doubleToRawLongBits(want[i]));
		}
	}

	/** {@code actual} holds {@code expected}: objects key by key (more keys allowed), arrays alike, same numbers. */
	private static void assertContains(String what, JsonNode expected, JsonNode actual) {
		assertThat(actual).as("%s missing", what).isNotNull();
		if (expected.isObject()) {
			assertThat(actual.isObject()).as("%s is an object: %s", what, actual).isTrue();
			expected.properties()
				.forEach((entry) -> assertContains(what + "." + entry.getKey(), entry.getValue(),
						actual.get(entry.getKey())));
		}
		else if (expected.isArray()) {
			assertThat(actual.isArray()).as("%s is an array: %s", what, actual).isTrue();
			assertThat(actual.size()).as(what + ": length").isEqualTo(expected.size());
			for (int i = 0; i < expected.size(); i++) {
				assertContains(what + "[" + i + "]", expected.get(i), actual.get(i));
			}
		}
		else if (expected.isNumber()) {
			assertThat(actual.isNumber()).as("%s is a number: %s", what, actual).isTrue();
			assertThat(actual.doubleValue()).as(what).isEqualTo(expected.doubleValue());
		}
		else {
			assertThat(actual).as(what).isEqualTo(expected);
		}
	}

	private static ReferenceCase trainingCase(String name) {
		return ReferenceCase.training()
			.stream()
			.filter((reference) -> reference.name().equals(name))
			.findFirst()
			.orElseThrow(() -> new AssertionError("no training case named " + name));
	}

	private static String state(String id) {
		return "/v1/sessions/" + id + "/state";
	}

}
