package dev.adamopt;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The visualization's pages in headless Chromium ({@code src/test/browser/surface-page.mjs} and
 * {@code sessions-page.mjs}, see {@link BrowserScripts}), checked against the service between their phases: what a
 * page draws and shows is what the service's sessions hold. With an API key, the pages first answer the 401 with
 * their key field and the key is typed into it; without one, they never ask.
 */
final class PageScenarios {

	private static final Logger log = LoggerFactory.getLogger(PageScenarios.class);

	private static final Duration PHASE = Duration.ofMinutes(4);

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/** The surface page's optimizers as it starts: name, algorithm, α, β1, β2, ε, weight decay, AMSGrad. */
	private static final List<Object[]> DEFAULT_OPTIMIZERS = List.of(
			new Object[] { "Adam", "adam", 0.05, 0.9, 0.999, 1e-8, 0.0, false },
			new Object[] { "AdamW", "adamw", 0.05, 0.9, 0.999, 1e-8, 0.1, false },
			new Object[] { "AMSGrad", "adam", 0.05, 0.9, 0.999, 1e-8, 0.0, true },
			new Object[] { "Adam β 0.5, 0.9", "adam", 0.05, 0.5, 0.9, 1e-8, 0.0, false });

	private final String base;

	private final String key;

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

	/** {@code key}: the API key the pages are given when they ask; null for an open service. */
	PageScenarios(int port, String key) {
		this.base = "http://127.0.0.1:" + port;
		this.key = key;
	}

	// ---- the surface page ---------------------------------------------------------------------------------------

