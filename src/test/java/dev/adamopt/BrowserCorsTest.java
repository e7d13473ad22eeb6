package dev.adamopt;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The API from a real browser: headless Chromium (Debian's {@code chromium}, driven by {@code playwright-core} from
 * {@code src/test/browser}) opens a page served by a small server of this test on another loopback port than the
 * service's, and the page calls the service with {@code fetch()}.
 * <ul>
 * <li>From the origin in {@code adam.cors.allowed-origins}: the page creates a session, steps it (and retries the
 * step), reads {@code Location}, {@code ETag} and {@code Idempotent-Replayed} from JavaScript, sends them back in
 * {@code If-Match}, reads a 412 problem, the checkpoint, PATCHes, PUTs and DELETEs, with {@code Authorization},
 * {@code Idempotency-Key} and {@code If-Match} headers that only a preflight lets it send.</li>
 * <li>From the allowed origin without a valid key: the page reads the 401 problems and their
 * {@code WWW-Authenticate} (the preflight needed no key).</li>
 * <li>From another origin: the browser refuses both the preflighted create and a plain GET, the service refused them
 * (its problem counter says so), and nothing was created.</li>
 * <li>Swagger UI (same origin): "Try it out" is refused with 401 until the key is given to its Authorize button, then
 * creates a session with it.</li>
 * </ul>
 * Needs Node.js 20+ and Debian's {@code chromium} ({@code /usr/bin/chromium}, or {@code CHROMIUM}); installs
 * {@code src/test/browser/node_modules} with {@code npm ci} when missing ({@link BrowserScripts}). Without them it
 * fails, saying what to install: it is never skipped. {@code .ci/run} installs them.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class BrowserCorsTest {

	private static final Logger log = LoggerFactory.getLogger(BrowserCorsTest.class);

	private static final Path BROWSER = BrowserScripts.DIRECTORY;

	private static final Duration BROWSER_TIMEOUT = Duration.ofMinutes(3);

	/**
	 * The API key the page sends. With Spring Security's API keys (issue 8) the service requires it, and its SHA-256 is
	 * configured below; without them the service ignores it. Either way the preflight must allow the header.
	 */
	private static final String KEY = "browser-test-key-6f1c";

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/** {@code step 1: W1 = [[...], [...]], ETag "3"}, as the README's example logs it. */
	private static final Pattern README_LOG_LINE = Pattern
		.compile("log: (step 1: W1 = (\\[\\[[^\\]]*\\],\\[[^\\]]*\\]\\]), ETag \"\\d+\")");

	/** Serves the page on the origin that adam.cors.allowed-origins lists. */
	private static final HttpServer allowedPages = pageServer();

	/** Serves the same page on an origin the service does not allow. */
	private static final HttpServer otherPages = pageServer();

	@LocalServerPort
	private int port;

	@Autowired
	private MeterRegistry meters;

	private final HttpClient http = HttpClient.newHttpClient();

	@DynamicPropertySource
	static void allowTheFirstPageServer(DynamicPropertyRegistry registry) {
		registry.add("adam.cors.allowed-origins", () -> origin(allowedPages));
		registry.add("adam.security.api-keys", () -> "browser:" + GeneratedClientsTest.sha256Hex(KEY));
	}

	@BeforeAll
	static void installPlaywright() throws Exception {
		BrowserScripts.installPlaywright();
	}

	@AfterAll
	static void stopPageServers() {
		allowedPages.stop(0);
		otherPages.stop(0);
	}

	@Test
	void pageOnAnAllowedOriginShouldCreateStepAndDeleteASessionReadingTheExposedHeaders(@TempDir Path dir)
			throws Exception {
		JsonNode run = runPage(allowedPages, "createAndStep", dir);
		assertThat(run.get("origin").asString()).isEqualTo(origin(allowedPages)).isNotEqualTo(api());
		JsonNode out = run.get("result");

		JsonNode create = out.get("create");
		assertThat(create.get("status").asInt()).as("create: %s", create).isEqualTo(201);
		String id = create.get("body").get("id").asString();
		assertThat(create.get("location").asString()).as("Location, read by the page").isEqualTo("/v1/sessions/" + id);
		assertThat(create.get("etag").asString()).as("ETag, read by the page").matches("\"\\d+\"");
		assertThat(create.get("cacheControl").asString()).isEqualTo("no-store");

		JsonNode step = out.get("step");
		assertThat(step.get("status").asInt()).as("step: %s", step).isEqualTo(200);
		assertThat(step.get("body").get("step").asLong()).isEqualTo(1);
		assertThat(step.get("etag").asString()).matches("\"\\d+\"").isNotEqualTo(create.get("etag").asString());
		assertThat(step.get("replayed").isNull()).as("a first step is not a replay").isTrue();
		// Adam's first step: p - lr * g / (|g| + eps), torch's result to rounding
		JsonNode w1 = step.get("body").get("parameters").get("W1");
		assertThat(w1.get(0).get(0).asDouble()).isCloseTo(firstStep(0.5, 0.01), within(1e-15));
		assertThat(w1.get(0).get(1).asDouble()).isCloseTo(firstStep(-0.2, -0.03), within(1e-15));
		assertThat(w1.get(1).get(0).asDouble()).isCloseTo(firstStep(0.1, 0.02), within(1e-15));
		assertThat(w1.get(1).get(1).asDouble()).isEqualTo(0.3);
		assertThat(step.get("body").get("parameters").get("b1").asDouble()).isCloseTo(firstStep(0.25, -0.5),
				within(1e-15));

		JsonNode retry = out.get("retry");
		assertThat(retry.get("status").asInt()).isEqualTo(200);
		assertThat(retry.get("replayed").asString()).as("Idempotent-Replayed, read by the page").isEqualTo("true");
		assertThat(retry.get("etag")).isEqualTo(step.get("etag"));
		assertThat(retry.get("body")).isEqualTo(step.get("body"));

		JsonNode stale = out.get("stale");
		assertThat(stale.get("status").asInt()).isEqualTo(412);
		assertThat(stale.get("contentType").asString()).startsWith("application/problem+json");
		assertThat(stale.get("body").get("type").asString()).isEqualTo("/problems/precondition-failed");

		JsonNode state = out.get("state");
		assertThat(state.get("status").asInt()).isEqualTo(200);
		assertThat(state.get("body").get("step").asLong()).isEqualTo(1);
		assertThat(state.get("body").get("tensors").get("W1").get("firstMoment")).isNotNull();
		assertThat(state.get("cacheControl").asString()).isEqualTo("no-store");

		assertThat(out.get("patch").get("status").asInt()).as("patch: %s", out.get("patch")).isEqualTo(200);
		assertThat(out.get("patch").get("body").get("optimizer").get("learningRate").asDouble()).isEqualTo(0.005);
		assertThat(out.get("put").get("status").asInt()).as("put: %s", out.get("put")).isEqualTo(204);
		assertThat(out.get("put").get("etag").asString()).matches("\"\\d+\"");
		assertThat(out.get("delete").get("status").asInt()).as("delete: %s", out.get("delete")).isEqualTo(204);
		assertThat(out.get("afterDelete").get("status").asInt()).isEqualTo(404);
		assertThat(get("/v1/sessions/" + id).statusCode()).as("the session the page deleted").isEqualTo(404);
	}

	@Test
	void pageOnAnAllowedOriginShouldReadThe401OfAWrongOrMissingKeyAndCreateNothing(@TempDir Path dir) throws Exception {
		String before = sessionIds();

		JsonNode run = runPage(allowedPages, "withoutAValidKey", dir);
		JsonNode out = run.get("result");
		JsonNode wrongKey = out.get("wrongKey");
		assertThat(wrongKey.get("status").asInt()).as("a preflighted create with a wrong key: %s", wrongKey)
			.isEqualTo(401);
		assertThat(wrongKey.get("contentType").asString()).startsWith("application/problem+json");
		assertThat(wrongKey.get("body").get("type").asString()).isEqualTo("/problems/unauthorized");
		assertThat(wrongKey.get("wwwAuthenticate").asString()).as("WWW-Authenticate, read by the page")
			.contains("error=\"invalid_token\"");
		JsonNode noKey = out.get("noKey");
		assertThat(noKey.get("status").asInt()).as("a GET without a key: %s", noKey).isEqualTo(401);
		assertThat(noKey.get("wwwAuthenticate").asString()).isEqualTo("Bearer");
		assertThat(sessionIds()).as("sessions after the refused create").isEqualTo(before);
	}

	@Test
	void swaggerUiShouldSendTheKeyGivenToItsAuthorizeButton(@TempDir Path dir) throws Exception {
		String before = sessionIds();

		JsonNode run = runInChromium(List.of("swagger-authorize.mjs", api(), KEY), "Swagger UI's Authorize", dir);

		JsonNode unauthorized = run.get("before");
		assertThat(unauthorized.get("status").asInt()).as("Try it out before Authorize: %s", run).isEqualTo(401);
		assertThat(unauthorized.get("authorization").isNull()).isTrue();
		assertThat(unauthorized.get("type").asString()).isEqualTo("/problems/unauthorized");
		JsonNode authorized = run.get("after");
		assertThat(authorized.get("status").asInt()).as("Try it out after Authorize: %s", run).isEqualTo(201);
		assertThat(authorized.get("authorization").asString()).isEqualTo("Bearer " + KEY);
		String id = authorized.get("id").asString();
		assertThat(sessionIds()).as("the session Swagger UI created, the test key's").contains(id).isNotEqualTo(before);
		assertThat(this.http.send(HttpRequest.newBuilder(URI.create(api() + "/v1/sessions/" + id)).DELETE()
			.header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.discarding()).statusCode())
			.isEqualTo(204);
	}

	@Test
	void pageOnAnotherOriginShouldBeRefusedByTheBrowserAndChangeNothing(@TempDir Path dir) throws Exception {
		String before = sessionIds();
		double refusalsBefore = refusals();

		JsonNode run = runPage(otherPages, "tryFromAnotherOrigin", dir);
		assertThat(run.get("origin").asString()).isEqualTo(origin(otherPages));
		JsonNode out = run.get("result");
		assertThat(out.get("create").has("error")).as("the preflighted create: %s", out).isTrue();
		assertThat(out.get("create").get("error").asString()).startsWith("TypeError");
		assertThat(out.get("list").has("error")).as("the plain GET: %s", out).isTrue();
		assertThat(run.get("console").toString()).as("Chromium's console").contains("CORS policy");

		assertThat(refusals()).as("cross-origin-not-allowed problems answered: the preflight and the GET")
			.isEqualTo(refusalsBefore + 2);
		assertThat(sessionIds()).as("sessions after the refused page").isEqualTo(before);
	}

	@Test
	void readmeFetchExampleShouldRunInAPageOnAnAllowedOrigin(@TempDir Path dir) throws Exception {
		String code = readmeExample("browser-fetch");
		String configured = code.replaceFirst("(?m)^const ADAM_URL = '[^']*';", "const ADAM_URL = '" + api() + "';")
			.replaceFirst("(?m)^const ADAM_KEY = '[^']*';", "const ADAM_KEY = '" + KEY + "';");
		assertThat(configured).as("the example's ADAM_URL and ADAM_KEY lines, set for this test")
			.contains("const ADAM_URL = '" + api() + "';", "const ADAM_KEY = '" + KEY + "';");
		Path script = dir.resolve("readme-example.js");
		Files.writeString(script, configured, StandardCharsets.UTF_8);
		String before = sessionIds();

		JsonNode run = runPage(allowedPages, "script:" + script.toAbsolutePath(), dir);
		List<String> logged = new ArrayList<>();
		run.get("console").forEach(entry -> logged.add(entry.asString()));
		Matcher line = logged.stream()
			.map(README_LOG_LINE::matcher)
			.filter(Matcher::matches)
			.findFirst()
			.orElseThrow(() -> new AssertionError("the example logs its step; console: " + logged));
		JsonNode w1 = JSON.readTree(line.group(2));
		assertThat(w1.get(0).get(0).asDouble()).isCloseTo(firstStep(0.5, 0.01), within(1e-15));
		assertThat(w1.get(0).get(1).asDouble()).isCloseTo(firstStep(-0.2, -0.03), within(1e-15));
		assertThat(w1.get(1).get(0).asDouble()).isCloseTo(firstStep(0.1, 0.02), within(1e-15));
		assertThat(w1.get(1).get(1).asDouble()).isEqualTo(0.3);
		assertThat(readme()).as("the README shows what the example logs")
			.contains("```console\n" + line.group(1) + "\n```");
		assertThat(sessionIds()).as("the example deletes its session").isEqualTo(before);
	}

	/** {@code <!-- example: NAME -->} then a js block, in the README. */
	private static String readmeExample(String name) throws IOException {
		Matcher block = Pattern.compile("(?ms)^<!-- example: " + Pattern.quote(name)
				+ " -->[ \\t]*\\R```js[ \\t]*\\R(.*?)^```[ \\t]*$").matcher(readme());
		assertThat(block.find()).as("README.md's js block marked <!-- example: %s -->", name).isTrue();
		return block.group(1);
	}

	private static String readme() throws IOException {
		return Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
	}

	/** Adam's first step with learning rate 0.01 and epsilon 1e-8 (the bias-corrected moments are g and g²). */
	private static double firstStep(double parameter, double gradient) {
		return parameter - 0.01 * gradient / (Math.abs(gradient) + 1e-8);
	}

	/** Runs one of the page's functions in Chromium; its result and console, after checking it ran. */
	private JsonNode runPage(HttpServer pages, String function, Path dir) throws Exception {
		return runInChromium(List.of("run-page.mjs", origin(pages) + "/page.html", function, api(), KEY), function,
				dir);
	}

	/** Runs a Playwright script of src/test/browser with node; the JSON line it prints last, after checking it ran. */
	private JsonNode runInChromium(List<String> script, String what, Path dir) throws Exception {
		BrowserScripts.requireChromium();
		Path output = dir.resolve("browser.log");
		long start = System.nanoTime();
		List<String> command = new ArrayList<>();
		command.add("node");
		command.addAll(script);
		int exit = BrowserScripts.run(command, output, BROWSER_TIMEOUT,
				"Node.js 20 or later is needed to drive Chromium");
		String printed = Files.readString(output, StandardCharsets.UTF_8);
		log.info("Chromium ran {} in {} ms", what, (System.nanoTime() - start) / 1_000_000);
		assertThat(exit).as("node %s; its output:%n%s", String.join(" ", script), printed).isZero();
		String line = printed.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse(null);
		assertThat(line).as("the result line of %s; output:%n%s", what, printed).isNotNull();
		return JSON.readTree(line);
	}

	private double refusals() {
		Counter counter = this.meters.find("adam.problems").tag("type", "cross-origin-not-allowed").counter();
		return (counter != null) ? counter.count() : 0;
	}

	/** The ids of the sessions the test's key sees, as the service lists them. */
	private String sessionIds() throws Exception {
		HttpResponse<String> list = get("/v1/sessions?pageSize=1000");
		assertThat(list.statusCode()).isEqualTo(200);
		List<String> ids = new ArrayList<>();
		JSON.readTree(list.body()).get("sessions").forEach(s -> ids.add(s.get("id").asString()));
		return ids.toString();
	}

	private HttpResponse<String> get(String path) throws Exception {
		return this.http.send(HttpRequest.newBuilder(URI.create(api() + path))
			.header("Authorization", "Bearer " + KEY)
			.timeout(Duration.ofSeconds(30))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	private String api() {
		return "http://127.0.0.1:" + this.port;
	}

	private static String origin(HttpServer server) {
		return "http://127.0.0.1:" + server.getAddress().getPort();
	}

	/** A static server on a free loopback port: /page.html, the page in src/test/browser; nothing else. */
	private static HttpServer pageServer() {
		try {
			HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
			server.createContext("/", exchange -> {
				boolean page = exchange.getRequestURI().getPath().equals("/page.html");
				byte[] body = page ? Files.readAllBytes(BROWSER.resolve("page.html")) : new byte[0];
				exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
				exchange.sendResponseHeaders(page ? 200 : 404, page ? body.length : -1);
				try (OutputStream out = exchange.getResponseBody()) {
					out.write(body);
				}
			});
			server.start();
			return server;
		}
		catch (IOException ex) {
			throw new IllegalStateException("could not start a page server on the loopback address", ex);
		}
	}

}
