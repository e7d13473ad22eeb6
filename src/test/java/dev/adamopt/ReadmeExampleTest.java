package dev.adamopt;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;

/**
 * Keeps the README honest: its Python examples run against the service and do what the README says (the training
 * loop's loss goes down; the safetensors client moves a million parameters; the training-features example warms the
 * learning rate up, follows the cosine down, clips the large gradients and reads one history entry per step), its
 * API table lists exactly the operations of the OpenAPI document, and its problems table every problem type with its
 * status.
 * <p>
 * Each {@code ```python} block is preceded by a marker, {@code <!-- example: NAME -->}, by which a test finds it;
 * every block has one, so no example goes unrun.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class ReadmeExampleTest {

	/** The API key the examples send (ADAM_KEY), as a user of a service with keys runs them. */
	private static final String KEY = "readme-example-key-3b7d";

	/** Surefire runs in the project root, where the README lives. */
	private static final Path README = Path.of("README.md");

	private static final Pattern PYTHON_BLOCK = Pattern.compile("(?ms)^```python[ \\t]*\\R(.*?)^```[ \\t]*$");

	/** A python block with its marker: the example's name, then its code. */
	private static final Pattern MARKED_PYTHON_BLOCK = Pattern
		.compile("(?ms)^<!-- example: ([a-z0-9-]+) -->[ \\t]*\\R```python[ \\t]*\\R(.*?)^```[ \\t]*$");

	/**
	 * The examples, by marker, that the tests below run; the python-package ones need the package installed:
	 * PythonClientTest runs them.
	 */
	private static final List<String> EXAMPLES = List.of("training-loop", "training-features", "safetensors-client",
			"python-package-sessions", "python-package-article", "python-package-torch");

	/** "step 12: lr 0.049951 loss 1.0835 grad norm 3.7723 (clipped)" */
	private static final Pattern FEATURES_STEP_LINE = Pattern
		.compile("(?m)^step (\\d+): lr (\\S+) loss (\\S+) grad norm (\\S+)( \\(clipped\\))?\\s*$");

	/** "groups: {'W1': 'default', 'b1': 0, ...}" */
	private static final Pattern GROUPS_LINE = Pattern.compile("(?m)^groups: \\{(.*)\\}\\s*$");

	/** "history: 60 steps, 26 clipped, loss 8.2779 -> 0.1990" */
	private static final Pattern HISTORY_LINE = Pattern
		.compile("(?m)^history: (\\d+) steps, (\\d+) clipped, loss (\\S+) -> (\\S+)\\s*$");

	private static final Pattern MOVED_LINE = Pattern.compile("(?m)^step 1: W1 moved by at most (\\S+)\\s*$");

	private static final Pattern LOSS_LINE = Pattern.compile("(?m)^loss went from (\\S+) to (\\S+)\\s*$");

	/** A row of the API table: | METHOD | `path` | ... */
	private static final Pattern API_ROW = Pattern
		.compile("(?m)^\\|\\s*(GET|POST|PUT|PATCH|DELETE)\\s*\\|\\s*`(/[^`]*)`\\s*\\|");

	private static final Duration PYTHON_TIMEOUT = Duration.ofSeconds(120);

	@LocalServerPort
	int port;

	private final HttpClient http = HttpClient.newHttpClient();

	private final JsonMapper json = JsonMapper.builder().build();

	@DynamicPropertySource
	static void oneApiKey(DynamicPropertyRegistry registry) {
		registry.add("adam.security.api-keys", () -> "readme:" + GeneratedClientsTest.sha256Hex(KEY));
	}

	@Test
	void pythonTrainingLoopRunsAndTheLossGoesDown(@TempDir Path dir) throws Exception {
		String printed = runPython(dir, example("training-loop"));

		Matcher loss = LOSS_LINE.matcher(printed);
		assertThat(loss.find()).as("README example prints 'loss went from X to Y'; its output:%n%s", printed).isTrue();
		double first = Double.parseDouble(loss.group(1));
		double last = Double.parseDouble(loss.group(2));
		assertThat(last).as("final loss; output:%n%s", printed).isLessThan(first);
		assertThat(printed).contains("step 1: loss", "step 500: loss");
	}

	@Test
	void pythonSafetensorsClientStepsAMillionParameters(@TempDir Path dir) throws Exception {
		String printed = runPython(dir, example("safetensors-client"));

		Matcher moved = MOVED_LINE.matcher(printed);
		assertThat(moved.find()).as("safetensors example's output:%n%s", printed).isTrue();
		// Adam's first step moves each element by learningRate * |g| / (|g| + eps), just under 0.01 here
		assertThat(Double.parseDouble(moved.group(1))).isBetween(0.0099, 0.01);
	}

	@Test
	void pythonTrainingFeaturesExampleWarmsUpThenFollowsTheCosineClipsAndReadsTheHistory(@TempDir Path dir)
			throws Exception {
		String printed = runPython(dir, example("training-features"));

		// one line per step, numbered from 1
		List<double[]> steps = new ArrayList<>();
		List<Boolean> clipped = new ArrayList<>();
		Matcher line = FEATURES_STEP_LINE.matcher(printed);
		while (line.find()) {
			assertThat(Integer.parseInt(line.group(1))).as("step numbers; output:%n%s", printed)
				.isEqualTo(steps.size() + 1);
			steps.add(new double[] { Double.parseDouble(line.group(2)), Double.parseDouble(line.group(3)),
					Double.parseDouble(line.group(4)) });
			clipped.add(line.group(5) != null);
		}
		int n = steps.size();
		assertThat(n).as("step lines; output:%n%s", printed).isGreaterThanOrEqualTo(20);

		// the learning rate rises linearly to its peak, then follows the cosine from the peak down to almost 0: with
		// 0-based steps, the peak at p and the cosine's tMax the n - p steps from it on (STEPS - WARMUP),
		// lr(t) = peak * (1 + cos(pi * (t - p) / (n - p))) / 2
		double[] lr = steps.stream().mapToDouble((s) -> s[0]).toArray();
		int peak = 0;
		for (int t = 1; t < n; t++) {
			peak = (lr[t] > lr[peak]) ? t : peak;
		}
		assertThat(peak).as("a warm-up before the peak, a decay after it; output:%n%s", printed).isBetween(2, n - 2);
		double printedPrecision = 1e-6;
		double slope = lr[1] - lr[0];
		for (int t = 1; t <= peak; t++) {
			assertThat(lr[t]).as("warm-up: lr of step %d rises; output:%n%s", t + 1, printed).isGreaterThan(lr[t - 1]);
			if (t < peak) {
				assertThat(lr[t] - lr[t - 1]).as("warm-up: lr of step %d rises linearly", t + 1)
					.isCloseTo(slope, within(2 * printedPrecision));
			}
		}
		for (int t = peak + 1; t < n; t++) {
			double cosine = lr[peak] * (1 + Math.cos(Math.PI * (t - peak) / (n - peak))) / 2;
			assertThat(lr[t]).as("cosine: lr of step %d; output:%n%s", t + 1, printed)
				.isLessThan(lr[t - 1])
				.isCloseTo(cosine, within(2 * printedPrecision));
		}
		assertThat(lr[n - 1]).as("the last step's lr is almost 0").isLessThan(lr[peak] / 100);

		// clipping by norm 1.0 acts exactly on the steps whose gradient norm is above it, and some are
		for (int t = 0; t < n; t++) {
			double norm = steps.get(t)[2];
			if (clipped.get(t)) {
				assertThat(norm).as("step %d is clipped, its norm is above maxNorm 1.0", t + 1).isGreaterThan(0.9999);
			}
			else {
				assertThat(norm).as("step %d is not clipped, its norm is at most 1.0", t + 1).isLessThan(1.0001);
			}
		}
		assertThat(clipped).as("clipped steps; output:%n%s", printed).contains(true);

		// the biases are in group 0 (no weight decay), the weights in the default group
		Matcher groups = GROUPS_LINE.matcher(printed);
		assertThat(groups.find()).as("groups line; output:%n%s", printed).isTrue();
		assertThat(groups.group(1)).isEqualTo("'W1': 'default', 'b1': 0, 'W2': 'default', 'b2': 0");

		// the loss goes down, and the history has one entry per step, the losses sent, the clipped steps
		double firstLoss = steps.get(0)[1];
		double lastLoss = steps.get(n - 1)[1];
		assertThat(lastLoss).as("the loss goes down; output:%n%s", printed).isLessThan(firstLoss / 10);
		Matcher history = HISTORY_LINE.matcher(printed);
		assertThat(history.find()).as("history line; output:%n%s", printed).isTrue();
		assertThat(Integer.parseInt(history.group(1))).as("history entries: one per step").isEqualTo(n);
		assertThat(Integer.parseInt(history.group(2))).as("clipped entries in the history")
			.isEqualTo((int) clipped.stream().filter((c) -> c).count());
		assertThat(Double.parseDouble(history.group(3))).as("first entry's loss, as sent").isEqualTo(firstLoss);
		assertThat(Double.parseDouble(history.group(4))).as("last entry's loss, as sent").isEqualTo(lastLoss);
	}

	@Test
	void everyPythonBlockOfTheReadmeIsAMarkedExampleThatATestRuns() throws Exception {
		String readme = readme();
		assertThat(examples(readme).keySet()).as("the README's marked python examples")
			.containsExactlyInAnyOrderElementsOf(EXAMPLES);
		assertThat(pythonBlocks(readme)).as("every ```python block has its <!-- example: NAME --> marker")
			.hasSameSizeAs(EXAMPLES);
	}

	/** Runs a Python script against this server; returns what it printed, after checking it exited with 0. */
	private String runPython(Path dir, String code) throws Exception {
		Path script = dir.resolve("readme_example.py");
		Files.writeString(script, code, StandardCharsets.UTF_8);
		Path output = dir.resolve("output.txt");

		ProcessBuilder builder = new ProcessBuilder("python3", script.toString()).redirectErrorStream(true)
			.redirectOutput(output.toFile())
			.directory(dir.toFile());
		builder.environment().put("ADAM_URL", "http://localhost:" + this.port);
		builder.environment().put("ADAM_KEY", KEY);
		builder.environment().put("PYTHONUNBUFFERED", "1");
		Process process;
		try {
			process = builder.start();
		}
		catch (IOException ex) {
			fail("could not start python3 (the README examples need python3 with numpy and requests)", ex);
			return "";
		}
		boolean finished = process.waitFor(PYTHON_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
		if (!finished) {
			process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
		}
		String printed = Files.readString(output, StandardCharsets.UTF_8);
		assertThat(finished).as("README example finished within %s; its output:%n%s", PYTHON_TIMEOUT, printed).isTrue();
		assertThat(process.exitValue()).as("README example's exit code; its output:%n%s", printed).isZero();
		return printed;
	}

	@Test
	void everyOperationInTheApiTableIsInTheOpenApiDocument() throws Exception {
		JsonNode paths = apiDocs().path("paths");
		List<String> rows = new ArrayList<>();
		Matcher row = API_ROW.matcher(readme());
		while (row.find()) {
			String method = row.group(1);
			String path = row.group(2);
			rows.add(method + " " + path);
			assertThat(paths.has(path)).as("README's API table names %s, which /v3/api-docs lacks; it has %s", path,
					paths.propertyNames())
				.isTrue();
			assertThat(paths.path(path).has(method.toLowerCase(Locale.ROOT)))
				.as("README's API table names %s %s, which /v3/api-docs lacks", method, path)
				.isTrue();
		}
		assertThat(rows).as("operations in the README's API table").hasSizeGreaterThanOrEqualTo(7);

		// and the other way round: the table leaves nothing out
		for (String path : paths.propertyNames()) {
			for (String method : paths.path(path).propertyNames()) {
				assertThat(rows).as("the README's API table").contains(method.toUpperCase(Locale.ROOT) + " " + path);
			}
		}
	}

	@Test
	void everyProblemTypeIsInTheProblemsTableWithItsStatus() throws Exception {
		String readme = readme();
		// read ProblemType's constants reflectively, as the README table names them
		Class<?> problemType = Class.forName("dev.adamopt.web.ProblemType");
		Method type = problemType.getDeclaredMethod("type");
		Method status = problemType.getDeclaredMethod("status");
		type.setAccessible(true);
		status.setAccessible(true);
		Object[] constants = problemType.getEnumConstants();
		assertThat(constants).isNotEmpty();
		for (Object constant : constants) {
			String row = "| `" + type.invoke(constant) + "` | " + ((HttpStatus) status.invoke(constant)).value() + " |";
			assertThat(readme).as("README's problem table has the row for %s", constant).contains(row);
		}
	}

	private JsonNode apiDocs() throws Exception {
		HttpResponse<String> response = this.http.send(
				HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + "/v3/api-docs")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		return this.json.readTree(response.body());
	}

	private static String readme() throws IOException {
		assertThat(README).as("README.md in the working directory " + Path.of("").toAbsolutePath()).exists();
		return Files.readString(README, StandardCharsets.UTF_8);
	}

	/** The code of the README's python block marked {@code <!-- example: name -->}. */
	static String example(String name) throws IOException {
		String code = examples(readme()).get(name);
		assertThat(code).as("README.md's python block marked <!-- example: %s -->", name).isNotNull();
		return code;
	}

	/** The marked python blocks, by name; a name used twice fails. */
	private static Map<String, String> examples(String readme) {
		Map<String, String> examples = new LinkedHashMap<>();
		Matcher block = MARKED_PYTHON_BLOCK.matcher(readme);
		while (block.find()) {
			assertThat(examples.put(block.group(1), block.group(2))).as("example %s marked twice", block.group(1))
				.isNull();
		}
		return examples;
	}

	private static List<String> pythonBlocks(String readme) {
		List<String> blocks = new ArrayList<>();
		Matcher block = PYTHON_BLOCK.matcher(readme);
		while (block.find()) {
			blocks.add(block.group(1));
		}
		assertThat(blocks).as("README.md's ```python blocks").isNotEmpty();
		return blocks;
	}

}