	/**
	 * The surface page from loading to leaving (see surface-page.mjs for its phases), run to {@code stopAt} steps;
	 * its screenshot after the run to {@code screenshot}. Answers the page's snapshot after the run (whose paths end
	 * at the sessions' real parameters, checked here).
	 */
	JsonNode surface(int stopAt, Path screenshot, Path dir) throws Exception {
		BrowserScripts.requireChromium();
		List<String> sessionsBefore = sessionIds();
		List<String> script = new ArrayList<>(List.of("surface-page.mjs", this.base, screenshot.toAbsolutePath()
			.toString(), String.valueOf(stopAt)));
		if (this.key != null) {
			script.add(this.key);
		}
		try (BrowserScripts.Phases page = BrowserScripts.phases(script, dir.resolve("surface-page.log"))) {
			JsonNode loaded = page.next("loaded", PHASE);
			checkKeyPrompt(loaded.get("keyPrompt"));
			loaded.get("gradients").properties().forEach(entry -> assertThat(entry.getValue().asDouble())
				.as("%s's gradient against central differences (relative)", entry.getKey()).isLessThan(1e-5));
			JsonNode start = loaded.get("snapshot");
			assertThat(start.get("objective").asString()).isEqualTo("rosenbrock");
			assertThat(doubles(start.get("start"))).containsExactly(-1.5, 2.0);
			assertThat(start.get("optimizers")).hasSize(DEFAULT_OPTIMIZERS.size());
			start.get("optimizers").forEach(o -> assertThat(o.get("session").isNull()).isTrue());
			assertThat(sessionIds()).as("loading the page creates no session").isEqualTo(sessionsBefore);
			assertNoErrors(loaded.get("seen"), "loading the surface page");
			page.proceed();

			JsonNode ran = page.next("ran", PHASE);
			log.info("The surface page ran {} optimizers to step {} in {} ms", DEFAULT_OPTIMIZERS.size(), stopAt,
					ran.get("runMillis").asLong());
			JsonNode snapshot = ran.get("snapshot");
			assertThat(snapshot.get("status").asString()).isEqualTo("idle");
			assertThat(snapshot.get("step").asInt()).isEqualTo(stopAt);
			List<String> ranSessions = new ArrayList<>();
			for (int k = 0; k < DEFAULT_OPTIMIZERS.size(); k++) {
				ranSessions.add(checkRunAgainstItsSession(snapshot.get("optimizers").get(k), DEFAULT_OPTIMIZERS.get(k),
						stopAt, new double[] { -1.5, 2 }));
			}
			checkStatePanel(snapshot, ranSessions.get(0));
			checkLossesAndGradientsSent(ranSessions.get(0), snapshot.get("optimizers").get(0).get("path"));
			JsonNode pixels = ran.get("pixels");
			assertDrawn(pixels.get("path"), pixels.get("pathBefore"), "Adam's path on the contour plot");
			assertDrawn(pixels.get("loss"), pixels.get("lossBefore"), "Adam's loss curve");
			assertPng(screenshot);
			assertNoErrors(ran.get("seen"), "running the surface page");
			page.proceed();

			JsonNode reset = page.next("reset", PHASE);
			JsonNode afterStep = reset.get("afterStep");
			assertThat(afterStep.get("step").asInt()).as("one Step more").isEqualTo(stopAt + 1);
			assertThat(afterStep.at("/state/t").asInt()).as("the state panel's t after one Step more")
				.isEqualTo(stopAt + 1);
			assertThat(doubles(afterStep.at("/state/rows/parameter"))).as("the state panel's θ is the path's last point")
				.containsExactly(doubles(last(afterStep.get("optimizers").get(0).get("path"))));
			JsonNode afterReset = reset.get("afterReset");
			assertThat(afterReset.get("step").asInt()).isZero();
			assertThat(afterReset.get("state").isNull()).isTrue();
			afterReset.get("optimizers").forEach(o -> {
				assertThat(o.get("session").isNull()).as("after Reset").isTrue();
				assertThat(o.get("path")).hasSize(1);
			});
			assertThat(reset.at("/pathAfterReset/matched").asInt()).as("Adam's path pixels after Reset: %s",
					reset.get("pathAfterReset")).isLessThanOrEqualTo(reset.at("/pathAfterReset/sampled").asInt() / 10);
			for (String id : ranSessions) {
				assertThat(get("/v1/sessions/" + id).statusCode()).as("session %s after Reset", id).isEqualTo(404);
			}
			page.proceed();

			JsonNode problem = page.next("problem", PHASE);
			assertThat(problem.get("problemVisible").asBoolean()).isTrue();
			JsonNode shown = problem.at("/snapshot/problem");
			HttpResponse<String> refused = post("/v1/sessions", "{\"optimizer\":{\"algorithm\":\"adamw\","
					+ "\"learningRate\":0.05,\"beta1\":1,\"beta2\":0.999,\"epsilon\":1e-8,\"weightDecay\":0.1,"
					+ "\"amsgrad\":false},\"parameters\":{\"xy\":[-1.5,2]}}");
			JsonNode expected = JSON.readTree(refused.body());
			assertThat(shown.get("status").asString()).isEqualTo(String.valueOf(refused.statusCode())).isEqualTo("400");
			assertThat(shown.get("type").asString()).isEqualTo(expected.get("type").asString());
			assertThat(shown.get("text").asString()).as("the problem the page shows")
				.contains(expected.get("title").asString(), expected.get("detail").asString(),
						"Creating the session of AdamW");
			List<String> problemSessions = new ArrayList<>();
			problem.at("/snapshot/optimizers").forEach(o -> {
				if (!o.get("session").isNull()) {
					problemSessions.add(o.get("session").asString());
				}
			});
			assertThat(problemSessions).as("the other optimizers' sessions").hasSize(DEFAULT_OPTIMIZERS.size() - 1);
			page.proceed();

			JsonNode stepped = page.next("stepped", PHASE);
			double[] clicked = { Double.parseDouble(stepped.get("inputs").get(0).asString()),
					Double.parseDouble(stepped.get("inputs").get(1).asString()) };
			assertThat(clicked[0]).as("x of the start clicked on the plot").isCloseTo(0.5, within(0.02));
			assertThat(clicked[1]).as("y of the start clicked on the plot").isCloseTo(-0.5, within(0.02));
			assertThat(doubles(stepped.at("/snapshot/start"))).containsExactly(clicked);
			List<String> steppedSessions = new ArrayList<>();
			for (int k = 0; k < DEFAULT_OPTIMIZERS.size(); k++) {
				steppedSessions.add(checkRunAgainstItsSession(stepped.at("/snapshot/optimizers").get(k),
						DEFAULT_OPTIMIZERS.get(k), 3, clicked));
			}
			for (String id : problemSessions) {
				assertThat(get("/v1/sessions/" + id).statusCode()).as("session %s, reset when β1 changed back", id)
					.isEqualTo(404);
			}
			page.proceed();

			JsonNode left = page.next("left", PHASE);
			assertThat(left.get("url").asString()).endsWith("/sessions.html");
			page.finish(PHASE);
			for (String id : steppedSessions) {
				assertThat(eventuallyGone(id)).as("session %s after its page was left", id).isTrue();
			}
			assertThat(left.at("/seen/errors")).as("page errors").isEmpty();
			List<String> failedLoads = new ArrayList<>();
			left.at("/seen/console").forEach(message -> {
				if (message.get("type").asString().equals("error")) {
					failedLoads.add(message.get("text").asString());
				}
			});
			// the refused create (400), and with a key the 401s before it was given: the browser's own lines
			assertThat(failedLoads).as("console errors of the whole visit").allMatch(
					text -> text.matches("Failed to load resource: the server responded with a status of 40[01] .*"))
				.filteredOn(text -> text.contains("status of 400")).hasSize(1);
			assertThat(sessionIds()).as("the sessions when the page is gone").isEqualTo(sessionsBefore);
			return snapshot;
		}
	}

