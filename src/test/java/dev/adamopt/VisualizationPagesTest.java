package dev.adamopt;

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

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The visualization the service serves at {@code /}, in headless Chromium ({@link PageScenarios}): the surface page
 * runs the article's Adam on Rosenbrock through real sessions and draws what they answer; the sessions page lists
 * and plots them. Screenshots go to {@code target/screenshots}; the README opens with one of them
 * ({@code docs/surface.png}). Also: the pages are static files, from the service's origin only, under their
 * Content-Security-Policy. {@code VisualizationPagesWithApiKeysTest} runs the pages against a service with keys.
 */
// adam.sessions.idle-timeout: a context of its own, so that the sessions listed are this test's
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "adam.sessions.idle-timeout=2h")
class VisualizationPagesTest {

	private static final Logger log = LoggerFactory.getLogger(VisualizationPagesTest.class);

	static final Path SCREENSHOTS = Path.of("target", "screenshots");

	private static final int STOP_AT = 1000;

	private static final List<String> PAGES = List.of("/", "/index.html", "/sessions.html");

	@LocalServerPort
	private int port;

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

	@BeforeAll
	static void installPlaywright() throws Exception {
		BrowserScripts.installPlaywright();
		Files.createDirectories(SCREENSHOTS);
	}

	/**
	 * The default page, run to step 1,000: four optimizers (8,000 steps through the API from Chromium would take a
	 * minute on a busy 2-core machine, 4,000 take half of it). Adam comes within 0.05 of the minimum at step 968 and
	 * stays there: the first step within 0.05 and the session's own parameters at the end are checked.
	 */
	@Test
	void adamOnRosenbrockFromTheSurfacePageShouldComeWithin005OfTheMinimumWellWithin2000Steps(@TempDir Path dir)
			throws Exception {
		JsonNode ran = new PageScenarios(this.port, null).surface(STOP_AT, SCREENSHOTS.resolve("surface.png"), dir);

		JsonNode adam = ran.get("optimizers").get(0);
		assertThat(adam.get("label").asString()).isEqualTo("Adam");
		JsonNode path = adam.get("path");
		int first = -1;
		for (int t = 0; t < path.size() && first < 0; t++) {
			if (distanceToTheMinimum(path.get(t)) < 0.05) {
				first = t;
			}
		}
		log.info("Adam (learning rate 0.05) from (-1.5, 2) came within 0.05 of (1, 1) at step {}; at step {} it is {} "
				+ "away", first, STOP_AT, distanceToTheMinimum(path.get(STOP_AT)));
		assertThat(first).as("the first step within 0.05 of (1, 1)").isBetween(1, 2000);
		assertThat(distanceToTheMinimum(path.get(STOP_AT))).as("at step %d (the session's own parameters)", STOP_AT)
			.isLessThan(0.05);
	}

	@Test
	void sessionsPageShouldListTheSessionsAPageAtATimeAndPlotOnesHistoryAsItGrows(@TempDir Path dir) throws Exception {
		new PageScenarios(this.port, null).sessions(SCREENSHOTS.resolve("sessions.png"), dir, null);
	}

	@Test
	void pagesShouldBeStaticFilesFromTheServiceItselfUnderTheirContentSecurityPolicy() throws Exception {
		List<String> assets = new ArrayList<>();
		for (String page : PAGES) {
			HttpResponse<String> answer = get(page);
			assertThat(answer.statusCode()).as(page).isEqualTo(200);
			assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(
					type -> assertThat(type).startsWith("text/html"));
			assertPageHeaders(answer, page);
			String html = answer.body();
			// what default-src 'self' forbids: inline scripts, styles and event handlers
			assertThat(html).as(page).doesNotContainPattern("<script(?![^>]*\\bsrc=)")
				.doesNotContainPattern("<style")
				.doesNotContainPattern("\\sstyle=")
				.doesNotContainPattern("\\son[a-z]+=");
			Matcher reference = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(html);
			while (reference.find()) {
				String target = reference.group(1);
				assertThat(target).as("%s links %s: the service's own, no CDN", page, target)
					.doesNotContain("//").doesNotStartWith("data:");
				if (target.startsWith("assets/")) {
					assets.add("/" + target);
				}
			}
		}
		assertThat(assets).contains("/assets/surface.js", "/assets/sessions.js", "/assets/pages.css");
		try (var files = Files.list(Path.of("src", "main", "resources", "static", "assets"))) {
			files.filter(file -> file.toString().endsWith(".js")).forEach(file -> assets.add("/assets/"
					+ file.getFileName()));
		}
		for (String asset : assets) {
			HttpResponse<String> answer = get(asset);
			assertThat(answer.statusCode()).as(asset).isEqualTo(200);
			assertPageHeaders(answer, asset);
			if (asset.endsWith(".js")) {
				assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(
						type -> assertThat(type).startsWith("text/javascript"));
				// modules import each other by relative paths: nothing from elsewhere
				assertThat(answer.body()).as(asset).doesNotContainPattern("import[^;]*from\\s*'(?!\\./)")
					.doesNotContain("eval(").doesNotContain("new Function(");
			}
		}
		assertThat(get("/assets/no-such-file.js").statusCode()).isEqualTo(404);
	}

	@Test
	void readmeShouldOpenWithAScreenshotOfTheSurfacePageThatIsInTheRepository() throws Exception {
		List<String> lines = Files.readAllLines(Path.of("README.md"), StandardCharsets.UTF_8);
		assertThat(lines.get(0)).startsWith("# ");
		String opening = lines.stream().skip(1).filter(line -> !line.isBlank()).findFirst().orElseThrow();
		Matcher image = Pattern.compile("!\\[([^\\]]+)\\]\\(([^)\\s]+)\\)").matcher(opening);
		assertThat(image.find()).as("the README's first line after its title is an image: %s", opening).isTrue();
		assertThat(image.group(1)).as("its alt text").containsIgnoringCase("surface");
		Path screenshot = Path.of(image.group(2));
		assertThat(screenshot.isAbsolute()).isFalse();
		assertThat(screenshot.normalize().startsWith("..")).as("inside the repository").isFalse();
		PageScenarios.assertPng(screenshot);
	}

	private static double distanceToTheMinimum(JsonNode point) {
		return Math.hypot(point.get(0).asDouble() - 1, point.get(1).asDouble() - 1);
	}

	/** The security headers of every answer, the pages' Content-Security-Policy, and no-cache (not the API's no-store). */
	private static void assertPageHeaders(HttpResponse<String> answer, String path) {
		assertThat(answer.headers().allValues("Content-Security-Policy")).as(path)
			.containsExactly("default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
					+ "frame-ancestors 'none'");
		assertThat(answer.headers().allValues("X-Content-Type-Options")).as(path).containsExactly("nosniff");
		assertThat(answer.headers().allValues("X-Frame-Options")).as(path).containsExactly("DENY");
		// browsers ask again (a 304 when unchanged) before using a copy: a new version never runs old scripts
		assertThat(answer.headers().allValues("Cache-Control")).as(path).containsExactly("no-cache");
	}

	private HttpResponse<String> get(String path) throws Exception {
		return this.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path))
			.timeout(Duration.ofSeconds(30))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

}
