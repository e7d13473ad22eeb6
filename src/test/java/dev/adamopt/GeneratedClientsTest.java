package dev.adamopt;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.filter.OncePerRequestFilter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Clients generated from the running service's OpenAPI document work as they come out of the generator: openapi-
 * generator 7.23's {@code python} and {@code typescript-fetch} clients, without any change to their code, create a
 * session holding a 2-D and a 0-d tensor, step it, take its checkpoint, resume it, step both, put new parameters and
 * delete both, with an API key, and get exactly what a plain HTTP client gets.
 * <p>
 * Needs {@code python3} with the generated client's requirements (pydantic 2, urllib3 2, python-dateutil,
 * typing-extensions), {@code node} and {@code npm} (the TypeScript compiler is installed from
 * {@code src/test/typescript/package-lock.json} into {@code target} when missing), and openapi-generator's CLI jar,
 * which Maven fetches into {@code target/openapi-generator}. A missing tool fails the test, saying what is missing.
 * The document it writes, {@code target/openapi/openapi.json}, is the one the build's verify phase validates.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@Import(GeneratedClientsTest.RequestRecorder.class)
class GeneratedClientsTest {

	private static final Log logger = LogFactory.getLog(GeneratedClientsTest.class);

	/** The API key the generated clients send; the service is configured with its SHA-256. */
	private static final String API_KEY = "generated-clients-4f0c2b7e9d1a";

	private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(5);

	private static final Path TARGET = Path.of("target");

	private static final Path DOCUMENT = Path.of(System.getProperty("openapi.document", "target/openapi/openapi.json"));

	private static final Path GENERATOR = Path.of(System.getProperty("openapi-generator.cli",
			"target/openapi-generator/openapi-generator-cli.jar"));

	private static final Path CLIENTS = TARGET.resolve("generated-clients");

	// The control session, over plain HTTP: the same settings, tensors and gradients as the drivers'.

	private static final String CREATE = "{\"optimizer\":{\"algorithm\":\"adamw\",\"learningRate\":0.01,"
			+ "\"schedule\":{\"type\":\"cosine\",\"tMax\":10}},\"parameters\":{\"W\":[[0.5,-0.2],[0.1,0.3]],\"s\":1.5}}";

	private static final String FIRST_STEP = "{\"gradients\":{\"W\":[[0.01,-0.03],[0.02,0.0]],\"s\":0.25},\"loss\":0.75}";

	private static final String SECOND_STEP = "{\"gradients\":{\"W\":[[0.02,0.01],[-0.01,0.03]],\"s\":-0.5}}";

	@DynamicPropertySource
	static void apiKeys(DynamicPropertyRegistry registry) {
		registry.add("adam.security.api-keys", () -> "generated-clients:" + sha256Hex(API_KEY));
	}

	@LocalServerPort
	int port;

	@Autowired
	RequestRecorder recorder;

	private final HttpClient http = HttpClient.newHttpClient();

	private final JsonMapper json = JsonMapper.builder().build();