	/**
	 * One optimizer of the page against its session: the settings it was created with, its step, and its real
	 * parameters at the path's last point (the path from {@code start}, drawn point for point).
	 */
	private String checkRunAgainstItsSession(JsonNode optimizer, Object[] expected, int steps, double[] start)
			throws Exception {
		String id = optimizer.get("session").asString();
		assertThat(optimizer.get("label").asString()).isEqualTo(expected[0]);
		assertThat(optimizer.get("step").asInt()).isEqualTo(steps);
		JsonNode path = optimizer.get("path");
		assertThat(path).hasSize(steps + 1);
		assertThat(doubles(path.get(0))).as("%s's path starts at the start", expected[0]).containsExactly(start);
		assertThat(optimizer.get("drawn")).as("%s's path as drawn", expected[0]).hasSize(steps + 1);

		HttpResponse<String> view = get("/v1/sessions/" + id);
		assertThat(view.statusCode()).as("%s's session %s", expected[0], id).isEqualTo(200);
		JsonNode session = JSON.readTree(view.body());
		JsonNode settings = session.get("optimizer");
		assertThat(settings.get("algorithm").asString()).isEqualTo(expected[1]);
		assertThat(settings.get("learningRate").asDouble()).isEqualTo(expected[2]);
		assertThat(settings.get("beta1").asDouble()).isEqualTo(expected[3]);
		assertThat(settings.get("beta2").asDouble()).isEqualTo(expected[4]);
		assertThat(settings.get("epsilon").asDouble()).isEqualTo(expected[5]);
		assertThat(settings.get("weightDecay").asDouble()).isEqualTo(expected[6]);
		assertThat(settings.get("amsgrad").asBoolean()).isEqualTo(expected[7]);
		assertThat(session.get("step").asInt()).isEqualTo(steps);
		assertThat(session.get("holdsParameters").asBoolean()).isTrue();

		JsonNode state = JSON.readTree(get("/v1/sessions/" + id + "/state").body()).at("/tensors/xy");
		assertThat(state.get("step").asInt()).isEqualTo(steps);
		assertThat(doubles(state.get("parameter"))).as("%s's parameters, held by the session", expected[0])
			.containsExactly(doubles(last(path)));
		if (this.key != null) {
			assertThat(send("GET", "/v1/sessions/" + id, null, null).statusCode()).as("without the key").isEqualTo(401);
		}
		return id;
	}

