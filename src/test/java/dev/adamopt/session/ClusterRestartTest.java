package dev.adamopt.session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import com.hazelcast.cluster.Member;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.adamopt.session.PersistenceTestSupport.FORMAT;
import static dev.adamopt.session.PersistenceTestSupport.assertSameCheckpoint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A full-cluster restart: three members, each with its own directory (interval mode), as the service's nodes are
 * wired ({@link ClusterSessionConfiguration}, {@link PersistenceConfiguration}); sessions created (some with a create
 * key, some of an API key) and stepped through every member, a member that joins mid-way (so that some sessions move
 * and older files of theirs stay on the members they left), deletions, then every member stopped, and three new members
 * started on the same directories: every session is back as it was, none that was deleted.
 */
class ClusterRestartTest {

	private static final Duration IDLE_TIMEOUT = Duration.ofHours(1);

	private static final Caller ALICE = Caller.key("alice");

	@TempDir
	Path root;

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final List<Members> started = new ArrayList<>();

	@AfterEach
	void stopEverything() throws IOException {
		for (Members members : this.started) {
			members.close();
		}
	}

	@Test
	void aCleanStopOfEveryMemberShouldRestoreEverySessionAsItWasLeft() throws IOException {
		Before before = runUntilStop();
		// changes after the last interval are written when each member stops
		before.stepAll();
		Map<String, Expected> expected = before.expected();
		for (int i = 0; i < 3; i++) {
			before.members.nodes[i].persistence.close();
			before.members.cluster.shutdown(i);
		}
		before.members.closeDirectories();

		assertRestored(expected, before);
	}

	@Test
	void aCrashOfEveryMemberAfterTheIntervalsWriteShouldRestoreEverySessionAsItWasWritten() throws IOException {
		Before before = runUntilStop();
		Map<String, Expected> expected = before.expected();
		// lost in the crash: not written yet
		before.stepAll();
		before.members.cluster.close();
		before.members.closeDirectories();

		assertRestored(expected, before);
	}

	/**
	 * Two members take sessions and write them; a third joins and takes some over; every session is stepped again
	 * (those that moved are written by their new owner from now on), two are deleted, and every member writes its
	 * interval.
	 */
	private Before runUntilStop() throws IOException {
		Members members = new Members();
		for (int i = 0; i < 2; i++) {
			members.start();
			members.restore(i);
		}
		Before before = new Before(members);
		for (int i = 0; i < 24; i++) {
			SessionService through = members.nodes[i % 2].service;
			Caller caller = (i % 3 == 0) ? ALICE : Caller.anyone();
			String id;
			if (i % 2 == 0) {
				IdempotencyKey key = new IdempotencyKey("create-" + i, i);
				id = through.createOnce(caller, key, () -> CreateKeysContract.create(through, caller)).session().id();
				before.keys.put(id, key);
			}
			else {
				id = CreateKeysContract.create(through, caller).id();
			}
			before.callers.put(id, caller);
		}
		before.stepAll();
		members.flush();
		Map<String, Member> owners = before.owners();

		members.start();
		members.restore(2);
		members.cluster.awaitSafe();
		Member third = members.cluster.instance(2).getCluster().getLocalMember();
		Map<String, Member> now = before.owners();
		List<String> moved = owners.keySet().stream().filter(id -> now.get(id).equals(third)).sorted().toList();
		assertThat(moved).as("sessions that moved to the member that joined").hasSizeGreaterThan(1);
		before.moved.addAll(moved);
		for (String id : moved) {
			before.left.put(id, owners.get(id).equals(members.cluster.instance(0).getCluster().getLocalMember()) ? 0 : 1);
		}
		before.stepAll();
		// one that moved (an older file of it waits on the member it left) and one that did not
		String movedAndDeleted = moved.get(0);
		String deleted = owners.keySet().stream().filter(id -> !moved.contains(id)).findFirst().orElseThrow();
		for (String id : List.of(movedAndDeleted, deleted)) {
			members.nodes[2].service.delete(before.callers.get(id), id, null);
			before.callers.remove(id);
			before.deleted.add(id);
		}
		before.moved.remove(movedAndDeleted);
		members.flush();
		return before;
	}

