package dev.adamopt;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The Playwright scripts of {@code src/test/browser}, run with Node.js against Debian's Chromium, for the browser tests
 * ({@code BrowserCorsTest}, {@code VisualizationPagesTest}). They need Node.js 20+ and {@code /usr/bin/chromium} (or
 * {@code CHROMIUM}); {@code playwright-core} is installed with {@code npm ci} from the directory's
 * {@code package-lock.json} when missing. Without them a test fails, saying what to install: it is never skipped.
 */
final class BrowserScripts {

	/** Surefire runs in the project root. */
	static final Path DIRECTORY = Path.of("src", "test", "browser");

	private static final Duration NPM_TIMEOUT = Duration.ofMinutes(5);

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private BrowserScripts() {
	}

	/** {@code npm ci} in src/test/browser unless playwright-core is there; fails with npm's output. */
	static void installPlaywright() throws Exception {
		assertThat(DIRECTORY.resolve("package-lock.json")).as("the browser tests' package-lock.json").exists();
		if (!Files.isDirectory(DIRECTORY.resolve("node_modules").resolve("playwright-core"))) {
			Path npmLog = Files.createTempFile("npm-ci", ".log");
			int exit = run(List.of("npm", "ci", "--no-audit", "--no-fund"), npmLog, NPM_TIMEOUT,
					"npm (Node.js 20 or later) is needed to install the browser tests' playwright-core");
			assertThat(exit).as("npm ci in %s; its output:%n%s", DIRECTORY, Files.readString(npmLog)).isZero();
		}
	}

	/** Fails, saying what to install, unless Debian's Chromium is there. */
	static void requireChromium() {
		Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
		assertThat(Files.isExecutable(chromium)).as("%s: Debian's chromium is needed for the browser tests (as root: "
				+ "apt-get install -y chromium; or set CHROMIUM)", chromium).isTrue();
	}

	/** Runs a command in src/test/browser, its output to {@code output}; its exit code, failing if it cannot start. */
	static int run(List<String> command, Path output, Duration timeout, String needs) throws Exception {
		Process process = start(command, output, needs);
		if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
			process.descendants().forEach(ProcessHandle::destroyForcibly);
			process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
			fail(String.join(" ", command) + " did not finish within " + timeout + "; its output:\n"
					+ Files.readString(output, StandardCharsets.UTF_8));
		}
		return process.exitValue();
	}

	private static Process start(List<String> command, Path output, String needs) {
		ProcessBuilder builder = new ProcessBuilder(command).directory(DIRECTORY.toFile()).redirectErrorStream(true);
		if (output != null) {
			builder.redirectOutput(output.toFile());
		}
		try {
			return builder.start();
		}
		catch (IOException ex) {
			return fail("could not run " + command.get(0) + ": " + needs, ex);
		}
	}

	/**
	 * Starts a script of phases ({@code src/test/browser/phases.mjs}): {@code node SCRIPT ARGS...}, its output copied
	 * to {@code log}.
	 */
	static Phases phases(List<String> script, Path log) {
		requireChromium();
		List<String> command = new ArrayList<>();
		command.add("node");
		command.addAll(script);
		return new Phases(command, start(command, null, "Node.js 20 or later is needed to drive Chromium"), log);
	}

	/**
	 * A script that reports each phase as a line of JSON and waits on its standard input before going on, so that
	 * the test checks the service in between.
	 */
	static final class Phases implements AutoCloseable {

		private static final String END = "\u0000end";

		private final List<String> command;

		private final Process process;

		private final Path log;

		private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

		private final Writer input;

		private Phases(List<String> command, Process process, Path log) {
			this.command = command;
			this.process = process;
			this.log = log;
			this.input = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
			Thread reader = new Thread(this::read, "browser-script-output");
			reader.setDaemon(true);
			reader.start();
		}

		private void read() {
			try (BufferedReader output = new BufferedReader(
					new InputStreamReader(this.process.getInputStream(), StandardCharsets.UTF_8))) {
				for (String line = output.readLine(); line != null; line = output.readLine()) {
					Files.writeString(this.log, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
							StandardOpenOption.APPEND);
					if (line.startsWith("{\"phase\":")) {
						this.lines.add(line);
					}
				}
			}
			catch (IOException ex) {
				// the process ended; the test sees the end below
			}
			finally {
				this.lines.add(END);
			}
		}

		/** The next phase's report, which must be {@code phase}; fails with the script's output otherwise. */
		JsonNode next(String phase, Duration timeout) throws Exception {
			String line = this.lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
			if (line == null || line.equals(END)) {
				this.process.waitFor(10, TimeUnit.SECONDS);
				fail("node %s reported no phase '%s' (%s); its output:%n%s", String.join(" ", this.command.subList(1,
						this.command.size())), phase, (line == null) ? "not within " + timeout : "it ended", output());
			}
			JsonNode report = JSON.readTree(line);
			assertThat(report.get("phase").asString()).as("the script's next phase").isEqualTo(phase);
			return report;
		}

		/** Lets the script go on to its next phase. */
		void proceed() throws IOException {
			this.input.write("go on\n");
			this.input.flush();
		}

		/** Waits for the script to end after its last phase; fails unless it ends well. */
		void finish(Duration timeout) throws Exception {
			assertThat(this.process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS))
				.as("node ended within %s; its output:%n%s", timeout, output()).isTrue();
			assertThat(this.process.exitValue()).as("node's exit code; its output:%n%s", output()).isZero();
		}

		String output() throws IOException {
			return Files.exists(this.log) ? Files.readString(this.log, StandardCharsets.UTF_8) : "";
		}

		@Override
		public void close() throws Exception {
			if (this.process.isAlive()) {
				this.input.close();
				if (!this.process.waitFor(30, TimeUnit.SECONDS)) {
					this.process.descendants().forEach(ProcessHandle::destroyForcibly);
					this.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
				}
			}
		}

	}

}
