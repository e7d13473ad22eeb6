package dev.adamopt.session;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import dev.adamopt.cluster.LoopbackPorts;
import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.process.ServiceProcess;
import dev.adamopt.tensor.SafetensorsBytes;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real service processes on loopback ({@code adam.store=hazelcast}, heartbeat 1 s, failure timeout 8 s) and a
 * client that trains as a user's would: over HTTP and JSON, a list of the three nodes' URLs, each step through node A
 * or node B in turn, moving on to the next node when one does not answer (each step carries an
 * {@code Idempotency-Key}, so that sending it again elsewhere never applies it twice). Node C, which owns some of
 * the sessions (its own directory holds their files), is killed with {@code kill -9} in the middle of training; later
 * node A, the node the client talks to, is killed too. Every step answers 200 with the next step number and the
 * parameters a replay in this JVM computes, bit for bit; at the end every session's checkpoint (safetensors) is
 * bit-identical to the replay's. The latency of each step is printed, so that the README can say what a client sees.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClusterProcessesTest {

	private static final HttpClient HTTP = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

	private static final String JSON_TYPE = "application/json";

	private static final String OCTET = "application/octet-stream";

	private static final double LEARNING_RATE = 0.01;

	/** Sessions created at first; more are created (up to {@link #MAX_SESSIONS}) until node C owns two. */
	private static final int SESSIONS = 6;

	private static final int MAX_SESSIONS = 24;

	/** Steps each session takes before C is killed, between C's and A's deaths, and after A's. */
	private static final int STEPS_PER_PHASE = 8;

	private static final int ROWS = 16;

	private static final int COLUMNS = 20;

	private static final int A = 0;

	private static final int B = 1;

	private static final int C = 2;

	private static final String[] NAMES = { "A", "B", "C" };

	private static final Instant NOW = Instant.parse("2026-03-01T00:00:00Z");

	@TempDir
	Path dir;

	private final List<ServiceProcess> nodes = new ArrayList<>();

	@AfterEach
	void stop() throws InterruptedException {
		for (ServiceProcess node : this.nodes) {
			if (node != null) {
				node.close();
			}
		}
	}

	@Test
	void sessionsShouldTrainBitIdenticalThroughTheKill9OfTheirOwnerAndOfTheNodeTheClientTalksTo() throws Throwable {
		try {
			startCluster();
			Client client = new Client(this.nodes.stream().map(node -> node.uri("")).toList());
			List<Trainer> trainers = new ArrayList<>();
			for (int s = 0; s < SESSIONS; s++) {
				trainers.add(new Trainer(client, s));
			}
			// ownership is not visible over HTTP, but each member writes the sessions it owns to its own directory
			while (ownedBy(C, trainers).size() < 2 && trainers.size() < MAX_SESSIONS) {
				trainers.add(new Trainer(client, trainers.size()));
			}
			List<Trainer> ownedByC = ownedBy(C, trainers);
			assertThat(ownedByC).as("sessions node C owns (their files are in its directory)").hasSizeGreaterThan(1);
			System.out.printf("%d sessions; node C owns %d of them: %s%n", trainers.size(), ownedByC.size(),
					ownedByC.stream().map(t -> t.id).toList());

			List<Long> before = train(trainers, STEPS_PER_PHASE);

			long logOffsetA = log(A).length();
			long logOffsetB = log(B).length();
			this.nodes.get(C).kill();
			List<Long> afterC = train(trainers, STEPS_PER_PHASE);
			assertThat(client.failovers).as("A and B answered every request themselves").isZero();

			// the cluster has made new backups of what C held (the master logs it): it survives another loss now
			awaitLog("A or B: the members after C's death and the migrations that restore the backups",
					() -> log(A).substring((int) logOffsetA) + log(B).substring((int) logOffsetB),
					text -> text.contains("Members {size:2") && (text.contains("All migration tasks have been completed")
							|| text.contains("Partition balance is ok, no need to repartition")));

			this.nodes.get(A).kill();
			List<Long> afterA = train(trainers, STEPS_PER_PHASE);
			assertThat(client.failovers).as("the requests meant for A that moved on to B")
				.isGreaterThanOrEqualTo(trainers.size() * STEPS_PER_PHASE / 2);

			for (Trainer trainer : trainers) {
				trainer.assertStateMatchesReplay();
			}
			assertThat(client.list(B)).as("every session, listed by the last node")
				.containsExactlyInAnyOrderElementsOf(trainers.stream().map(t -> t.id).toList());

			report(trainers.size(), ownedByC.size(), before, afterC, afterA);
		}
		catch (Throwable failure) {
			printLogs();
			throw failure;
		}
	}

	// ---- the cluster -----------------------------------------------------------------------------------------------

	private void startCluster() throws Exception {
		int[] ports = LoopbackPorts.free(3);
		String members = Arrays.stream(ports).mapToObj(port -> "127.0.0.1:" + port).collect(Collectors.joining(","));
		String cluster = "processes-" + ports[0] + "-" + System.nanoTime();
		List<String> jvm = new ArrayList<>(List.of("-Xmx384m", "-XX:+UseSerialGC"));
		String flags = System.getProperty("hazelcast.jvm.flags", "").strip();
		if (!flags.isEmpty()) {
			jvm.addAll(Arrays.asList(flags.split("\\s+")));
		}
		ExecutorService starters = Executors.newFixedThreadPool(3);
		try {
			List<CompletableFuture<ServiceProcess>> starting = new ArrayList<>();
			for (int i = 0; i < 3; i++) {
				Path data = Files.createDirectories(this.dir.resolve("node-" + NAMES[i]));
				Map<String, String> properties = new LinkedHashMap<>();
				properties.put("adam.store", "hazelcast");
				properties.put("adam.cluster.name", cluster);
				properties.put("adam.cluster.members", members);
				properties.put("adam.cluster.port", String.valueOf(ports[i]));
				properties.put("adam.cluster.heartbeat-interval", "1s");
				properties.put("adam.cluster.failure-timeout", "8s");
				properties.put("adam.persistence.directory", data.toString());
				properties.put("adam.persistence.mode", "every-step");
				String name = "cluster-node-" + NAMES[i];
				starting.add(CompletableFuture.supplyAsync(() -> {
					try {
						return ServiceProcess.start(name, jvm, properties);
					}
					catch (IOException ex) {
						throw new UncheckedIOException(ex);
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
						throw new IllegalStateException(ex);
					}
				}, starters));
			}
			Throwable failed = null;
			for (CompletableFuture<ServiceProcess> node : starting) {
				try {
					this.nodes.add(node.get(3, TimeUnit.MINUTES));
				}
				catch (Exception ex) {
					this.nodes.add(null);
					failed = (failed != null) ? failed : ex;
				}
			}
			if (failed != null) {
				throw new IllegalStateException("a node did not start", failed);
			}
		}
		finally {
			starters.shutdownNow();
		}
		for (int i = 0; i < 3; i++) {
			int node = i;
			awaitLog(NAMES[i] + " sees three members", () -> log(node), text -> text.contains("Members {size:3"));
		}
	}

	private String log(int node) {
		try {
			return this.nodes.get(node).log();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static void awaitLog(String what, java.util.function.Supplier<String> text, Predicate<String> done)
			throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
		while (!done.test(text.get())) {
			assertThat(System.nanoTime()).as("waited 90 s for: " + what).isLessThan(deadline);
			Thread.sleep(100);
		}
	}

	/** The trainers whose session {@code node} owns: it writes their files (every-step: before it answers). */
	private List<Trainer> ownedBy(int node, List<Trainer> trainers) {
		Path data = this.dir.resolve("node-" + NAMES[node]);
		return trainers.stream().filter(t -> Files.exists(data.resolve(t.id + ".session"))).toList();
	}

	private void printLogs() {
		for (int i = 0; i < this.nodes.size(); i++) {
			ServiceProcess node = this.nodes.get(i);
			if (node == null) {
				continue;
			}
			try {
				List<String> lines = node.log().lines().toList();
				System.out.println("==== node " + NAMES[i] + " (" + node.logFile().toAbsolutePath() + "), last 150 lines");
				lines.subList(Math.max(0, lines.size() - 150), lines.size()).forEach(System.out::println);
			}
			catch (IOException ex) {
				System.out.println("==== node " + NAMES[i] + ": log unreadable: " + ex);
			}
		}
	}

	// ---- training --------------------------------------------------------------------------------------------------

	/**
	 * {@code steps} more steps of every session, round robin, each through A or B in turn (odd steps A, even B);
	 * the latency of each step in the order they were taken, in microseconds.
	 */
	private static List<Long> train(List<Trainer> trainers, int steps) throws Exception {
		List<Long> latencies = new ArrayList<>();
		for (int k = 0; k < steps; k++) {
			for (Trainer trainer : trainers) {
				latencies.add(trainer.step());
			}
		}
		return latencies;
	}

	private static void report(int sessions, int ownedByC, List<Long> before, List<Long> afterC, List<Long> afterA) {
		System.out.printf("Cluster of three processes, %d sessions of %d float64 each (C owned %d), one step at a "
				+ "time:%n", sessions, ROWS * COLUMNS + COLUMNS, ownedByC);
		System.out.println("  before any kill:        " + summary(before));
		System.out.println("  after kill -9 of C:     " + summary(afterC) + "; first round "
				+ firstRound(afterC, sessions));
		System.out.println("  after kill -9 of A:     " + summary(afterA) + "; first round "
				+ firstRound(afterA, sessions));
	}

	private static String summary(List<Long> micros) {
		long[] sorted = micros.stream().mapToLong(Long::longValue).sorted().toArray();
		long over = Arrays.stream(sorted).filter(m -> m > 500_000).count();
		return String.format("%d steps, median %.1f ms, p90 %.1f ms, max %.1f ms, %d over 500 ms", sorted.length,
				sorted[sorted.length / 2] / 1e3, sorted[(int) (sorted.length * 0.9)] / 1e3,
				sorted[sorted.length - 1] / 1e3, over);
	}

	private static String firstRound(List<Long> micros, int sessions) {
		return micros.subList(0, sessions).stream().map(m -> String.format("%.1f", m / 1e3))
			.collect(Collectors.joining(", ", "[", "] ms"));
	}

	/** A client of the whole cluster: tries the node asked for, then the next ones, on a connection failure. */
	private static final class Client {

		private final List<URI> nodes;

		int failovers;

		Client(List<URI> nodes) {
			this.nodes = nodes;
		}

		/** The answer of the first node, from {@code preferred} on, that answers at all. */
		HttpResponse<byte[]> send(int preferred, String method, String path, String accept, byte[] json,
				String idempotencyKey) throws IOException, InterruptedException {
			IOException last = null;
			for (int attempt = 0; attempt < this.nodes.size(); attempt++) {
				URI node = this.nodes.get((preferred + attempt) % this.nodes.size());
				HttpRequest.Builder request = HttpRequest.newBuilder(node.resolve(path))
					.timeout(Duration.ofSeconds(60))
					.header("Accept", accept)
					.method(method, (json != null) ? HttpRequest.BodyPublishers.ofByteArray(json)
							: HttpRequest.BodyPublishers.noBody());
				if (json != null) {
					request.header("Content-Type", JSON_TYPE);
				}
				if (idempotencyKey != null) {
					request.header("Idempotency-Key", idempotencyKey);
				}
				try {
					return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
				}
				catch (IOException ex) {
					// refused, or reset on a kept-alive connection: the next node (the key makes a resend safe)
					last = ex;
					this.failovers++;
				}
			}
			throw last;
		}

		List<String> list(int node) throws IOException, InterruptedException {
			HttpResponse<byte[]> listed = ok(send(node, "GET", "/v1/sessions?pageSize=1000", JSON_TYPE, null, null));
			List<String> ids = new ArrayList<>();
			JSON.readTree(listed.body()).get("sessions").forEach(session -> ids.add(session.get("id").asString()));
			return ids;
		}

	}

	/** One session, trained through the cluster and, step by step, replayed here in a session of its own. */
	private static final class Trainer {

		private final Client client;

		private final int seed;

		final String id;

		private final OptimizerSession replay;

		private long step;

		Trainer(Client client, int seed) throws IOException, InterruptedException {
			this.client = client;
			this.seed = seed;
			Map<String, Tensor> initial = new LinkedHashMap<>();
			initial.put("W1", Tensor.ofFloat64(new int[] { ROWS, COLUMNS }, values(0, ROWS * COLUMNS, 0.5)));
			initial.put("b1", Tensor.ofFloat64(new int[] { COLUMNS }, values(0, COLUMNS, 0.125)));
			ObjectNode create = NODES.objectNode();
			create.putObject("optimizer").put("learningRate", LEARNING_RATE);
			ObjectNode parameters = create.putObject("parameters");
			initial.forEach((name, tensor) -> parameters.set(name, json(tensor)));
			HttpResponse<byte[]> created = ok(client.send(A, "POST", "/v1/sessions", JSON_TYPE,
					JSON.writeValueAsBytes(create), UUID.randomUUID().toString()));
			assertThat(created.statusCode()).isEqualTo(201);
			this.id = JSON.readTree(created.body()).get("id").asString();
			this.replay = new OptimizerSession("replay-" + seed, null,
					OptimizerConfig.create(Hyperparameters.defaults(Algorithm.ADAM).withLearningRate(LEARNING_RATE),
							List.of(), null, null, NonFinitePolicy.ERROR),
					Precision.FLOAT64, NOW, SessionCapacity.unlimited());
			this.replay.holdParameters(initial, null, NOW);
		}

		/** The next step, through A (odd steps) or B (even), compared with the replay's; its latency in µs. */
		long step() throws IOException, InterruptedException {
			long k = this.step + 1;
			Map<String, Tensor> gradients = new LinkedHashMap<>();
			gradients.put("dW1", Tensor.ofFloat64(new int[] { ROWS, COLUMNS }, values(k, ROWS * COLUMNS, 1e-2)));
			gradients.put("db1", Tensor.ofFloat64(new int[] { COLUMNS }, values(k, COLUMNS, 3.0)));
			ObjectNode body = NODES.objectNode();
			ObjectNode json = body.putObject("gradients");
			gradients.forEach((name, tensor) -> json.set(name, json(tensor)));
			byte[] request = JSON.writeValueAsBytes(body);
			String key = UUID.nameUUIDFromBytes((this.id + "/" + k).getBytes(StandardCharsets.UTF_8)).toString();

			long started = System.nanoTime();
			HttpResponse<byte[]> answer = this.client.send((k % 2 == 1) ? A : B, "POST",
					"/v1/sessions/" + this.id + "/steps", JSON_TYPE, request, key);
			long micros = (System.nanoTime() - started) / 1_000;

			assertThat(answer.statusCode()).as(() -> "step " + k + " of " + this.id + ": "
					+ new String(answer.body(), StandardCharsets.UTF_8)).isEqualTo(200);
			JsonNode result = JSON.readTree(answer.body());
			assertThat(result.get("step").asLong()).as("the step number %s answers", this.id).isEqualTo(k);
			this.replay.step(null, gradients, null, null, NOW);
			Map<String, Tensor> expected = this.replay.heldParameters();
			for (Map.Entry<String, Tensor> tensor : expected.entrySet()) {
				assertThat(bits(flatten(result.get("parameters").get(tensor.getKey()))))
					.as("step %d of %s: %s, bit for bit", k, this.id, tensor.getKey())
					.isEqualTo(bits(tensor.getValue().float64()));
			}
			this.step = k;
			return micros;
		}

		/** The session's checkpoint, as safetensors from the last node standing, against the replay's. */
		void assertStateMatchesReplay() throws IOException, InterruptedException {
			HttpResponse<byte[]> state = ok(this.client.send(B, "GET", "/v1/sessions/" + this.id + "/state", OCTET,
					null, null));
			SafetensorsBytes.Parsed parsed = SafetensorsBytes.parse(state.body());
			assertThat(parsed.metadata().get("step")).as("%s: step", this.id).isEqualTo(String.valueOf(this.step));
			Checkpoint expected = this.replay.checkpoint();
			assertThat(expected.step()).isEqualTo(this.step);
			expected.tensors().forEach((name, tensor) -> {
				assertThat(bits(parsed.tensors().get(name + ".parameter").f64())).as("%s %s parameter", this.id, name)
					.isEqualTo(bits(tensor.parameter().float64()));
				assertThat(bits(parsed.tensors().get(name + ".firstMoment").f64()))
					.as("%s %s first moment", this.id, name)
					.isEqualTo(bits(tensor.firstMoment().float64()));
				assertThat(bits(parsed.tensors().get(name + ".secondMoment").f64()))
					.as("%s %s second moment", this.id, name)
					.isEqualTo(bits(tensor.secondMoment().float64()));
			});
		}

		/** Deterministic, irregular values, different for every session and step. */
		private double[] values(long step, int n, double scale) {
			double[] values = new double[n];
			for (int i = 0; i < n; i++) {
				values[i] = scale * Math.sin(1.0 + this.seed * 31.0 + step * 7.3 + i * 0.61) + i * 1e-7;
			}
			return values;
		}

		@Override
		public String toString() {
			return "session " + this.id;
		}

	}

	/** A tensor as the README's JSON: nested lists in its shape (rank 1 or 2 here). */
	private static ArrayNode json(Tensor tensor) {
		double[] values = tensor.float64();
		int[] shape = tensor.shape();
		ArrayNode array = NODES.arrayNode();
		if (shape.length == 1) {
			Arrays.stream(values).forEach(array::add);
			return array;
		}
		for (int row = 0; row < shape[0]; row++) {
			ArrayNode line = array.addArray();
			Arrays.stream(values, row * shape[1], (row + 1) * shape[1]).forEach(line::add);
		}
		return array;
	}

	private static double[] flatten(JsonNode tensor) {
		List<Double> values = new ArrayList<>();
		flatten(tensor, values);
		return values.stream().mapToDouble(Double::doubleValue).toArray();
	}

	private static void flatten(JsonNode node, List<Double> values) {
		if (node.isArray()) {
			node.forEach(child -> flatten(child, values));
		}
		else {
			assertThat(node.isDouble() || node.isInt() || node.isLong()).as("a number: " + node).isTrue();
			values.add(node.asDouble());
		}
	}

	private static long[] bits(double[] values) {
		return Arrays.stream(values).mapToLong(Double::doubleToRawLongBits).toArray();
	}

	private static HttpResponse<byte[]> ok(HttpResponse<byte[]> response) {
		assertThat(response.statusCode()).as(() -> response.request().method() + " " + response.request().uri()
				+ ": " + new String(response.body(), StandardCharsets.UTF_8)).isBetween(200, 204);
		return response;
	}

}
