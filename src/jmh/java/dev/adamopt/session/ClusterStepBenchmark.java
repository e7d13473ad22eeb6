package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import com.hazelcast.cluster.Member;
import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.tensor.Tensor;

/**
 * One Adam step of a session that holds its parameters, as the service runs it behind {@code POST .../steps} (the
 * store's part: the operation, the gradients in, every parameter back), on the in-memory store and on two clusters of
 * three members in this JVM (loopback TCP, Hazelcast 5.7): one without backups, one with one synchronous backup (the
 * default). The step is sent through the member that owns the session, and through another member (as two of three
 * steps are in a three-node cluster whose clients talk to any node). Alternating: each round runs every store in turn (the order rotating), so the ratios' two sides
 * are measured side by side.
 * <p>
 * Run: {@code ./mvnw -Pbenchmark test-compile exec:exec -Dbenchmark.main=dev.adamopt.session.ClusterStepBenchmark
 * -Dbenchmark.args="17,1000000,10000000 7"} (sizes, rounds). Prints, per size and store, the median time of a step
 * in each round, and the ratio to the memory store within each round: median (min-max over rounds).
 * <p>
 * Figures (2026-11-25, the 2-core AMD EPYC VM, JDK 17, 5 rounds; the README's Cluster section has the table):
 * <pre>
 * params  memory    no backup: on owner / via other   1 backup: on owner / via other
 * 17      0.60 us   8.7 us x14 / 61 us x80            104 us x124 / 90 us x137
 * 1M      2.63 ms   7.2 ms x2.7 / 25 ms x9.4          21 ms x7.8 / 36 ms x13
 * 10M     27.9 ms   77 ms x2.7 / 234 ms x8.5          199 ms x7.2 / 344 ms x12
 * </pre>
 */
public final class ClusterStepBenchmark {

	private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

	private ClusterStepBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		int[] sizes = Arrays.stream(((args.length > 0) ? args[0] : "17,1000000,10000000").split(","))
			.mapToInt(Integer::parseInt)
			.toArray();
		int rounds = (args.length > 1) ? Integer.parseInt(args[1]) : 7;
		TestCluster noBackup = cluster(0);
		TestCluster oneBackup = cluster(1);
		try {
			List<String> names = List.of("memory", "no backup, on owner", "no backup, via other",
					"1 backup, on owner", "1 backup, via other");
			SessionStore viaNoBackup = noBackup.store(0, CLOCK, Duration.ofHours(1));
			SessionStore viaOneBackup = oneBackup.store(0, CLOCK, Duration.ofHours(1));
			List<SessionStore> stores = List.of(new CaffeineSessionStore(Duration.ofHours(1), System::nanoTime),
					viaNoBackup, viaNoBackup, viaOneBackup, viaOneBackup);
			System.out.printf(Locale.ROOT, "java %s, %d cores, max heap %d MB%n", Runtime.version(),
					Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
			for (int size : sizes) {
				run(size, rounds, names, stores, List.of(noBackup, noBackup, oneBackup, oneBackup));
			}
		}
		finally {
			noBackup.close();
			oneBackup.close();
		}
	}

	private static TestCluster cluster(int backups) {
		return TestCluster.started(3, backups);
	}

	private static void run(int size, int rounds, List<String> names, List<SessionStore> stores,
			List<TestCluster> clusters) {
		// steps per timing: about a second of work on the memory store
		int steps = (size <= 1000) ? 2000 : (size <= 1_000_000) ? 60 : 8;
		List<String> ids = new ArrayList<>();
		for (int s = 0; s < stores.size(); s++) {
			// a session owned by the member the store sends through (member 0), or by another
			String id = (s == 0) ? "bench-" + size
					: owned(clusters.get(s - 1), "bench-" + size + "-" + s, s % 2 == 1);
			OptimizerSession session = new OptimizerSession(id, null,
					OptimizerConfig.create(Hyperparameters.defaults(Algorithm.ADAM), List.of(), null, null,
							NonFinitePolicy.ERROR),
					Precision.FLOAT64, CLOCK.instant(), SessionCapacity.unlimited());
			session.holdParameters(Map.of("W", Tensor.ofFloat64(new int[] { size }, random(size, 1))), null,
					CLOCK.instant());
			stores.get(s).add(session);
			ids.add(id);
		}
		Map<String, Tensor> gradients = new LinkedHashMap<>();
		gradients.put("dW", Tensor.ofFloat64(new int[] { size }, random(size, 2)));
		SessionOperation.Step step = new SessionOperation.Step(null, gradients, Double.NaN, null, null,
				CLOCK.instant());
		double[][] medians = new double[stores.size()][rounds];
		// warm-up: one round not counted
		for (int round = -1; round < rounds; round++) {
			for (int k = 0; k < stores.size(); k++) {
				int s = Math.floorMod(k + round, stores.size());
				double[] times = new double[steps];
				for (int i = 0; i < steps; i++) {
					long start = System.nanoTime();
					stores.get(s).apply(ids.get(s), step).orElseThrow();
					times[i] = (System.nanoTime() - start) / 1e3;
				}
				if (round >= 0) {
					Arrays.sort(times);
					medians[s][round] = times[steps / 2];
				}
			}
		}
		for (int s = 0; s < stores.size(); s++) {
			double[] ratios = new double[rounds];
			for (int r = 0; r < rounds; r++) {
				ratios[r] = medians[s][r] / medians[0][r];
			}
			System.out.printf(Locale.ROOT, "%,11d params  %-20s step %s us  x%s%n", size, names.get(s),
					spread(medians[s]), spread(ratios));
		}
		for (int s = 0; s < stores.size(); s++) {
			stores.get(s).remove(ids.get(s));
		}
	}

	/** median (min-max) */
	private static String spread(double[] values) {
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		return String.format(Locale.ROOT, "%.3g (%.3g-%.3g)", sorted[sorted.length / 2], sorted[0],
				sorted[sorted.length - 1]);
	}

	/** An id whose owner is member 0 ({@code local}) or another member. */
	private static String owned(TestCluster cluster, String prefix, boolean local) {
		Member self = cluster.instance(0).getCluster().getLocalMember();
		return IntStream.range(0, 1000)
			.mapToObj(i -> prefix + "-" + i)
			.filter(id -> cluster.instance(0).getPartitionService().getPartition(id).getOwner().equals(self) == local)
			.findFirst()
			.orElseThrow();
	}

	private static double[] random(int size, long seed) {
		SplittableRandom random = new SplittableRandom(seed);
		double[] values = new double[size];
		for (int i = 0; i < size; i++) {
			values[i] = random.nextDouble(-1, 1);
		}
		return values;
	}

}