	/** The state panel shows the selected session's checkpoint, its t and the bias-corrected moments. */
	private void checkStatePanel(JsonNode snapshot, String session) throws Exception {
		JsonNode panel = snapshot.get("state");
		assertThat(panel.get("session").asString()).isEqualTo(session);
		JsonNode checkpoint = JSON.readTree(get("/v1/sessions/" + session + "/state").body());
		JsonNode xy = checkpoint.at("/tensors/xy");
		int t = xy.get("step").asInt();
		assertThat(panel.get("t").asInt()).as("the state panel's t, against GET .../state").isEqualTo(t);
		JsonNode rows = panel.get("rows");
		assertThat(doubles(rows.get("parameter"))).as("θ").containsExactly(doubles(xy.get("parameter")));
		assertThat(doubles(rows.get("firstMoment"))).as("v").containsExactly(doubles(xy.get("firstMoment")));
		assertThat(doubles(rows.get("secondMoment"))).as("s").containsExactly(doubles(xy.get("secondMoment")));
		double beta1 = checkpoint.at("/optimizer/beta1").asDouble();
		double beta2 = checkpoint.at("/optimizer/beta2").asDouble();
		for (int k = 0; k < 2; k++) {
			double v = xy.get("firstMoment").get(k).asDouble();
			double s = xy.get("secondMoment").get(k).asDouble();
			assertThat(rows.get("vHat").get(k).asDouble()).as("v̂[%d]", k)
				.isCloseTo(v / (1 - Math.pow(beta1, t)), within(Math.abs(v) * 1e-12));
			assertThat(rows.get("sHat").get(k).asDouble()).as("ŝ[%d]", k)
				.isCloseTo(s / (1 - Math.pow(beta2, t)), within(Math.abs(s) * 1e-12));
		}
	}

	/**
	 * What the page sent at each step, as the session's history recorded it: the loss f(x, y) and a gradient of
	 * the norm of Rosenbrock's at the path's point before the step.
	 */
	private void checkLossesAndGradientsSent(String session, JsonNode path) throws Exception {
		JsonNode history = JSON.readTree(get("/v1/sessions/" + session + "/history").body()).get("steps");
		assertThat(history).hasSize(path.size() - 1);
		for (int t = 1; t < path.size(); t++) {
			double x = path.get(t - 1).get(0).asDouble();
			double y = path.get(t - 1).get(1).asDouble();
			double loss = (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
			double gradNorm = Math.hypot(-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x));
			JsonNode entry = history.get(t - 1);
			assertThat(entry.get("step").asInt()).isEqualTo(t);
			assertThat(entry.get("loss").asDouble()).as("the loss sent at step %d", t)
				.isCloseTo(loss, within(loss * 1e-12));
			assertThat(entry.get("gradNorm").asDouble()).as("the gradient's norm at step %d", t)
				.isCloseTo(gradNorm, within(gradNorm * 1e-9));
		}
	}

	// ---- the sessions page --------------------------------------------------------------------------------------

