package dev.adamopt.process;

import java.io.IOException;
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
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The service in a JVM of its own, started from the test classpath: for what a test JVM cannot show (a small heap,
 * {@code kill -9}, SIGTERM, thousands of connections). Its output goes to a log file under {@code target/processes/}.
 */
public final class ServiceProcess implements AutoCloseable {

	private static final Pattern STARTED = Pattern.compile("Tomcat started on port (\\d+)");

	private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

	private final Process process;

	private final Path log;

	private final int port;

	private ServiceProcess(Process process, Path log, int port) {
		this.process = process;
		this.log = log;
		this.port = port;
	}

	/**
	 * Starts the service on a free loopback port and waits until its health answers UP.
	 * @param name names the log file
	 * @param jvmOptions e.g. {@code -Xmx256m}
	 * @param properties Spring properties, passed as {@code --name=value}
	 */
	public static ServiceProcess start(String name, List<String> jvmOptions, Map<String, String> properties)
			throws IOException, InterruptedException {
		Path logs = Path.of("target", "processes");
		Files.createDirectories(logs);
		Path log = logs.resolve(name + "-" + System.nanoTime() + ".log");
		List<String> command = new ArrayList<>();
		command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		command.addAll(jvmOptions);
		command.add("-cp");
		command.add(System.getProperty("java.class.path"));
		command.add("dev.adamopt.AdamServiceApplication");
		command.add("--server.port=0");
		command.add("--server.address=127.0.0.1");
		properties.forEach((key, value) -> command.add("--" + key + "=" + value));
		Process process = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(log.toFile())
			.start();
		int port = awaitPort(process, log);
		ServiceProcess service = new ServiceProcess(process, log, port);
		service.awaitHealthy();
		return service;
	}

	private static int awaitPort(Process process, Path log) throws IOException, InterruptedException {
		long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
		while (System.nanoTime() < deadline) {
			if (Files.exists(log)) {
				Matcher matcher = STARTED.matcher(Files.readString(log, StandardCharsets.UTF_8));
				if (matcher.find()) {
					return Integer.parseInt(matcher.group(1));
				}
			}
			if (!process.isAlive()) {
				throw new IllegalStateException("the service exited with " + process.exitValue() + " before it "
						+ "started; see " + log.toAbsolutePath());
			}
			Thread.sleep(100);
		}
		process.destroyForcibly();
		throw new IllegalStateException("the service did not start in " + START_TIMEOUT + "; see " + log.toAbsolutePath());
	}

	private void awaitHealthy() throws IOException, InterruptedException {
		HttpClient client = HttpClient.newHttpClient();
		long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
		while (System.nanoTime() < deadline) {
			try {
				HttpResponse<String> health = client.send(
						HttpRequest.newBuilder(uri("/actuator/health")).timeout(Duration.ofSeconds(5)).build(),
						HttpResponse.BodyHandlers.ofString());
				if (health.statusCode() == 200 && health.body().contains("\"UP\"")) {
					return;
				}
			}
			catch (IOException ex) {
				// not yet
			}
			Thread.sleep(100);
		}
		throw new IllegalStateException("the service did not become healthy; see " + this.log.toAbsolutePath());
	}

	public int port() {
		return this.port;
	}

	/** {@code http://127.0.0.1:port} followed by {@code path}. */
	public URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

	public long pid() {
		return this.process.pid();
	}

	public boolean isAlive() {
		return this.process.isAlive();
	}

	/** {@code kill -9}: the process gets no chance to write anything. */
	public void kill() throws InterruptedException {
		this.process.destroyForcibly();
		this.process.waitFor();
	}

	/** SIGTERM, as {@code docker stop} sends it. */
	public void terminate() {
		this.process.destroy();
	}

	/** Waits for the process to exit; its exit code, or -1 if it is still running after {@code timeout}. */
	public int awaitExit(Duration timeout) throws InterruptedException {
		return this.process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
				? this.process.exitValue() : -1;
	}

	/** Everything the process has written so far. */
	public String log() throws IOException {
		return Files.readString(this.log, StandardCharsets.UTF_8);
	}

	public Path logFile() {
		return this.log;
	}

	/** Kills the process if it is still running. */
	@Override
	public void close() throws InterruptedException {
		if (this.process.isAlive()) {
			kill();
		}
	}

}
