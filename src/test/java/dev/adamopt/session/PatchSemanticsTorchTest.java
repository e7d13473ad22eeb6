package dev.adamopt.session;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.adamopt.kernel.Precision;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PATCH against torch: every {@code reference/schedules} file that assigns learning rates mid-run
 * ({@code param_group['lr'] = x}) or attaches a new scheduler mid-run is replayed through a session, one tensor per
 * param group, with PATCHes for the assignments and attachments and a step per {@code scheduler.step()}; every
 * group's learning rate must then be torch's, bit for bit.
 */
class PatchSemanticsTorchTest {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final SessionCapacity capacity = SessionCapacity.unlimited();

	private final SessionService service = new SessionService(new CaffeineSessionStore(Duration.ofHours(1),
			() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), this.capacity::release), this.clock,
			this.capacity, new MemoryCreateKeys());

	static Stream<String> files() throws IOException, URISyntaxException {
		URL directory = PatchSemanticsTorchTest.class.getResource("/reference/schedules");
		try (Stream<Path> files = Files.list(Path.of(directory.toURI()))) {
			List<String> names = files.map(f -> f.getFileName().toString())
				.filter(n -> n.startsWith("assign-") || n.startsWith("attach-"))
				.sorted()
				.toList();
			assertThat(names).as("assign-* and attach-* references").hasSizeGreaterThanOrEqualTo(10);
			return names.stream();
		}
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("files")
	void patchesShouldMoveTheLearningRatesAsTorchDoes(String file) throws IOException {
		JsonNode reference;
		try (InputStream in = getClass().getResourceAsStream("/reference/schedules/" + file)) {
			reference = JSON.readTree(in);
		}
		JsonNode initial = reference.get("initialLearningRates");
		int groups = initial.size();
		// group 0 is the default group (tensor p0); group i > 0 is optimizer.groups[i - 1], matching tensor p<i>
		ObjectNode optimizer = JSON.createObjectNode();
		optimizer.put("learningRate", initial.get(0).asDouble());
		ArrayNode groupList = optimizer.putArray("groups");
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		Map<String, Tensor> gradients = new LinkedHashMap<>();
		for (int g = 0; g < groups; g++) {
			parameters.put("p" + g, Tensor.ofFloat64(new int[] { 1 }, new double[] { 1.0 }));
			gradients.put("p" + g, Tensor.ofFloat64(new int[] { 1 }, new double[] { 0.1 }));
			if (g > 0) {
				groupList.addObject().put("learningRate", initial.get(g).asDouble()).putArray("match").add("p" + g);
			}
		}
		String id = this.service.create(OptimizerSettings.resolve(JSON.treeToValue(optimizer, OptimizerSettings.class)),
				Precision.FLOAT64, parameters).id();
		int event = 0;
		for (JsonNode e : reference.get("events")) {
			String where = file + " event " + (event++);
			if (e.has("attach")) {
				ObjectNode patch = JSON.createObjectNode();
				patch.set("schedule", e.get("attach"));
				this.service.updateOptimizer(id, JSON.treeToValue(patch, OptimizerSettings.class));
				assertRates(id, e.get("learningRates"), where + " (attach)");
			}
			else if (e.has("assign")) {
				ObjectNode patch = JSON.createObjectNode();
				patch.put("learningRate", e.get("assign").get(0).asDouble());
				ArrayNode patchGroups = patch.putArray("groups");
				for (int g = 1; g < groups; g++) {
					patchGroups.addObject().put("learningRate", e.get("assign").get(g).asDouble());
				}
				this.service.updateOptimizer(id, JSON.treeToValue(patch, OptimizerSettings.class));
				assertRates(id, e.get("assign"), where + " (assign)");
			}
			else {
				int step = 0;
				for (JsonNode rates : e.get("steps")) {
					this.service.step(id, null, gradients);
					assertRates(id, rates, where + " step " + (++step));
				}
			}
		}
	}

	private void assertRates(String id, JsonNode expected, String where) {
		OptimizerConfig config = this.service.get(id).optimizer();
		for (int g = 0; g < expected.size(); g++) {
			double actual = config.hyperparameters(g - 1).learningRate();
			assertThat(actual).as(where + " group " + g).isEqualTo(expected.get(g).asDouble());
		}
	}

}