	/**
	 * The sessions page (see sessions-page.mjs): twelve sessions of this key (and, with keys, one of another key),
	 * listed a page at a time; one of them with {@code stepsThen} steps plotted, then stepped {@code stepsLater}
	 * more times while the page polls.
	 */
	void sessions(Path screenshot, Path dir, String otherKey) throws Exception {
		BrowserScripts.requireChromium();
		List<String> created = new ArrayList<>();
		for (int i = 0; i < 12; i++) {
			created.add(create());
		}
		String other = (otherKey != null) ? JSON.readTree(send("POST", "/v1/sessions", "{}", otherKey).body())
			.get("id").asString() : null;
		String chosen = created.get(7);
		double[] w = { 1.0, -2.0, 3.0 };
		int stepsThen = 30;
		int stepsLater = 40;
		step(chosen, w, stepsThen);

		List<String> script = new ArrayList<>(List.of("sessions-page.mjs", this.base, screenshot.toAbsolutePath()
			.toString(), chosen, String.valueOf(stepsThen), String.valueOf(stepsLater)));
		if (this.key != null) {
			script.add(this.key);
		}
		try (BrowserScripts.Phases page = BrowserScripts.phases(script, dir.resolve("sessions-page.log"))) {
			JsonNode listed = page.next("listed", PHASE);
			checkKeyPrompt(listed.get("keyPrompt"));
			List<List<String>> tens = apiPages(10);
			assertThat(strings(listed.at("/first/listed"))).as("the first page, 20 a page")
				.isEqualTo(apiPages(20).get(0)).containsAll(created);
			assertThat(strings(listed.at("/tenFirst/listed"))).as("the first page, 10 a page").isEqualTo(tens.get(0))
				.hasSize(10);
			assertThat(strings(listed.at("/tenNext/listed"))).as("the next page").isEqualTo(tens.get(1)).isNotEmpty();
			assertThat(strings(listed.at("/tenFirstAgain/listed"))).as("the first page again").isEqualTo(tens.get(0));
			assertThat(listed.at("/tenFirst/nextPageToken").isNull()).isFalse();
			assertThat(listed.get("rows").asInt()).as("table rows").isEqualTo(10);
			if (other != null) {
				assertThat(strings(listed.at("/first/listed"))).as("another key's session").doesNotContain(other);
			}
			assertNoErrors(listed.get("seen"), "listing the sessions");
			page.proceed();

			JsonNode plotted = page.next("plotted", PHASE);
			assertThat(plotted.get("url").asString()).endsWith("/sessions.html?session=" + chosen);
			assertThat(plotted.at("/snapshot/selected").asString()).isEqualTo(chosen);
			assertChartsShowTheHistory(plotted.at("/snapshot/charts"), chosen, stepsThen);
			for (String chart : List.of("learningRate", "loss", "gradNorm", "updateNorm")) {
				JsonNode pixels = plotted.get("pixels").get(chart);
				assertThat(pixels.get("sampled").asInt()).isEqualTo(30);
				assertThat(pixels.get("matched").asInt()).as("%s's line drawn: %s", chart, pixels)
					.isGreaterThanOrEqualTo(27);
			}
			assertPng(screenshot);
			step(chosen, w, stepsLater - stepsThen);
			page.proceed();

			JsonNode updated = page.next("updated", PHASE);
			page.finish(PHASE);
			assertChartsShowTheHistory(updated.at("/snapshot/charts"), chosen, stepsLater);
			List<String> historyReads = new ArrayList<>();
			updated.at("/seen/api").forEach(request -> {
				if (request.get("path").asString().startsWith("/v1/sessions/" + chosen + "/history")) {
					historyReads.add(request.get("path").asString());
				}
			});
			assertThat(historyReads.get(0)).as("the first read of the history").endsWith("/history");
			assertThat(historyReads.subList(1, historyReads.size())).as("the later reads: only what is new")
				.allMatch(path -> path.matches(".*/history\\?since=\\d+")).contains(
						"/v1/sessions/" + chosen + "/history?since=" + stepsThen);
			assertNoErrors(updated.get("seen"), "plotting a session");
		}
		finally {
			for (String id : created) {
				send("DELETE", "/v1/sessions/" + id, null, this.key);
			}
			if (other != null) {
				send("DELETE", "/v1/sessions/" + other, null, otherKey);
			}
		}
	}