	@BeforeEach
	void writeTheServicesDocument() throws Exception {
		HttpResponse<String> docs = this.http.send(HttpRequest.newBuilder(uri("/v3/api-docs")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(docs.statusCode()).isEqualTo(200);
		Files.createDirectories(DOCUMENT.getParent());
		Files.writeString(DOCUMENT, docs.body());
		assertThat(GENERATOR).as("openapi-generator's CLI jar, which Maven fetches (./mvnw test): run the test "
				+ "through Maven").isRegularFile();
		this.recorder.requests.clear();
	}

	@Test
	void pythonClientGeneratedFromTheDocumentCreatesStepsResumesAndDeletesASession() throws Exception {
		Path client = CLIENTS.resolve("python");
		long start = System.nanoTime();
		generate("python", client, "--package-name", "adam_client");
		long generated = System.nanoTime();
		String printed = run(List.of("python3", Path.of("src/test/python/generated_client_driver.py").toAbsolutePath().toString(),
				baseUrl(), API_KEY), Map.of("PYTHONPATH", client.toAbsolutePath().toString()), client);
		long ran = System.nanoTime();
		logger.info(String.format("python client: generated in %.1f s, drove the session in %.1f s",
				(generated - start) / 1e9, (ran - generated) / 1e9));

		assertTheClientDidWhatPlainHttpDoes(report(printed), "OpenAPI-Generator/");
		// the generated Python client accepts only problems from DELETE and PUT .../parameters, which answer no body:
		// they must not answer 406
		assertThat(this.recorder.requests).filteredOn(r -> r.method().equals("DELETE") || r.method().equals("PUT"))
			.hasSize(3)
			.allSatisfy(r -> assertThat(r.accept()).isEqualTo("application/problem+json"));
	}

	@Test
	void typescriptFetchClientGeneratedFromTheDocumentCompilesStrictlyAndCreatesStepsResumesAndDeletesASession()
			throws Exception {
		Path dir = CLIENTS.resolve("typescript");
		long start = System.nanoTime();
		generate("typescript-fetch", dir.resolve("client"));
		long generated = System.nanoTime();
		Files.copy(Path.of("src/test/typescript/generated-client-driver.ts"), dir.resolve("generated-client-driver.ts"),
				StandardCopyOption.REPLACE_EXISTING);
		run(List.of("node", typescriptCompiler().toString(), "--strict", "--noEmitOnError", "--target", "ES2020",
				"--module", "commonjs", "--lib", "ES2020,DOM", "--outDir", "js", "generated-client-driver.ts"),
				Map.of(), dir);
		long compiled = System.nanoTime();
		String printed = run(List.of("node", Path.of("js", "generated-client-driver.js").toString(), baseUrl(),
				API_KEY), Map.of(), dir);
		long ran = System.nanoTime();
		logger.info(String.format("typescript-fetch client: generated in %.1f s, compiled in %.1f s, drove the "
				+ "session in %.1f s", (generated - start) / 1e9, (compiled - generated) / 1e9, (ran - compiled) / 1e9));

		assertTheClientDidWhatPlainHttpDoes(report(printed), "node");
	}

	/**
	 * Drives the control session over plain HTTP and compares: the first step's answer, the checkpoint (with the
	 * schedule's position and initial learning rate, which a generated client must send back), the resumed session's
	 * checkpoint and the second step of both sessions, number for number; then that both sessions are gone and every
	 * request the client made carried the API key.
	 */
	private void assertTheClientDidWhatPlainHttpDoes(JsonNode report, String userAgent) throws Exception {
		List<RecordedRequest> clientRequests = List.copyOf(this.recorder.requests);

		String id = send("POST", "/v1/sessions", CREATE, 201).path("id").asString();
		JsonNode firstStep = send("POST", "/v1/sessions/" + id + "/steps", FIRST_STEP, 200);
		JsonNode checkpoint = send("GET", "/v1/sessions/" + id + "/state", null, 200);
		JsonNode secondStep = send("POST", "/v1/sessions/" + id + "/steps", SECOND_STEP, 200);
		send("DELETE", "/v1/sessions/" + id, null, 204);

		JsonNode created = report.path("created");
		assertThat(created.path("step").asLong(-1)).isZero();
		assertThat(created.path("holdsParameters").asBoolean(false)).isTrue();
		assertThat(created.path("tensors").toString()).isEqualTo("[{\"name\":\"W\",\"shape\":[2,2]},"
				+ "{\"name\":\"s\",\"shape\":[]}]");

		JsonNode step = report.path("step");
		assertThat(step.path("step").asLong()).isEqualTo(1);
		assertThat(step.path("parameters").path("W").isArray()).as("the 2-D tensor").isTrue();
		assertThat(step.path("parameters").path("W").path(0).isArray()).as("the 2-D tensor").isTrue();
		assertThat(step.path("parameters").path("s").isNumber()).as("the 0-d tensor, a bare number").isTrue();
		assertSameJson(step.path("parameters"), firstStep.path("parameters"), "step.parameters");
		assertSameJson(step.path("learningRate"), firstStep.path("learningRate"), "step.learningRate");

		assertThat(checkpoint.path("optimizer").path("schedule").path("position").asLong()).isEqualTo(1);
		assertThat(checkpoint.path("optimizer").path("initialLearningRate").asDouble()).isEqualTo(0.01);
		assertSameJson(report.path("checkpoint"), checkpoint, "checkpoint");
		assertThat(report.path("resumed").path("step").asLong()).isEqualTo(1);
		assertSameJson(report.path("resumedCheckpoint"), checkpoint, "resumedCheckpoint");
		assertSameJson(report.path("next").path("original"), secondStep.path("parameters"), "next.original");
		assertSameJson(report.path("next").path("resumed"), secondStep.path("parameters"), "next.resumed");

		assertSameJson(report.path("held"), this.json.readTree("{\"W\":[[1.0,2.0],[3.0,4.0]],\"s\":-2.5}"), "held");

		JsonNode deleted = report.path("deleted");
		assertThat(deleted.size()).isEqualTo(2);
		for (JsonNode session : deleted) {
			assertThat(session.path("status").asInt()).as("GET after DELETE").isEqualTo(404);
			assertThat(session.path("type").asString("")).isEqualTo("/problems/session-not-found");
			send("GET", "/v1/sessions/" + session.path("id").asString(), null, 404);
		}

		// create, step, state, create, state, step, step, put parameters, get parameters, delete, get, delete, get
		assertThat(clientRequests).as("requests the client made").hasSize(13).allSatisfy(r -> {
			assertThat(r.authorization()).as(r.method() + " " + r.path()).isEqualTo("Bearer " + API_KEY);
			assertThat(r.userAgent()).as(r.method() + " " + r.path()).startsWith(userAgent);
		});
	}

	/** Generates a client with openapi-generator's CLI, from the document as it is (it validates the document). */
	private void generate(String generator, Path output, String... options) throws Exception {
		deleteRecursively(output);
		List<String> command = new ArrayList<>(List.of(javaExecutable(), "-jar", GENERATOR.toString(), "generate",
				"--input-spec", DOCUMENT.toString(), "--generator-name", generator, "--output", output.toString(),
				"--global-property", "apiTests=false,modelTests=false,apiDocs=false,modelDocs=false"));
		command.addAll(List.of(options));
		run(command, Map.of(), Path.of("."));
	}

	/** tsc from src/test/typescript's lock file, installed into target with npm when it is not there yet. */
	private Path typescriptCompiler() throws Exception {
		Path tools = TARGET.resolve("typescript-tools");
		Path tsc = tools.resolve("node_modules/typescript/bin/tsc");
		Path lock = Path.of("src/test/typescript/package-lock.json");
		Path installed = tools.resolve("package-lock.json");
		if (!Files.isRegularFile(tsc) || !Files.isRegularFile(installed)
				|| Files.mismatch(lock, installed) != -1) {
			Files.createDirectories(tools);
			for (String file : List.of("package.json", "package-lock.json")) {
				Files.copy(Path.of("src/test/typescript", file), tools.resolve(file), StandardCopyOption.REPLACE_EXISTING);
			}
			run(List.of("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"), Map.of(), tools);
		}
		assertThat(tsc).as("the TypeScript compiler after npm ci").isRegularFile();
		return tsc.toAbsolutePath();
	}

	/** Runs a tool to its end; its output, or a failure that shows it. */
	private static String run(List<String> command, Map<String, String> environment, Path directory)
			throws IOException, InterruptedException {
		Path log = Files.createTempFile(TARGET, "tool-", ".log");
		ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile())
			.redirectErrorStream(true)
			.redirectOutput(log.toFile());
		builder.environment().putAll(environment);
		Process process;
		try {
			process = builder.start();
		}
		catch (IOException ex) {
			return fail("cannot run " + command.get(0) + " (is it installed and on the PATH? .ci/run installs what "
					+ "this test needs): " + ex.getMessage());
		}
		boolean finished = process.waitFor(TOOL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
		if (!finished) {
			process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
		}
		String output = Files.readString(log, StandardCharsets.UTF_8);
		Files.delete(log);
		if (!finished || process.exitValue() != 0) {
			return fail(String.join(" ", command) + (finished ? " exited with " + process.exitValue()
					: " did not finish within " + TOOL_TIMEOUT) + "; its output:%n%s", tail(output));
		}
		return output;
	}

	/** The JSON object a driver prints on its last line. */
	private JsonNode report(String printed) {
		String[] lines = printed.strip().split("\\R");
		JsonNode report = this.json.readTree(lines[lines.length - 1]);
		assertThat(report.isObject()).as("the driver's report; its output:%n%s", printed).isTrue();
		return report;
	}

	/**
	 * Compares JSON as values: numbers by their double value (JavaScript writes 0.0 as 0), and a field that is null
	 * in {@code actual} as one left out (generated clients write the fields they did not get as null).
	 */
	private static void assertSameJson(JsonNode actual, JsonNode expected, String where) {
		if (expected.isNumber()) {
			assertThat(actual.isNumber()).as(where + ": " + actual).isTrue();
			assertThat(actual.doubleValue()).as(where).isEqualTo(expected.doubleValue());
		}
		else if (expected.isObject()) {
			assertThat(actual.isObject()).as(where + ": " + actual).isTrue();
			List<String> present = new ArrayList<>();
			actual.properties().forEach(e -> {
				if (!e.getValue().isNull()) {
					present.add(e.getKey());
				}
			});
			assertThat(present).as(where + " fields").containsExactlyInAnyOrderElementsOf(expected.propertyNames());
			expected.properties().forEach(e -> assertSameJson(actual.get(e.getKey()), e.getValue(),
					where + "." + e.getKey()));
		}
		else if (expected.isArray()) {
			assertThat(actual.isArray()).as(where + ": " + actual).isTrue();
			assertThat(actual.size()).as(where + " length").isEqualTo(expected.size());
			for (int i = 0; i < expected.size(); i++) {
				assertSameJson(actual.get(i), expected.get(i), where + "[" + i + "]");
			}
		}
		else {
			assertThat(actual).as(where).isEqualTo(expected);
		}
	}

	private JsonNode send(String method, String path, String body, int status) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + API_KEY);
		if (body != null) {
			request.header("Content-Type", "application/json");
		}
		HttpResponse<String> response = this.http.send(request
			.method(method, (body != null) ? HttpRequest.BodyPublishers.ofString(body) : HttpRequest.BodyPublishers.noBody())
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isEqualTo(status);
		return response.body().isEmpty() ? this.json.createObjectNode() : this.json.readTree(response.body());
	}

	private String baseUrl() {
		return "http://localhost:" + this.port;
	}

	private URI uri(String path) {
		return URI.create(baseUrl() + path);
	}

	private static String javaExecutable() {
		return Path.of(System.getProperty("java.home"), "bin", "java").toString();
	}

	private static String tail(String output) {
		return (output.length() > 6000) ? "..." + output.substring(output.length() - 6000) : output;
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

	static String sha256Hex(String key) {
		try {
			return HexFormat.of()
				.formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	record RecordedRequest(String method, String path, String authorization, String accept, String userAgent) {
	}

	/** Records the API requests as they arrive, before anything else looks at them. */
	@TestConfiguration(proxyBeanMethods = false)
	static class RequestRecorder {

		final Queue<RecordedRequest> requests = new ConcurrentLinkedQueue<>();

		@Bean
		FilterRegistrationBean<OncePerRequestFilter> requestRecordingFilter() {
			FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(
					new OncePerRequestFilter() {
						@Override
						protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response,
								FilterChain chain) throws ServletException, IOException {
							String agent = String.valueOf(request.getHeader("User-Agent"));
							if (request.getRequestURI().startsWith("/v1/") && !agent.startsWith("Java-http-client")) {
								RequestRecorder.this.requests.add(new RecordedRequest(request.getMethod(),
										request.getRequestURI(), request.getHeader("Authorization"),
										request.getHeader("Accept"), agent));
							}
							chain.doFilter(request, response);
						}
					});
			registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
			return registration;
		}

	}

}
