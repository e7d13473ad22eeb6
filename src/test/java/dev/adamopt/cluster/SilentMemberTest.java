package dev.adamopt.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A member that stops answering without closing its connections (a frozen process: SIGSTOP here, a long GC pause or a
 * hung machine in life) is declared dead by the heartbeat settings: after {@code adam.cluster.failure-timeout}, not
 * at once as a closed connection is, and not never.
 */
@EnabledOnOs({ OS.LINUX, OS.MAC })
class SilentMemberTest {

	private static final Duration FAILURE_TIMEOUT = Duration.ofSeconds(8);

	private final List<HazelcastInstance> members = new ArrayList<>();

	private Process silent;

	@AfterEach
	void stop() {
		this.members.forEach(member -> member.getLifecycleService().terminate());
		if (this.silent != null) {
			this.silent.destroyForcibly();
		}
	}

	@Test
	@Timeout(value = 3, unit = TimeUnit.MINUTES)
	void aFrozenMemberShouldBeDroppedAfterTheFailureTimeout() throws Exception {
		int[] ports = LoopbackPorts.free(3);
		List<String> all = Arrays.stream(ports).mapToObj(port -> "127.0.0.1:" + port).toList();
		String name = "silent-" + ports[0];
		this.silent = startMemberProcess(name, all, ports[2]);
		List<CompletableFuture<HazelcastInstance>> starting = Arrays.stream(ports, 0, 2)
			.mapToObj(port -> properties(name, all, port))
			.map(properties -> CompletableFuture
				.supplyAsync(() -> Hazelcast.newHazelcastInstance(ClusterConfigs.member(properties))))
			.toList();
		CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).exceptionally(failure -> null).join();
		starting.stream()
			.filter(member -> !member.isCompletedExceptionally())
			.forEach(member -> this.members.add(member.join()));
		assertThat(this.members).as("members started").hasSize(2);
		await().atMost(Duration.ofSeconds(90))
			.untilAsserted(() -> this.members
				.forEach(member -> assertThat(member.getCluster().getMembers()).hasSize(3)));

		signal("STOP", this.silent.pid());
		long frozen = System.nanoTime();
		await().atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(100))
			.untilAsserted(() -> this.members
				.forEach(member -> assertThat(member.getCluster().getMembers()).hasSize(2)));
		Duration detected = Duration.ofNanos(System.nanoTime() - frozen);

		System.out.println("A frozen member was dropped after " + detected.toMillis() + " ms (failure timeout "
				+ FAILURE_TIMEOUT.toSeconds() + " s)");
		// not a closed connection noticed at once: the heartbeat deadline (less one heartbeat of slack)
		assertThat(detected).isGreaterThanOrEqualTo(FAILURE_TIMEOUT.minusSeconds(2));
	}

	private static ClusterProperties properties(String name, List<String> members, int port) {
		return new ClusterProperties(name, members, port, null, 1, Duration.ofSeconds(1), FAILURE_TIMEOUT);
	}

	private static Process startMemberProcess(String name, List<String> members, int port) throws IOException {
		List<String> command = new ArrayList<>();
		command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		command.addAll(Arrays.asList(System.getProperty("hazelcast.jvm.flags", "").split("\\s+")));
		command.removeIf(String::isEmpty);
		command.addAll(List.of("-Xmx256m", "-cp", System.getProperty("java.class.path"), Member.class.getName(), name,
				String.join(",", members), String.valueOf(port)));
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		CompletableFuture.runAsync(() -> {
			try (BufferedReader output = new BufferedReader(
					new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
				while (output.readLine() != null) {
					// drained, so that the child never blocks on a full pipe
				}
			}
			catch (IOException ex) {
				// the child is gone
			}
		});
		return process;
	}

	private static void signal(String signal, long pid) throws Exception {
		Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).inheritIO().start();
		assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
		assertThat(kill.exitValue()).as("kill -" + signal).isZero();
	}

	/**
	 * A member alone in its JVM, until killed or until its standard input closes (the test JVM is gone): name,
	 * members (comma-separated), port.
	 */
	public static final class Member {

		public static void main(String[] args) throws IOException {
			Hazelcast.newHazelcastInstance(ClusterConfigs.member(
					properties(args[0], List.of(args[1].split(",")), Integer.parseInt(args[2]))));
			while (System.in.read() != -1) {
				// waiting for the end of the input
			}
			System.exit(0);
		}

	}

}