	/** Each chart holds the session's history: (step, value) for every entry, as GET .../history answers it. */
	private void assertChartsShowTheHistory(JsonNode charts, String session, int steps) throws Exception {
		JsonNode history = JSON.readTree(get("/v1/sessions/" + session + "/history").body()).get("steps");
		assertThat(history).hasSize(steps);
		for (String field : List.of("learningRate", "loss", "gradNorm", "updateNorm")) {
			JsonNode points = charts.get(field).get("points");
			assertThat(points).as("%s's points", field).hasSize(steps);
			for (int i = 0; i < steps; i++) {
				assertThat(points.get(i).get(0).asLong()).isEqualTo(history.get(i).get("step").asLong());
				assertThat(points.get(i).get(1).asDouble()).as("%s at step %d", field, i + 1)
					.isEqualTo(history.get(i).get(field).asDouble());
			}
			assertThat(charts.get(field).get("pixels")).hasSize(steps);
			// the learning rate on a linear scale; the others on a log scale when they span more than a decade
			double min = Double.POSITIVE_INFINITY;
			double max = 0;
			for (JsonNode entry : history) {
				min = Math.min(min, entry.get(field).asDouble());
				max = Math.max(max, entry.get(field).asDouble());
			}
			assertThat(charts.get(field).get("scale").asString()).as("%s's scale (%s to %s)", field, min, max)
				.isEqualTo((!field.equals("learningRate") && min > 0 && max / min > 10) ? "log" : "linear");
		}
		// a schedule moves the learning rate: the chart is not a flat line
		assertThat(charts.at("/learningRate/points/0/1").asDouble())
			.isNotEqualTo(charts.at("/learningRate/points/" + (steps - 1) + "/1").asDouble());
	}

	private String create() throws Exception {
		HttpResponse<String> created = post("/v1/sessions", "{\"optimizer\":{\"learningRate\":0.5,"
				+ "\"schedule\":{\"type\":\"cosine\",\"tMax\":60}},\"parameters\":{\"w\":[1.0,-2.0,3.0]}}");
		assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
		return JSON.readTree(created.body()).get("id").asString();
	}

	/** Steps of f(w) = |w|², the loss sent with each. */
	private void step(String session, double[] w, int steps) throws Exception {
		for (int i = 0; i < steps; i++) {
			double loss = w[0] * w[0] + w[1] * w[1] + w[2] * w[2];
			HttpResponse<String> answer = post("/v1/sessions/" + session + "/steps", JSON.writeValueAsString(Map.of(
					"gradients", Map.of("w", new double[] { 2 * w[0], 2 * w[1], 2 * w[2] }), "loss", loss)));
			assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
			JsonNode updated = JSON.readTree(answer.body()).at("/parameters/w");
			for (int k = 0; k < 3; k++) {
				w[k] = updated.get(k).asDouble();
			}
		}
	}

	/** The ids of the sessions this key sees, as the API pages them. */
	private List<List<String>> apiPages(int size) throws Exception {
		List<List<String>> pages = new ArrayList<>();
		String token = null;
		do {
			JsonNode page = JSON.readTree(get("/v1/sessions?pageSize=" + size + ((token != null) ? "&pageToken="
					+ token : "")).body());
			pages.add(strings(page.get("sessions"), "id"));
			token = page.has("nextPageToken") ? page.get("nextPageToken").asString() : null;
		}
		while (token != null);
		return pages;
	}

	// ---- both pages ---------------------------------------------------------------------------------------------

	/** With a key: the page met a 401, showed it with the key field, and was given the key. Without: it never asked. */
	private void checkKeyPrompt(JsonNode prompt) {
		if (this.key == null) {
			assertThat(prompt.isNull()).as("the key prompt of an open service").isTrue();
			return;
		}
		assertThat(prompt.get("access").asString()).isEqualTo("refused");
		assertThat(prompt.get("keyFieldVisible").asBoolean()).as("the API key field").isTrue();
		assertThat(prompt.at("/problem/status").asString()).isEqualTo("401");
		assertThat(prompt.at("/problem/type").asString()).isEqualTo("/problems/unauthorized");
		assertThat(prompt.at("/problem/text").asString()).contains("Unauthorized", "this service needs an API key");
	}

