package dev.adamopt.session;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import com.hazelcast.cluster.Member;
import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.memory.MemoryBudgetExceededException;
import dev.adamopt.session.SessionException.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Each member of a cluster admits the sessions it owns under its own limits (adam.limits.*, per-key quotas), as one
 * node does, wherever the create came in; the copies it must keep (backups) are counted in its memory, never refused.
 * Sessions land on members by their random ids, so each test creates until the members it fills are full.
 */
class ClusterLimitsTest {

	private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);

	/** Far more creates than random ids need to land on each member at least once. */
	private static final int ATTEMPTS = 200;

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private TestCluster cluster;

	@AfterEach
	void stopCluster() {
		if (this.cluster != null) {
			this.cluster.close();
		}
	}

	@Test
	void eachMemberShouldRefuseANewSessionBeyondItsOwnMaxSessionsAndTakeOneAgainAfterADelete() {
		start(2, 1, index -> new SessionCapacity(MemoryBudget.unlimited(), 2, 100));
		SessionService service = service(0);
		List<String> refusals = new ArrayList<>();
		List<String> created = createUntil(service, Caller.anyone(), 4, refusals);
		assertThat(created).filteredOn(ownedBy(0)).hasSize(2);
		assertThat(created).filteredOn(ownedBy(1)).hasSize(2);
		assertThat(this.cluster.member(0).capacity.sessions()).isEqualTo(2);
		assertThat(this.cluster.member(1).capacity.sessions()).isEqualTo(2);
		// both full now: every create is refused, with the words one node uses
		for (int i = 0; i < 10; i++) {
			refusals.add(refused(service, Caller.anyone(), Reason.TOO_MANY_SESSIONS));
		}
		assertThat(refusals).allSatisfy(detail -> assertThat(detail).contains("already holds 2 sessions",
				"its limit (adam.limits.max-sessions)", "delete sessions you no longer need"));

		String gone = created.stream().filter(ownedBy(1)).findFirst().orElseThrow();
		service(1).delete(gone);
		assertThat(this.cluster.member(1).capacity.sessions()).isEqualTo(1);
		List<String> again = createUntil(service, Caller.anyone(), 1, new ArrayList<>());
		assertThat(again).allMatch(ownedBy(1));
	}

	@Test
	void eachMemberShouldRefuseASessionItsMemoryCannotHoldAndTakeOneAgainAfterADelete() {
		long bytes = sessionBytes();
		// two sessions fit on each member, a third does not; no backups, so a member holds only what it owns
		start(2, 0, index -> new SessionCapacity(new MemoryBudget(bytes * 5 / 2), 100, 100));
		SessionService service = service(1);
		List<String> created = createUntil(service, Caller.anyone(), 4, new ArrayList<>());
		assertThat(created).filteredOn(ownedBy(0)).hasSize(2);
		assertThat(created).filteredOn(ownedBy(1)).hasSize(2);
		for (int i = 0; i < 10; i++) {
			MemoryBudgetExceededException refusal = catchMemory(service);
			assertThat(refusal.getMessage()).contains("the service's " + (bytes * 5 / 2)
					+ " bytes of session memory (adam.limits.memory)", "free memory by deleting sessions");
			assertThat(refusal.free()).isEqualTo(bytes * 5 / 2 - 2 * bytes);
		}
		for (int member = 0; member < 2; member++) {
			assertThat(this.cluster.member(member).capacity.budget().used()).isEqualTo(2 * bytes);
		}

		String gone = created.stream().filter(ownedBy(0)).findFirst().orElseThrow();
		service.delete(gone);
		assertThat(this.cluster.member(0).capacity.budget().used()).isEqualTo(bytes);
		assertThat(createUntil(service, Caller.anyone(), 1, new ArrayList<>())).allMatch(ownedBy(0));
		assertThat(this.cluster.member(0).capacity.budget().used()).isEqualTo(2 * bytes);
	}

	@Test
	void aBackupShouldBeCountedInItsMembersMemoryButNeverRefusedAndGiveItBackOnDelete() {
		long bytes = sessionBytes();
		// one session fits on each member, and one backup comes on top of what a member holds
		long limit = bytes * 3 / 2;
		start(3, 1, index -> new SessionCapacity(new MemoryBudget(limit), 100, 100));
		SessionService service = service(0);
		List<String> created = createUntil(service, Caller.anyone(), 2, new ArrayList<>());
		// each session on one member and its backup on another: four copies on three members, one holds two
		long[] used = new long[3];
		for (int member = 0; member < 3; member++) {
			used[member] = this.cluster.member(member).capacity.budget().used();
		}
		assertThat(used[0] + used[1] + used[2]).isEqualTo(4 * bytes);
		assertThat(used).contains(2 * bytes);
		assertThat(2 * bytes).as("the member holds more than its limit: the backup was not refused")
			.isGreaterThan(limit);
		for (int i = 0; i < 10; i++) {
			catchMemory(service);
		}
		for (String id : created) {
			service.delete(id);
		}
		for (int member = 0; member < 3; member++) {
			assertThat(this.cluster.member(member).capacity.budget().used()).isZero();
			assertThat(this.cluster.member(member).capacity.sessions()).isZero();
		}
	}

	@Test
	void aKeysSessionQuotaShouldHoldOnEachMemberThatOwnsItsSessions() {
		start(2, 1, index -> {
			MemoryBudget budget = MemoryBudget.unlimited();
			return new SessionCapacity(budget, 100, 100, HistoryProperties.DEFAULT_SIZE,
					new KeyQuotas(budget, 0, 1));
		});
		SessionService service = service(0);
		Caller alice = Caller.key("alice");
		List<String> alices = createUntil(service, alice, 2, new ArrayList<>());
		assertThat(alices).filteredOn(ownedBy(0)).hasSize(1);
		assertThat(alices).filteredOn(ownedBy(1)).hasSize(1);
		for (int i = 0; i < 10; i++) {
			assertThat(refused(service, alice, Reason.TOO_MANY_SESSIONS)).contains("API key 'alice' already holds 1 "
					+ "sessions, its quota (adam.limits.per-key.max-sessions)");
		}
		// another key's sessions are not counted in alice's quota
		assertThat(CreateKeysContract.create(service, Caller.key("bob")).id()).isNotNull();

		String gone = alices.stream().filter(ownedBy(0)).findFirst().orElseThrow();
		service(1).delete(alice, gone, null);
		assertThat(createUntil(service, alice, 1, new ArrayList<>())).allMatch(ownedBy(0));
	}

	private void start(int members, int backups, java.util.function.IntFunction<SessionCapacity> capacities) {
		this.cluster = new TestCluster(members, backups, capacities);
		for (int i = 0; i < members; i++) {
			this.cluster.start();
		}
	}

	/** The service of a node on member {@code index}. */
	private SessionService service(int index) {
		HazelcastSessionStore store = this.cluster.store(index, this.clock, IDLE_TIMEOUT);
		return new SessionService(store, this.clock, this.cluster.member(index).capacity,
				new ClusterCreateKeys(this.cluster.instance(index), store));
	}

	/** Creates sessions of {@code caller} until {@code count} were made, noting the details of the refusals. */
	private static List<String> createUntil(SessionService service, Caller caller, int count, List<String> refusals) {
		List<String> created = new ArrayList<>();
		for (int attempt = 0; attempt < ATTEMPTS && created.size() < count; attempt++) {
			try {
				created.add(CreateKeysContract.create(service, caller).id());
			}
			catch (SessionException | MemoryBudgetExceededException ex) {
				refusals.add(ex.getMessage());
			}
		}
		if (created.size() < count) {
			fail("only " + created.size() + " of " + count + " sessions were admitted in " + ATTEMPTS + " creates: "
					+ refusals.subList(0, Math.min(3, refusals.size())));
		}
		return created;
	}

	private static String refused(SessionService service, Caller caller, Reason reason) {
		try {
			CreateKeysContract.create(service, caller);
		}
		catch (SessionException ex) {
			assertThat(ex.reason()).isEqualTo(reason);
			return ex.getMessage();
		}
		return fail("a create was admitted beyond the limit");
	}

	private static MemoryBudgetExceededException catchMemory(SessionService service) {
		try {
			CreateKeysContract.create(service, Caller.anyone());
		}
		catch (MemoryBudgetExceededException ex) {
			return ex;
		}
		return fail("a create was admitted beyond the memory budget");
	}

	private Predicate<String> ownedBy(int index) {
		Member member = this.cluster.instance(index).getCluster().getLocalMember();
		return id -> this.cluster.instance(0).getPartitionService().getPartition(id).getOwner().equals(member);
	}

	/** What one session of {@link CreateKeysContract#create} takes, as one node counts it. */
	private long sessionBytes() {
		SessionCapacity capacity = SessionCapacity.unlimited();
		MemoryCreateKeys keys = new MemoryCreateKeys();
		SessionService alone = new SessionService(SessionConfiguration.store(IDLE_TIMEOUT,
				() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), capacity, keys, null, false), this.clock,
				capacity, keys);
		long bytes = CreateKeysContract.create(alone, Caller.anyone()).bytes();
		assertThat(capacity.budget().used()).isEqualTo(bytes);
		return bytes;
	}

}
