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
import java.util.List;
import java.util.Locale;
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

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Keeps the README honest: its Python training loop runs against the service and the loss goes down, its API table
 * lists exactly the operations of the OpenAPI document, and its problems table every problem type with its status.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class ReadmeExampleTest {

	/** Surefire runs in the project root, where the README lives. */
	private static final Path README = Path.of("README.md");

	private static final Pattern PYTHON_BLOCK = Pattern.compile("(?ms)^```python[ \\t]*\\R(.*?)^```[ \\t]*$");

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

	@Test
	void pythonTrainingLoopRunsAndTheLossGoesDown(@TempDir Path dir) throws Exception {
		String printed = runPython(dir, pythonBlocks(readme()).get(0));

		Matcher loss = LOSS_LINE.matcher(printed);
		assertThat(loss.find()).as("README example prints 'loss went from X to Y'; its output:%n%s", printed).isTrue();
		double first = Double.parseDouble(loss.group(1));
		double last = Double.parseDouble(loss.group(2));
		assertThat(last).as("final loss; output:%n%s", printed).isLessThan(first);
		assertThat(printed).contains("step 1: loss", "step 500: loss");
	}

	@Test
	void pythonSafetensorsClientStepsAMillionParameters(@TempDir Path dir) throws Exception {
		List<String> blocks = pythonBlocks(readme());
		assertThat(blocks).as("README's python blocks: the training loop and the safetensors client").hasSize(2);
		String printed = runPython(dir, blocks.get(1));

		Matcher moved = MOVED_LINE.matcher(printed);
		assertThat(moved.find()).as("safetensors example's output:%n%s", printed).isTrue();
		// Adam's first step moves each element by learningRate * |g| / (|g| + eps), just under 0.01 here
		assertThat(Double.parseDouble(moved.group(1))).isBetween(0.0099, 0.01);
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
		// ProblemType is package-private in dev.adamopt.web: read its constants reflectively
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