	/**
	 * No page error, no failed request, and no console error but the browser's own line for each 401 (the calls
	 * before the key was given).
	 */
	private void assertNoErrors(JsonNode seen, String what) {
		assertThat(seen.get("errors")).as("page errors %s", what).isEmpty();
		assertThat(seen.get("failed")).as("failed requests %s", what).isEmpty();
		List<String> errors = new ArrayList<>();
		seen.get("console").forEach(message -> {
			if (message.get("type").asString().equals("error")) {
				errors.add(message.get("text").asString());
			}
		});
		if (this.key == null) {
			assertThat(errors).as("console errors %s", what).isEmpty();
		}
		else {
			assertThat(errors).as("console errors %s", what).allMatch(
					text -> text.startsWith("Failed to load resource: the server responded with a status of 401"));
		}
	}

	/** At least 90% of the sampled points show the colour now, and at most 10% before it was drawn. */
	private static void assertDrawn(JsonNode now, JsonNode before, String what) {
		int sampled = now.get("sampled").asInt();
		assertThat(sampled).as("%s: points sampled", what).isGreaterThanOrEqualTo(20);
		assertThat(now.get("matched").asInt()).as("%s: points in its colour %s", what, now)
			.isGreaterThanOrEqualTo(sampled * 9 / 10);
		assertThat(before.get("matched").asInt()).as("%s: the same points before the run %s", what, before)
			.isLessThanOrEqualTo(sampled / 10);
	}

	static void assertPng(Path file) throws Exception {
		assertThat(file).exists();
		byte[] bytes = Files.readAllBytes(file);
		assertThat(bytes).as("%s is a PNG", file).startsWith(new byte[] { (byte) 0x89, 'P', 'N', 'G' });
		// IHDR: width and height, big-endian, at 16 and 20
		int width = ((bytes[16] & 0xff) << 24) | ((bytes[17] & 0xff) << 16) | ((bytes[18] & 0xff) << 8) | (bytes[19] & 0xff);
		assertThat(width).as("%s's width", file).isGreaterThanOrEqualTo(800);
	}

	private boolean eventuallyGone(String id) throws Exception {
		for (int i = 0; i < 100; i++) {
			if (get("/v1/sessions/" + id).statusCode() == 404) {
				return true;
			}
			Thread.sleep(100);
		}
		return false;
	}

	private List<String> sessionIds() throws Exception {
		List<String> ids = new ArrayList<>();
		apiPages(1000).forEach(ids::addAll);
		return ids;
	}

	private static JsonNode last(JsonNode array) {
		return array.get(array.size() - 1);
	}

	private static double[] doubles(JsonNode array) {
		double[] values = new double[array.size()];
		for (int i = 0; i < values.length; i++) {
			values[i] = array.get(i).asDouble();
		}
		return values;
	}

	private static List<String> strings(JsonNode array) {
		List<String> values = new ArrayList<>();
		array.forEach(value -> values.add(value.asString()));
		return values;
	}

	private static List<String> strings(JsonNode array, String field) {
		List<String> values = new ArrayList<>();
		array.forEach(value -> values.add(value.get(field).asString()));
		return values;
	}

	private HttpResponse<String> get(String path) throws Exception {
		return send("GET", path, null, this.key);
	}

	private HttpResponse<String> post(String path, String body) throws Exception {
		return send("POST", path, body, this.key);
	}

	private HttpResponse<String> send(String method, String path, String body, String key) throws Exception {
		HttpRequest.Builder request = ApiRequests.json(URI.create(this.base + path), method, body, key);
		return this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

}
