package dev.adamopt.process;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import dev.adamopt.tensor.SafetensorsBytes;
import dev.adamopt.tensor.SafetensorsBytes.Builder;
import dev.adamopt.tensor.SafetensorsBytes.Entry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Durable sessions in a real process: {@code kill -9} and SIGTERM, then a new process on the same directory. A
 * restored session is compared with a replay (a new session given the same requests up to the restored step): the
 * same checkpoint, byte for byte, so the state is whole and of one step.
 */
class DurableSessionsProcessTest {

	private static final HttpClient HTTP = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(10))
		.build();

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

	private static final String OCTET = "application/octet-stream";

	private static final String JSON_TYPE = "application/json";

	/** What the brief asks to cover: JSON and safetensors, held and client-held, float32 and float64, amsgrad. */
	private static final List<Kind> KINDS = List.of(
			new Kind(1, false, true, "float64", "{\"learningRate\": 0.01}", 3),
			new Kind(2, false, false, "float32", "{\"learningRate\": 0.02, \"amsgrad\": true}", 0),
			new Kind(3, true, true, "float64", "{\"algorithm\": \"adamw\", \"amsgrad\": true}", 0),
			new Kind(4, true, false, "float32", "{\"maximize\": true}", 2));

	@TempDir
	Path dir;

	private final List<ServiceProcess> services = new ArrayList<>();

	private final ExecutorService executor = Executors.newSingleThreadExecutor();

	@AfterEach
	void stop() throws InterruptedException {
		this.executor.shutdownNow();
		for (ServiceProcess service : this.services) {
			service.close();
		}
	}

	@Test
	void everyStepShouldGiveBackEveryAnsweredStepAfterKill9() throws Exception {
		ServiceProcess before = start("every-step-before", "every-step", "10s");
		List<Trainer> trainers = new ArrayList<>();
		for (Kind kind : KINDS) {
			Trainer trainer = new Trainer(before, kind);
			trainer.steps(5);
			trainers.add(trainer);
		}
		Map<String, byte[]> states = new LinkedHashMap<>();
		Map<String, JsonNode> views = new LinkedHashMap<>();
		Map<String, String> etags = new LinkedHashMap<>();
		for (Trainer trainer : trainers) {
			states.put(trainer.id, trainer.state(before));
			views.put(trainer.id, trainer.view(before));
			etags.put(trainer.id, trainer.etag(before));
		}
		// one more session steps on while the process is killed: every answered step must survive
		Trainer running = new Trainer(before, KINDS.get(2));
		Stepping stepping = stepInBackground(running);
		stepping.awaitSteps(3);

		before.kill();
		stepping.stop();
		ServiceProcess after = start("every-step-after", "every-step", "10s");

		for (Trainer trainer : trainers) {
			assertThat(trainer.view(after)).as(trainer.toString()).isEqualTo(views.get(trainer.id));
			assertThat(trainer.state(after)).as(trainer + ": the state before the kill, byte for byte")
				.isEqualTo(states.get(trainer.id));
			assertThat(trainer.state(after)).as(trainer + ": a replay").isEqualTo(replay(after, trainer.kind, 5));
			assertThat(trainer.etag(after)).as(trainer + ": after a crash, a new ETag").isNotEqualTo(etags.get(trainer.id));
		}
		long restored = running.step(after);
		assertThat(restored).as("every answered step is on disk").isBetween((long) running.answered, running.answered + 1L);
		assertThat(running.state(after)).isEqualTo(replay(after, running.kind, (int) restored));
		assertThat(list(after)).hasSize(trainers.size() + 1);
	}

	@Test
	void intervalShouldLoseAtMostAboutOneIntervalAfterKill9AndNeverTearASession() throws Exception {
		Duration interval = Duration.ofMillis(500);
		ServiceProcess before = start("interval-before", "interval", "500ms");
		List<Trainer> trainers = new ArrayList<>();
		for (Kind kind : KINDS) {
			trainers.add(new Trainer(before, kind.withoutPatch()));
		}
		// round-robin steps for a while, remembering when each step was answered
		long deadline = System.nanoTime() + Duration.ofSeconds(6).toNanos();
		while (System.nanoTime() < deadline) {
			for (Trainer trainer : trainers) {
				trainer.step();
			}
		}
		long killedAt = System.nanoTime();
		before.kill();
		ServiceProcess after = start("interval-after", "interval", "500ms");

		// one interval, plus slack for a write in progress and for a busy, shared machine
		long horizon = killedAt - interval.plus(Duration.ofSeconds(3)).toNanos();
		for (Trainer trainer : trainers) {
			long restored = trainer.step(after);
			long answeredBeforeHorizon = trainer.answeredBy(horizon);
			assertThat(restored).as(trainer + ": at most the steps sent, at least those answered an interval before the "
					+ "kill (%d of %d)", answeredBeforeHorizon, trainer.answered)
				.isBetween(answeredBeforeHorizon, trainer.answered + 1L);
			assertThat(answeredBeforeHorizon).as(trainer + ": the run was long enough to test something")
				.isGreaterThan(0);
			assertThat(trainer.state(after)).as(trainer + ": whole and of one step: a replay up to step " + restored)
				.isEqualTo(replay(after, trainer.kind, (int) restored));
		}
	}

	@Test
	void sigtermShouldFinishTheStepsInFlightAndLoseNothing() throws Exception {
		// the interval is long: only the write at shutdown can save these steps
		ServiceProcess before = start("sigterm-before", "interval", "1h");
		List<Trainer> trainers = new ArrayList<>();
		for (Kind kind : KINDS) {
			Trainer trainer = new Trainer(before, kind);
			trainer.steps(4);
			trainers.add(trainer);
		}
		Map<String, byte[]> states = new LinkedHashMap<>();
		Map<String, String> etags = new LinkedHashMap<>();
		for (Trainer trainer : trainers) {
			states.put(trainer.id, trainer.state(before));
			etags.put(trainer.id, trainer.etag(before));
		}
		Trainer running = new Trainer(before, KINDS.get(0).withoutPatch());
		Stepping stepping = stepInBackground(running);
		stepping.awaitSteps(3);

		before.terminate();
		assertThat(before.awaitExit(Duration.ofSeconds(60))).as("exited").isNotEqualTo(-1);
		stepping.stop();
		assertThat(before.log()).contains("on shutdown");
		assertThat(this.dir.resolve(".clean-shutdown")).exists();
		ServiceProcess after = start("sigterm-after", "interval", "1h");

		assertThat(this.dir.resolve(".clean-shutdown")).as("taken by the new process").doesNotExist();
		for (Trainer trainer : trainers) {
			assertThat(trainer.state(after)).as(trainer.toString()).isEqualTo(states.get(trainer.id));
			assertThat(trainer.etag(after)).as(trainer + ": after a clean stop, the same ETag")
				.isEqualTo(etags.get(trainer.id));
		}
		long restored = running.step(after);
		assertThat(restored).as("no answered step is lost").isBetween((long) running.answered, running.answered + 1L);
		assertThat(running.state(after)).isEqualTo(replay(after, running.kind, (int) restored));
	}

	@Test
	void unreadableSessionFilesShouldBeSetAsideAndTheRestLoad() throws Exception {
		ServiceProcess before = start("corrupt-before", "every-step", "10s");
		List<Trainer> trainers = new ArrayList<>();
		for (Kind kind : KINDS.subList(0, 3)) {
			Trainer trainer = new Trainer(before, kind);
			trainer.steps(2);
			trainers.add(trainer);
		}
		byte[] intact = trainers.get(2).state(before);
		before.kill();
		Path flipped = this.dir.resolve(trainers.get(0).id + ".session");
		byte[] bytes = Files.readAllBytes(flipped);
		// in the last tensor's data, just before the (empty) answer length and the checksum
		bytes[bytes.length - 20] ^= 0x20;
		Files.write(flipped, bytes);
		Path truncated = this.dir.resolve(trainers.get(1).id + ".session");
		Files.write(truncated, Arrays.copyOf(Files.readAllBytes(truncated), 100));

		ServiceProcess after = start("corrupt-after", "every-step", "10s");

		assertThat(list(after)).containsExactly(trainers.get(2).id);
		assertThat(trainers.get(2).state(after)).isEqualTo(intact);
		for (Trainer lost : trainers.subList(0, 2)) {
			assertThat(send("GET", after.uri("/v1/sessions/" + lost.id), null, JSON_TYPE, null).statusCode())
				.isEqualTo(404);
		}
		assertThat(this.dir.resolve(trainers.get(0).id + ".session.corrupt")).exists();
		assertThat(this.dir.resolve(trainers.get(1).id + ".session.corrupt")).exists();
		assertThat(after.log().lines().filter(line -> line.contains(" WARN ") && line.contains("set aside")))
			.hasSize(2)
			.anySatisfy(line -> assertThat(line).contains(trainers.get(0).id, "checksum mismatch"))
			.anySatisfy(line -> assertThat(line).contains(trainers.get(1).id, "truncated"));
	}

	// ---- helpers ---------------------------------------------------------------------------------------------------

	private ServiceProcess start(String name, String mode, String interval) throws IOException, InterruptedException {
		ServiceProcess service = ServiceProcess.start(name, List.of("-Xmx256m"),
				Map.of("adam.persistence.directory", this.dir.toString(), "adam.persistence.mode", mode,
						"adam.persistence.interval", interval));
		this.services.add(service);
		return service;
	}

	/** The checkpoint of a new session on {@code service} given the same requests as {@code kind}'s first steps. */
	private static byte[] replay(ServiceProcess service, Kind kind, int steps) throws Exception {
		Trainer replay = new Trainer(service, kind);
		replay.steps(steps);
		byte[] state = replay.state(service);
		send("DELETE", service.uri("/v1/sessions/" + replay.id), null, JSON_TYPE, null);
		return state;
	}

	private static List<String> list(ServiceProcess service) throws Exception {
		List<String> ids = new ArrayList<>();
		JSON.readTree(ok(send("GET", service.uri("/v1/sessions"), null, JSON_TYPE, null)).body())
			.get("sessions")
			.forEach(session -> ids.add(session.get("id").asString()));
		return ids;
	}

	private Stepping stepInBackground(Trainer trainer) {
		AtomicBoolean going = new AtomicBoolean(true);
		Future<?> loop = this.executor.submit(() -> {
			try {
				while (going.get()) {
					trainer.step();
				}
			}
			catch (IOException | RuntimeException | AssertionError ex) {
				// the process went away mid-request, or refused it while stopping: the steps answered are counted
			}
			return null;
		});
		return new Stepping(trainer, going, loop);
	}

	private record Stepping(Trainer trainer, AtomicBoolean going, Future<?> loop) {

		void awaitSteps(int steps) throws InterruptedException {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
			while (this.trainer.answered < steps && System.nanoTime() < deadline) {
				Thread.sleep(10);
			}
			assertThat(this.trainer.answered).as("steps in the background").isGreaterThanOrEqualTo(steps);
		}

		void stop() throws Exception {
			this.going.set(false);
			this.loop.get(60, TimeUnit.SECONDS);
		}

	}

	/**
	 * How a session is created and stepped; everything is a function of the seed and the step number, so that a
	 * replay sends the same requests.
	 * @param patchAfter the step after which the learning rate is halved (0 for never)
	 */
	private record Kind(int seed, boolean binary, boolean held, String precision, String optimizer, int patchAfter) {

		Kind withoutPatch() {
			return new Kind(this.seed, this.binary, this.held, this.precision, this.optimizer, 0);
		}

		int[] shapeOf(String tensor) {
			return tensor.equals("W") ? (this.binary ? new int[] { 100, 50 } : new int[] { 4, 5 })
					: new int[] { this.binary ? 50 : 5 };
		}

		/** Values in [-1, 1) for tensor {@code t} at step {@code step} (0: the initial parameters). */
		double[] values(String tensor, int step) {
			int[] shape = shapeOf(tensor);
			int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
			return new Random(this.seed * 1_000_003L + step * 31L + tensor.hashCode()).doubles(n, -1, 1).toArray();
		}

		@Override
		public String toString() {
			return (this.binary ? "safetensors" : "JSON") + ", " + (this.held ? "held" : "client-held") + ", "
					+ this.precision + ", " + this.optimizer;
		}

	}

	/** A client training one session. */
	private static final class Trainer {

		private static final List<String> TENSORS = List.of("W", "b");

		final Kind kind;

		final String id;

		private final ServiceProcess service;

		/** The client's parameters (client-held sessions): JSON, or safetensors entries. */
		private JsonNode jsonParameters;

		private Map<String, Entry> binaryParameters;

		volatile int answered;

		/** When each step was answered (System.nanoTime). */
		private final List<Long> answeredAt = new ArrayList<>();

		Trainer(ServiceProcess service, Kind kind) throws Exception {
			this.service = service;
			this.kind = kind;
			ObjectNode create = NODES.objectNode();
			create.set("optimizer", JSON.readTree(kind.optimizer()));
			create.put("precision", kind.precision());
			ObjectNode initial = NODES.objectNode();
			TENSORS.forEach(t -> initial.set(t, jsonTensor(kind.shapeOf(t), kind.values(t, 0))));
			if (kind.held() && !kind.binary()) {
				create.set("parameters", initial);
			}
			HttpResponse<byte[]> created = send("POST", service.uri("/v1/sessions"), JSON_TYPE, JSON_TYPE,
					JSON.writeValueAsBytes(create));
			assertThat(created.statusCode()).as(new String(created.body())).isEqualTo(201);
			this.id = JSON.readTree(created.body()).get("id").asString();
			if (kind.binary()) {
				Builder file = SafetensorsBytes.builder();
				TENSORS.forEach(t -> addTensor(file, t, kind.shapeOf(t), kind.values(t, 0)));
				this.binaryParameters = SafetensorsBytes.parse(file.build()).tensors();
				if (kind.held()) {
					assertThat(send("PUT", uri("/parameters"), OCTET, JSON_TYPE, file.build()).statusCode())
						.isEqualTo(204);
				}
			}
			else {
				this.jsonParameters = initial;
			}
		}

		void steps(int n) throws IOException, InterruptedException {
			for (int i = 0; i < n; i++) {
				step();
			}
		}

		/** The next step, then the PATCH that follows it, if any. */
		void step() throws IOException, InterruptedException {
			int step = this.answered + 1;
			HttpResponse<byte[]> response = this.kind.binary() ? binaryStep(step) : jsonStep(step);
			ok(response);
			if (step == this.kind.patchAfter()) {
				ok(send("PATCH", uri(""), JSON_TYPE, JSON_TYPE,
						"{\"optimizer\": {\"learningRate\": 0.005}}".getBytes()));
			}
			this.answeredAt.add(System.nanoTime());
			this.answered = step;
		}

		private HttpResponse<byte[]> jsonStep(int step) throws IOException, InterruptedException {
			ObjectNode body = NODES.objectNode();
			ObjectNode gradients = body.putObject("gradients");
			TENSORS.forEach(t -> gradients.set("d" + t, jsonTensor(this.kind.shapeOf(t), this.kind.values(t, step))));
			if (!this.kind.held()) {
				body.set("parameters", this.jsonParameters);
			}
			HttpResponse<byte[]> response = send("POST", uri("/steps"), JSON_TYPE, JSON_TYPE,
					JSON.writeValueAsBytes(body));
			if (response.statusCode() == 200 && !this.kind.held()) {
				this.jsonParameters = JSON.readTree(response.body()).get("parameters");
			}
			return response;
		}

		private HttpResponse<byte[]> binaryStep(int step) throws IOException, InterruptedException {
			Builder file = SafetensorsBytes.builder();
			for (String t : TENSORS) {
				if (!this.kind.held()) {
					Entry p = this.binaryParameters.get(t);
					file.tensor(t, p.dtype(), p.shape(), p.bytes());
				}
				addTensor(file, t + ".grad", this.kind.shapeOf(t), this.kind.values(t, step));
			}
			HttpResponse<byte[]> response = send("POST", uri("/steps"), OCTET, OCTET, file.build());
			if (response.statusCode() == 200 && !this.kind.held()) {
				this.binaryParameters = SafetensorsBytes.parse(response.body()).tensors();
			}
			return response;
		}

		private void addTensor(Builder file, String name, int[] shape, double[] values) {
			if (this.kind.precision().equals("float32")) {
				float[] narrow = new float[values.length];
				for (int i = 0; i < values.length; i++) {
					narrow[i] = (float) values[i];
				}
				file.f32(name, shape, narrow);
			}
			else {
				file.f64(name, shape, values);
			}
		}

		/** How many steps had been answered at {@code nanoTime}. */
		long answeredBy(long nanoTime) {
			return this.answeredAt.stream().filter(at -> at <= nanoTime).count();
		}

		/** The session's step count on {@code on}. */
		long step(ServiceProcess on) throws Exception {
			return view(on).get("step").asLong();
		}

		/** The session as GET shows it: id, step, settings, tensors, times. */
		JsonNode view(ServiceProcess on) throws Exception {
			return JSON.readTree(ok(send("GET", on.uri("/v1/sessions/" + this.id), null, JSON_TYPE, null)).body());
		}

		/** The session's ETag. */
		String etag(ServiceProcess on) throws Exception {
			return ok(send("GET", on.uri("/v1/sessions/" + this.id), null, JSON_TYPE, null)).headers()
				.firstValue("ETag")
				.orElseThrow();
		}

		/** The binary checkpoint. */
		byte[] state(ServiceProcess on) throws Exception {
			return ok(send("GET", on.uri("/v1/sessions/" + this.id + "/state"), null, OCTET, null)).body();
		}

		private URI uri(String path) {
			return this.service.uri("/v1/sessions/" + this.id + path);
		}

		@Override
		public String toString() {
			return "session " + this.id + " (" + this.kind + ")";
		}

	}

	private static ArrayNode jsonTensor(int[] shape, double[] values) {
		ArrayNode tensor = NODES.arrayNode();
		if (shape.length == 1) {
			Arrays.stream(values).forEach(tensor::add);
			return tensor;
		}
		int columns = shape[1];
		for (int row = 0; row < shape[0]; row++) {
			ArrayNode line = tensor.addArray();
			Arrays.stream(values, row * columns, (row + 1) * columns).forEach(line::add);
		}
		return tensor;
	}

	private static HttpResponse<byte[]> send(String method, URI uri, String contentType, String accept, byte[] body)
			throws IOException, InterruptedException {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri)
			.timeout(Duration.ofSeconds(60))
			.method(method, (body != null) ? HttpRequest.BodyPublishers.ofByteArray(body)
					: HttpRequest.BodyPublishers.noBody());
		if (contentType != null) {
			request.header("Content-Type", contentType);
		}
		if (accept != null) {
			request.header("Accept", accept);
		}
		return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
	}

	private static HttpResponse<byte[]> ok(HttpResponse<byte[]> response) {
		assertThat(response.statusCode()).as(() -> response.request().method() + " " + response.request().uri() + ": "
				+ new String(response.body())).isBetween(200, 204);
		return response;
	}

}
