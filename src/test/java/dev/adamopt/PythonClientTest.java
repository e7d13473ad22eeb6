package dev.adamopt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The Python package {@code clients/python} ({@code adamopt}), installed as a user installs it, passes its own
 * pytest tests against this service with an API key, and the README's examples of it run.
 * <p>
 * Two Pythons, as the issue asks: Debian's {@code /usr/bin/python3} (or {@code $TORCH_PYTHON}) with its packages
 * (torch 1.13 from {@code python3-torch}, numpy 1.24, requests 2.28, pytest from {@code python3-pytest}), which runs
 * every test, the torch ones included; and the {@code python3} on the PATH (newer numpy and requests), which runs all
 * but the torch tests. Each gets a virtual environment under {@code target/python-client} that sees its packages
 * ({@code --system-site-packages}). The first installs the package from its sources with {@code pip install
 * --no-index --no-build-isolation} (no package index here: setuptools and wheel come from Debian) and builds its
 * wheel; the second installs that wheel (its setuptools cannot build one without the {@code wheel} package). A
 * missing Python, torch or pytest fails the test, saying what to install; nothing is skipped.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class PythonClientTest {

	/** The API key the package's tests and examples send (ADAM_KEY). */
	private static final String KEY = "python-client-key-8c1e5a";

	private static final Path WORK = Path.of("target", "python-client");

	private static final Path PACKAGE = Path.of("clients", "python");

	private static final String TORCH_PYTHON = System.getenv().getOrDefault("TORCH_PYTHON", "/usr/bin/python3");

	private static final String OTHER_PYTHON = "python3";

	private static final Duration TIMEOUT = Duration.ofMinutes(10);

	/** "83 passed in 14.02s", the last line of pytest's summary. */
	private static final Pattern SUMMARY = Pattern.compile("(?m)^=* ?(.*\\bin [0-9.]+s.*?) ?=*$");

	/** The wheel built in the first environment, installed in the second. */
	private static Path wheel;

	@LocalServerPort
	int port;

	@DynamicPropertySource
	static void oneApiKey(DynamicPropertyRegistry registry) {
		registry.add("adam.security.api-keys", () -> "python-client:" + GeneratedClientsTest.sha256Hex(KEY));
	}

	@Test
	void packageInstalledWithPipPassesAllItsTestsTorchIncludedOnDebiansPython() throws Exception {
		Path python = torchEnvironment();
		Results results = pytest(python, "torch-python");

		assertThat(results.failures + results.errors + results.skipped).as(results.summary).isZero();
		assertThat(results.passed).as(results.summary).isEqualTo(results.tests);
		assertThat(results.tests).as("tests run; " + results.summary).isGreaterThanOrEqualTo(80);
		assertThat(results.names).filteredOn(name -> name.contains("test_torch_bit_exact"))
			.as("the torch bit-exactness tests").hasSizeGreaterThanOrEqualTo(50);
		assertThat(results.summary).matches("\\d+ passed in .*");
	}

	@Test
	void packagePassesItsTestsWithTheNewerNumpyAndRequestsOfTheOtherPython() throws Exception {
		Path python = environment(OTHER_PYTHON, "other-python", "import numpy, pytest, requests",
				"the python3 on the PATH with numpy, requests and pytest (pip install numpy requests pytest)");
		run(List.of(python.toString(), "-m", "pip", "install", "--no-index", "--force-reinstall", "--no-deps",
				wheelOfTheTorchEnvironment().toString()), Map.of());
		assertInstalled(python);
		Results results = pytest(python, "other-python", "--ignore-glob=*test_torch*");

		assertThat(results.failures + results.errors + results.skipped).as(results.summary).isZero();
		assertThat(results.passed).as(results.summary).isEqualTo(results.tests);
		assertThat(results.tests).as("tests run; " + results.summary).isGreaterThanOrEqualTo(25);
		assertThat(results.names).noneMatch(name -> name.contains("torch"));
	}

	@Test
	void readmeSessionsExampleStepsChecksResumesAndReadsTheHistory() throws Exception {
		String printed = runExample(torchEnvironment(), "python-package-sessions");

		assertThat(printed).containsPattern("(?m)^step 1: lr 0\\.010000, W1 moved by at most 0\\.0\\d+$");
		assertThat(printed).contains("the resumed session steps as the original: True");
		assertThat(printed).contains("history: steps [1, 2, 3, 4], losses [1.0, 0.5, 0.333, None]");
		assertThat(printed).contains("422 /problems/tensor-mismatch");
	}

	@Test
	void readmeArticleExampleTrainsWithTheArticlesFunctionsAndTheLossGoesDown() throws Exception {
		String printed = runExample(torchEnvironment(), "python-package-article");

		Matcher loss = Pattern.compile("(?m)^loss went from (\\S+) to (\\S+)$").matcher(printed);
		assertThat(loss.find()).as("output:%n%s", printed).isTrue();
		assertThat(Double.parseDouble(loss.group(2))).isLessThan(Double.parseDouble(loss.group(1)) / 2);
		assertThat(printed).contains("step 1: loss", "step 500: loss", "v and s after 500 steps");
	}

	@Test
	void readmeTorchExampleTrainsWithRemoteAdamAndASchedulerBitForBitAsTorch() throws Exception {
		String printed = runExample(torchEnvironment(), "python-package-torch");

		assertThat(printed).contains("the same parameters as torch.optim.Adam, bit for bit: True");
		Matcher loss = Pattern.compile("(?m)^epoch (\\d+): loss (\\S+), lr (\\S+)$").matcher(printed);
		List<double[]> epochs = new ArrayList<>();
		while (loss.find()) {
			epochs.add(new double[] { Double.parseDouble(loss.group(2)), Double.parseDouble(loss.group(3)) });
		}
		assertThat(epochs).as("output:%n%s", printed).hasSizeGreaterThanOrEqualTo(4);
		assertThat(epochs.get(epochs.size() - 1)[0]).as("the loss goes down").isLessThan(epochs.get(0)[0] / 4);
		assertThat(epochs.get(epochs.size() - 1)[1]).as("the cosine schedule's rate goes down")
			.isLessThan(epochs.get(0)[1]);
		assertThat(printed).contains("continues in torch.optim.Adam from step 200");
	}

	// --- environments -------------------------------------------------------------------------------------------

	/** The environment of Debian's Python with torch, the package installed from its sources; once per JVM. */
	private static synchronized Path torchEnvironment() throws Exception {
		Path python = WORK.resolve("torch-python").resolve("bin").resolve("python").toAbsolutePath();
		if (wheel != null) {
			return python;
		}
		environment(TORCH_PYTHON, "torch-python", "import ensurepip, numpy, pytest, requests, setuptools, torch, wheel",
				"Debian's python3 with torch and pytest (apt-get install python3-torch python3-pytest "
						+ "python3-venv python3-wheel; .ci/run installs them), or TORCH_PYTHON=/path/to/a/python with "
						+ "venv, torch, pytest, setuptools and wheel");
		// a fresh copy of the sources: nothing left over from an earlier build (setuptools' build/ directory) goes
		// into the package, and the build writes nothing into clients/python
		Path source = WORK.resolve("source");
		deleteRecursively(source);
		Files.createDirectories(source);
		for (String file : List.of("pyproject.toml", "README.md")) {
			Files.copy(PACKAGE.resolve(file), source.resolve(file));
		}
		copyRecursively(PACKAGE.resolve("src"), source.resolve("src"));
		// the README's pip install ./clients/python, without a package index
		run(List.of(python.toString(), "-m", "pip", "install", "--no-index", "--no-build-isolation", source.toString()),
				Map.of());
		assertInstalled(python);
		Path dist = WORK.resolve("dist");
		deleteRecursively(dist);
		run(List.of(python.toString(), "-m", "pip", "wheel", "--no-index", "--no-build-isolation", "--no-deps",
				"--wheel-dir", dist.toString(), source.toString()), Map.of());
		try (Stream<Path> files = Files.list(dist)) {
			List<Path> wheels = files.filter(f -> f.getFileName().toString().endsWith("-py3-none-any.whl")).toList();
			assertThat(wheels).as("the package's wheel, pure Python").hasSize(1);
			wheel = wheels.get(0).toAbsolutePath();
		}
		return python;
	}

	private static Path wheelOfTheTorchEnvironment() throws Exception {
		torchEnvironment();
		return wheel;
	}

	/**
	 * A fresh virtual environment of {@code interpreter} under target/python-client that sees its site packages,
	 * after checking that the interpreter imports what the tests need.
	 */
	private static Path environment(String interpreter, String name, String imports, String needs) throws Exception {
		Path log = Files.createDirectories(WORK).resolve(name + "-check.log");
		int exit;
		try {
			exit = exec(List.of(interpreter, "-c", imports), Map.of(), log, Path.of("."));
		}
		catch (IOException ex) {
			return fail("the Python package's tests need " + needs + "; " + interpreter + " cannot be run: "
					+ ex.getMessage());
		}
		if (exit != 0) {
			fail("the Python package's tests need " + needs + "; `" + interpreter + " -c '" + imports + "'` says:%n%s",
					Files.readString(log, StandardCharsets.UTF_8));
		}
		Path venv = WORK.resolve(name).toAbsolutePath();
		run(List.of(interpreter, "-m", "venv", "--clear", "--system-site-packages", venv.toString()), Map.of());
		return venv.resolve("bin").resolve("python");
	}

	/** The package is imported from the environment's site-packages, not from the sources. */
	private static void assertInstalled(Path python) throws Exception {
		String where = run(List.of(python.toString(), "-c", "import adamopt; print(adamopt.__file__)"), Map.of())
			.strip();
		assertThat(where).as("where adamopt is imported from").contains(python.getParent().getParent().toString())
			.contains("site-packages");
	}

	// --- pytest and the examples --------------------------------------------------------------------------------

	record Results(int tests, int passed, int failures, int errors, int skipped, List<String> names, String summary) {
	}

	/** Runs the package's tests against this service; the counts from pytest's JUnit report and its summary. */
	private Results pytest(Path python, String name, String... options) throws Exception {
		Path report = WORK.resolve(name + "-pytest.xml").toAbsolutePath();
		Files.deleteIfExists(report);
		List<String> command = new ArrayList<>(List.of(python.toString(), "-m", "pytest", "-p", "no:cacheprovider",
				"-q", "-rA", "--junitxml=" + report, PACKAGE.resolve("tests").toString()));
		command.addAll(List.of(options));
		String output = run(command, serviceEnvironment());
		Matcher summary = SUMMARY.matcher(output);
		String last = null;
		while (summary.find()) {
			last = summary.group(1).strip();
		}
		assertThat(last).as("pytest's summary line; its output:%n%s", tail(output)).isNotNull();
		assertThat(report).isRegularFile();
		Element suite = (Element) DocumentBuilderFactory.newInstance()
			.newDocumentBuilder()
			.parse(report.toFile())
			.getElementsByTagName("testsuite")
			.item(0);
		int tests = Integer.parseInt(suite.getAttribute("tests"));
		int failures = Integer.parseInt(suite.getAttribute("failures"));
		int errors = Integer.parseInt(suite.getAttribute("errors"));
		int skipped = Integer.parseInt(suite.getAttribute("skipped"));
		List<String> names = new ArrayList<>();
		NodeList cases = suite.getElementsByTagName("testcase");
		for (int i = 0; i < cases.getLength(); i++) {
			Element testCase = (Element) cases.item(i);
			names.add(testCase.getAttribute("classname") + "." + testCase.getAttribute("name"));
		}
		Matcher passed = Pattern.compile("(\\d+) passed").matcher(last);
		return new Results(tests, passed.find() ? Integer.parseInt(passed.group(1)) : 0, failures, errors, skipped,
				names, last);
	}

	private String runExample(Path python, String name) throws Exception {
		Path dir = Files.createDirectories(WORK.resolve("examples").resolve(name)).toAbsolutePath();
		Path script = dir.resolve(name.replace('-', '_') + ".py");
		Files.writeString(script, ReadmeExampleTest.example(name), StandardCharsets.UTF_8);
		return run(List.of(python.toString(), script.toString()), serviceEnvironment(), dir);
	}

	private Map<String, String> serviceEnvironment() {
		return Map.of("ADAM_URL", "http://127.0.0.1:" + this.port, "ADAM_KEY", KEY, "PYTHONDONTWRITEBYTECODE", "1",
				"PYTHONUNBUFFERED", "1");
	}

	// --- processes and files ------------------------------------------------------------------------------------

	private static String run(List<String> command, Map<String, String> environment) throws Exception {
		return run(command, environment, Path.of("."));
	}

	/** Runs a command to its end; its output, or a failure that shows it. */
	private static String run(List<String> command, Map<String, String> environment, Path directory)
			throws Exception {
		Path log = Files.createTempFile(Files.createDirectories(WORK), "run-", ".log");
		try {
			int exit;
			try {
				exit = exec(command, environment, log, directory);
			}
			catch (IOException ex) {
				return fail("cannot run " + command.get(0) + " (.ci/run installs what this test needs): "
						+ ex.getMessage());
			}
			String output = Files.readString(log, StandardCharsets.UTF_8);
			if (exit != 0) {
				fail(String.join(" ", command) + ((exit == Integer.MIN_VALUE) ? " did not finish within " + TIMEOUT
						: " exited with " + exit) + "; its output:%n%s", tail(output));
			}
			return output;
		}
		finally {
			Files.deleteIfExists(log);
		}
	}

	/** The exit code, or Integer.MIN_VALUE when the command did not finish within the timeout. */
	private static int exec(List<String> command, Map<String, String> environment, Path log, Path directory)
			throws IOException, InterruptedException {
		ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile())
			.redirectErrorStream(true)
			.redirectOutput(log.toFile());
		builder.environment().putAll(environment);
		Process process = builder.start();
		if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
			process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
			return Integer.MIN_VALUE;
		}
		return process.exitValue();
	}

	private static String tail(String output) {
		return (output.length() > 8000) ? "..." + output.substring(output.length() - 8000) : output;
	}

	private static void copyRecursively(Path from, Path to) throws IOException {
		try (Stream<Path> paths = Files.walk(from)) {
			for (Path path : paths.filter(p -> !p.toString().contains("__pycache__") && !p.toString().contains(".egg-info"))
				.toList()) {
				Path target = to.resolve(from.relativize(path).toString());
				if (Files.isDirectory(path)) {
					Files.createDirectories(target);
				}
				else {
					Files.copy(path, target);
				}
			}
		}
	}

	private static void deleteRecursively(Path dir) throws IOException {
		if (Files.exists(dir)) {
			try (Stream<Path> paths = Files.walk(dir)) {
				for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
					Files.delete(path);
				}
			}
		}
	}

}
