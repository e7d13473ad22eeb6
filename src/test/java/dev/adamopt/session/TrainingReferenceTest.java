package dev.adamopt.session;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.adamopt.kernel.Precision;
import dev.adamopt.reference.BitExactComparison;
import dev.adamopt.reference.ReferenceCase;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Runs every torch 1.13 training trajectory of {@code reference/training} (schedules, clipping, groups, the
 * non-finite policy) through the session and its kernels, without HTTP: the session holding the parameters and the
 * client holding them, each also checkpointed and resumed midway. Parameters and moments within the references'
 * tolerances, learning rates and clipping norms within 1e-12 relative.
 */
class TrainingReferenceTest {

	private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final SessionCapacity capacity = SessionCapacity.unlimited();

	private final SessionService service = new SessionService(new CaffeineSessionStore(Duration.ofHours(1),
			() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), this.capacity::release), this.clock,
			this.capacity, new MemoryCreateKeys());

	static Stream<Arguments> cases() throws IOException, URISyntaxException {
		URL directory = TrainingReferenceTest.class.getResource("/reference/training");
		assertThat(directory).as("src/test/resources/reference/training").isNotNull();
		List<Arguments> cases = new ArrayList<>();
		try (Stream<Path> files = Files.list(Path.of(directory.toURI()))) {
			for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
				for (boolean held : new boolean[] { true, false }) {
					for (boolean resumed : new boolean[] { false, true }) {
						cases.add(Arguments.of(file.getFileName().toString(), held, resumed));
					}
				}
			}
		}
		assertThat(cases).as("training references").hasSizeGreaterThanOrEqualTo(15 * 4);
		return cases.stream();
	}

	@ParameterizedTest(name = "{0}, session holds parameters: {1}, resumed midway: {2}")
	@MethodSource("cases")
	void everyTrainingCaseShouldFollowTorch(String file, boolean held, boolean resumed) throws IOException {
		JsonNode reference;
		try (InputStream in = getClass().getResourceAsStream("/reference/training/" + file)) {
			reference = JSON.readTree(in);
		}
		boolean float32 = "float32".equals(reference.path("precision").asString("float64"));
		OptimizerSettings settings = JSON.treeToValue(reference.get("optimizer"), OptimizerSettings.class);
		Map<String, Tensor> parameters = tensors(reference.get("initialParameters"));
		String id = this.service.create(OptimizerSettings.resolve(settings),
				float32 ? Precision.FLOAT32 : Precision.FLOAT64, held ? parameters : null).id();
		JsonNode steps = reference.get("steps");
		int midway = steps.size() / 2;
		for (int t = 0; t < steps.size(); t++) {
			if (resumed && t == midway) {
				Checkpoint checkpoint = this.service.checkpoint(id);
				this.service.delete(id);
				id = this.service.resume(checkpoint).id();
			}
			JsonNode step = steps.get(t);
			String where = file + " step " + (t + 1);
			// a client-held step answers in the request's own arrays: keep the values it started from
			Map<String, double[]> before = new LinkedHashMap<>();
			parameters.forEach((name, tensor) -> {
				double[] values = new double[tensor.size()];
				for (int i = 0; i < values.length; i++) {
					values[i] = tensor.get(i);
				}
				before.put(name, values);
			});
			StepResult result = this.service.step(id, held ? null : parameters, tensors(step.get("gradients")));
			StepStatistics statistics = result.statistics();
			boolean skipped = step.path("skipped").asBoolean(false);
			assertThat(statistics.skipped).as(where + " skipped").isEqualTo(skipped);
			if (step.has("expectedLearningRate")) {
				assertRelative(statistics.learningRate, step.get("expectedLearningRate").asDouble(), 1e-12,
						where + " learningRate");
			}
			if (step.has("expectedGradNorm")) {
				assertRelative(statistics.totalNorm, step.get("expectedGradNorm").asDouble(), float32 ? 1e-5 : 1e-12,
						where + " totalNorm");
			}
			Map<String, Tensor> expected = tensors(step.get("expectedParameters"));
			double change = 0;
			for (Map.Entry<String, Tensor> entry : expected.entrySet()) {
				Tensor actual = result.parameters().get(entry.getKey());
				assertClose(actual, entry.getValue(), float32, where + " parameter " + entry.getKey());
				for (int i = 0; i < actual.size(); i++) {
					double d = entry.getValue().get(i) - before.get(entry.getKey())[i];
					change += d * d;
				}
			}
			assertRelative(statistics.updateNorm(), Math.sqrt(change), float32 ? 1e-3 : 1e-6, where + " updateNorm");
			Checkpoint state = this.service.checkpoint(id);
			for (Iterator<Map.Entry<String, JsonNode>> it = step.get("expectedState").properties().iterator(); it
				.hasNext();) {
				Map.Entry<String, JsonNode> entry = it.next();
				TensorCheckpoint actual = state.tensors().get(entry.getKey());
				assertThat(actual.step()).as(where + " step of " + entry.getKey())
					.isEqualTo(entry.getValue().get("step").asLong());
				assertClose(actual.firstMoment(), tensor(entry.getValue().get("firstMoment")), float32,
						where + " firstMoment of " + entry.getKey());
				assertClose(actual.secondMoment(), tensor(entry.getValue().get("secondMoment")), float32,
						where + " secondMoment of " + entry.getKey());
			}
			parameters = expected;
		}
		assertThat(this.service.get(id).skippedSteps()).as(file + " skippedSteps")
			.isEqualTo(countSkipped(steps));
	}

	private static long countSkipped(JsonNode steps) {
		long skipped = 0;
		for (JsonNode step : steps) {
			skipped += step.path("skipped").asBoolean(false) ? 1 : 0;
		}
		return skipped;
	}

	static void assertRelative(double actual, double expected, double tolerance, String what) {
		if (!(Math.abs(actual - expected) <= tolerance * Math.max(Math.abs(expected), Double.MIN_NORMAL))) {
			fail(what + ": expected " + expected + ", got " + actual);
		}
	}

	static void assertClose(Tensor actual, Tensor expected, boolean float32, String what) {
		assertThat(actual.shape()).as(what + " shape").isEqualTo(expected.shape());
		for (int i = 0; i < expected.size(); i++) {
			if (!BitExactComparison.withinTolerance(expected.get(i), actual.get(i), float32)) {
				fail(what + " at flat index " + i + ": expected " + expected.get(i) + ", got " + actual.get(i));
			}
		}
	}

	static Map<String, Tensor> tensors(JsonNode object) {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		object.properties().forEach(entry -> tensors.put(entry.getKey(), tensor(entry.getValue())));
		return tensors;
	}

	/** numpy's tolist(): nested lists, a bare number for a 0-d tensor. */
	static Tensor tensor(JsonNode node) {
		return Tensor.ofFloat64(ReferenceCase.shape(node), ReferenceCase.flatten(node));
	}

}