	private void assertRestored(Map<String, Expected> expected, Before before) throws IOException {
		// the members a session left keep an older file of it, which must lose to the newer one
		for (String id : before.moved) {
			Path file = this.root.resolve("member-" + before.left.get(id)).resolve(id + ".session");
			assertThat(file).exists();
			try (java.io.InputStream in = Files.newInputStream(file)) {
				assertThat(new SessionFile(FORMAT).read(in, Files.size(file)).checkpoint().step())
					.isLessThan(expected.get(id).step());
			}
		}
		Members after = new Members();
		for (int i = 0; i < 3; i++) {
			after.start();
		}
		after.cluster.awaitSafe();
		// each member puts back its files once all have joined, as the service's members do when they start together;
		// the member that joined last (whose files are the newest of the sessions that moved) first
		for (int i : new int[] { 2, 0, 1 }) {
			after.restore(i);
		}

		SessionService service = after.nodes[1].service;
		assertThat(service.list(null, 1000)).extracting(SessionSnapshot::id)
			.containsExactlyInAnyOrderElementsOf(expected.keySet())
			.doesNotContainAnyElementsOf(before.deleted);
		for (Map.Entry<String, Expected> entry : expected.entrySet()) {
			String id = entry.getKey();
			Expected was = entry.getValue();
			SessionService through = after.nodes[id.hashCode() & 1].service;
			assertSameCheckpoint(through.checkpoint(id), was.checkpoint());
			assertThat(through.get(id).step()).isEqualTo(was.step());
			assertThat(through.history(id, Long.MIN_VALUE)).isEqualTo(was.history());
			// the owner is back: its key finds the session, another key does not
			assertThat(after.nodes[0].store.apply(id, ContractOperations.owner()))
				.isEqualTo((was.caller() == ALICE) ? Optional.of("alice") : Optional.empty());
			if (was.caller() == ALICE) {
				assertThat(through.get(ALICE, id).id()).isEqualTo(id);
			}
			assertThat(after.nodes[0].store.apply(id, Caller.key("bob"), ContractOperations.owner())).isEmpty();
			IdempotencyKey key = before.keys.get(id);
			if (key != null) {
				SessionService.Created again = after.nodes[2].service.createOnce(was.caller(), key, () -> {
					throw new AssertionError("a retried create must not create after a restart");
				});
				assertThat(again.replayed()).isTrue();
				assertThat(again.session().id()).isEqualTo(id);
			}
		}
		assertThat(before.moved).as("moved sessions are among those checked").isNotEmpty()
			.allMatch(expected::containsKey);
		// the deleted sessions' files are gone everywhere, and so are their keys
		for (int i = 0; i < 3; i++) {
			for (String id : before.deleted) {
				assertThat(this.root.resolve("member-" + i).resolve(id + ".session")).doesNotExist();
			}
		}
		for (String id : before.deleted) {
			IdempotencyKey key = before.keys.get(id);
			if (key != null) {
				assertThat(service.createOnce(Caller.anyone(), key, () -> CreateKeysContract.create(service,
						Caller.anyone())).replayed()).isFalse();
			}
		}
	}

	/** What the sessions were before the stop. */
	private final class Before {

		final Members members;

		final Map<String, Caller> callers = new LinkedHashMap<>();

		final Map<String, IdempotencyKey> keys = new HashMap<>();

		final List<String> moved = new ArrayList<>();

		final List<String> deleted = new ArrayList<>();

		/** The member each moved session left, where an older file of it stays. */
		final Map<String, Integer> left = new HashMap<>();

		private int round;

		Before(Members members) {
			this.members = members;
		}

		/** One step of every session, each through another running member than the last. */
		void stepAll() {
			this.round++;
			int i = 0;
			for (String id : this.callers.keySet()) {
				Node node = this.members.running().get((i++ + this.round) % this.members.running().size());
				node.service.step(Caller.anyone(), id, null, CreateKeysContract.gradients(0.1 * this.round + i),
						1.0 / (this.round + i), null, null);
			}
		}

		Map<String, Member> owners() {
			return this.callers.keySet()
				.stream()
				.collect(Collectors.toMap(id -> id,
						id -> this.members.cluster.instance(0).getPartitionService().getPartition(id).getOwner()));
		}

		Map<String, Expected> expected() {
			SessionService service = this.members.nodes[0].service;
			Map<String, Expected> expected = new LinkedHashMap<>();
			this.callers.forEach((id, caller) -> expected.put(id, new Expected(caller, service.checkpoint(id),
					service.get(id).step(), service.history(id, Long.MIN_VALUE))));
			return expected;
		}

	}

	private record Expected(Caller caller, Checkpoint checkpoint, long step, List<StepHistory.Entry> history) {

	}

	/** One service node's session layer on a member. */
	private record Node(HazelcastSessionStore store, SessionService service, SessionPersistence persistence) {

	}

	/** Three members on {@link #root}'s directories, as the service's nodes wire them (interval mode). */
	private final class Members {

		final SessionDirectory[] directories = new SessionDirectory[3];

		final SessionWriter[] writers = new SessionWriter[3];

		final Node[] nodes = new Node[3];

		final TestCluster cluster;

		Members() throws IOException {
			for (int i = 0; i < 3; i++) {
				Path dir = Files.createDirectories(ClusterRestartTest.this.root.resolve("member-" + i));
				this.directories[i] = SessionDirectory.open(dir, new SessionFile(FORMAT));
				this.writers[i] = new SessionWriter(this.directories[i], false, ClusterRestartTest.this.clock);
			}
			this.cluster = new TestCluster(3, 1, index -> SessionCapacity.unlimited(),
					index -> new ClusterFiles(this.writers[index], false));
			ClusterRestartTest.this.started.add(this);
		}

		/** Starts the next member. */
		void start() {
			this.cluster.start();
		}

		/** Member {@code i}'s session layer, which puts back the files it has. */
		void restore(int i) {
			HazelcastSessionStore store = this.cluster.store(i, ClusterRestartTest.this.clock, IDLE_TIMEOUT);
			SessionService service = new SessionService(store, ClusterRestartTest.this.clock,
					this.cluster.member(i).capacity, new ClusterCreateKeys(this.cluster.instance(i), store));
			// the interval's writes are run by hand (flush)
			SessionPersistence persistence = new SessionPersistence(this.writers[i], store, service,
					Duration.ofSeconds(10), (task, period) -> () -> {
					});
			this.nodes[i] = new Node(store, service, persistence);
		}

		List<Node> running() {
			return java.util.Arrays.stream(this.nodes).filter(java.util.Objects::nonNull).toList();
		}

		/** The interval's write on every running member. */
		void flush() {
			for (Node node : running()) {
				SessionPersistence.Flush flush = node.persistence.flush();
				assertThat(flush.failed()).isZero();
			}
		}

		void closeDirectories() throws IOException {
			for (SessionDirectory directory : this.directories) {
				directory.close();
			}
		}

		void close() throws IOException {
			this.cluster.close();
			closeDirectories();
		}

	}

}
