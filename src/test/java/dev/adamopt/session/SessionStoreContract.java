package dev.adamopt.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.LongStream;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every {@link SessionStore} promises: "run this on the session where it lives, if it is the caller's". Each
 * store has a subclass that makes it; what only one store does (its files, say) is tested in that subclass.
 */
abstract class SessionStoreContract {

	/** Long enough that nothing expires unless the test moves the clock past it. */
	static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);

	/** How long a test waits for another thread: generous, for a busy 2-core machine. */
	private static final long WAIT_SECONDS = 60;

	protected final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	protected final SessionCapacity capacity = SessionCapacity.unlimited();

	static final SessionOperation.Snapshot SNAPSHOT = new SessionOperation.Snapshot();

	static final SessionOperation.TakeCheckpoint CHECKPOINT = new SessionOperation.TakeCheckpoint();

	// operations a cluster can send: values, capturing nothing of the test (see ContractOperations)
	static final SessionOperation<String> ID = ContractOperations.id();

	static final SessionOperation<String> OWNER = ContractOperations.owner();

	static final SessionOperation<SessionStore.Key> KEY = ContractOperations.key();

	private final ExecutorService executor = Executors.newFixedThreadPool(4);

	private SessionStore store;

	/**
	 * A new, empty store whose sessions expire after {@code idleTimeout} without a use, by {@code clock} (which the
	 * test moves by hand); sessions that leave it may be given back to {@link #capacity}.
	 */
	protected abstract SessionStore newStore(Clock clock, Duration idleTimeout);

	@BeforeEach
	void openStore() {
		this.store = newStore(this.clock, IDLE_TIMEOUT);
	}

	@AfterEach
	void stopThreads() {
		this.executor.shutdownNow();
	}

	// ---- apply ------------------------------------------------------------------------------------------------------

	@Test
	void applyShouldRunTheActionOnTheSessionWhereItLivesAndReturnItsResult() {
		String id = addHeld("s-1", null, 1.0);
		Optional<Long> step = this.store.apply(id, Caller.anyone(), step()).map(StepResult::step);
		assertThat(step).contains(1L);
		// the change stays with the session: the next action sees it
		assertThat(this.store.apply(id, SNAPSHOT).map(SessionSnapshot::step)).contains(1L);
		assertThat(this.store.apply(id, ID)).contains(id);
	}

	@Test
	void applyShouldAnswerEmptyForAnIdThatWasNeverAddedWithoutRunningTheAction() {
		addHeld("s-1", null, 1.0);
		AtomicBoolean ran = new AtomicBoolean();
		assertThat(this.store.apply("no-such-id", Caller.anyone(), ContractOperations.flag(ran))).isEmpty();
		assertThat(this.store.apply("no-such-id", Caller.key("team-a"), ContractOperations.flag(ran))).isEmpty();
		assertThat(ran).isFalse();
	}

	@Test
	void applyShouldAnswerEmptyForAnotherKeysSessionWithoutRunningTheActionWhileItsOwnerAndAnyoneFindIt() {
		String id = addHeld("s-1", "team-a", 1.0);
		AtomicBoolean ran = new AtomicBoolean();
		assertThat(this.store.apply(id, Caller.key("team-b"), ContractOperations.flag(ran))).isEmpty();
		assertThat(ran).as("the action ran on another key's session").isFalse();
		assertThat(this.store.apply(id, Caller.key("team-a"), OWNER)).contains("team-a");
		assertThat(this.store.apply(id, Caller.anyone(), OWNER)).contains("team-a");
	}

	@Test
	void aSessionWithoutOwnerShouldBeHiddenFromEveryKeyButNotFromAnyone() {
		String id = addHeld("s-1", null, 1.0);
		assertThat(this.store.apply(id, Caller.key("team-a"), ID)).isEmpty();
		assertThat(this.store.apply(id, Caller.anyone(), ID)).contains(id);
	}

	@Test
	void anotherKeysLookupShouldNotCountAsAUseWhileTheOwnersDoes() {
		String looked = addHeld("looked-at-by-another-key", "team-a", 1.0);
		String used = addHeld("used-by-its-owner", "team-a", 1.0);
		this.clock.advance(IDLE_TIMEOUT.multipliedBy(3).dividedBy(5));
		assertThat(this.store.apply(looked, Caller.key("team-b"), ID)).isEmpty();
		assertThat(this.store.apply(used, Caller.key("team-a"), ID)).contains(used);
		this.clock.advance(IDLE_TIMEOUT.multipliedBy(3).dividedBy(5));
		// 1.2 idle timeouts after it was added, 0.6 after the owner's use
		assertThat(this.store.apply(looked, Caller.key("team-a"), ID)).as("expired").isEmpty();
		assertThat(this.store.apply(used, Caller.key("team-a"), ID)).contains(used);
	}

	@Test
	void anExceptionThrownByAnActionShouldReachTheCallerAndLeaveTheStoreUsable() {
		String id = addHeld("s-1", null, 1.0);
		String other = addHeld("s-2", null, 1.0);
		assertThatThrownBy(() -> this.store.apply(id, ContractOperations.failing("the action failed")))
			.isInstanceOf(IllegalStateException.class)
			.hasMessageContaining("the action failed");
		assertThat(this.store.size()).isEqualTo(2);
		assertThat(this.store.apply(id, step()).map(StepResult::step)).contains(1L);
		assertThat(this.store.apply(other, step()).map(StepResult::step)).contains(1L);
		assertThat(this.store.page(null, 10, ID)).containsExactly(id, other);
		this.store.add(session("s-3", null));
		assertThat(this.store.remove(other)).isTrue();
		assertThat(this.store.size()).isEqualTo(2);
	}

	@Test
	void aSessionsOwnRefusalShouldReachTheCallerAndLeaveTheSessionAsItWas() {
		String id = addHeld("s-1", null, 1.0);
		Map<String, Tensor> wrongShape = Map.of("dw", Tensor.ofFloat64(new int[] { 2 }, new double[] { 1, 2 }));
		assertThatThrownBy(() -> this.store.apply(id,
				new SessionOperation.Step(null, wrongShape, Double.NaN, null, null, this.clock.instant())))
			.isInstanceOf(SessionException.class)
			.hasMessageContaining("dw");
		assertThat(this.store.apply(id, SNAPSHOT).map(SessionSnapshot::step)).contains(0L);
		assertThat(this.store.apply(id, step()).map(StepResult::step)).contains(1L);
	}

	// ---- concurrency ------------------------------------------------------------------------------------------------

	/*
	 * What is serialized is each of the session's operations (a step here), by the session's lock: the stores do not
	 * hold it around a whole action, so an action of two operations (read the step, then step) may interleave with
	 * another thread's on the in-memory store. Actions the service hands to the store are one operation each.
	 */
	@Test
	void stepsOnOneSessionFromTwoThreadsShouldBeSerializedSoNoneIsLostOrDoubled() throws Exception {
		String id = addHeld("s-1", null, 1.0);
		int stepsPerThread = 200;
		CountDownLatch start = new CountDownLatch(1);
		List<Future<List<Long>>> threads = new ArrayList<>();
		for (int t = 0; t < 2; t++) {
			threads.add(this.executor.submit(() -> {
				start.await();
				List<Long> steps = new ArrayList<>(stepsPerThread);
				for (int i = 0; i < stepsPerThread; i++) {
					steps.add(this.store.apply(id, step()).orElseThrow().step());
				}
				return steps;
			}));
		}
		start.countDown();
		Set<Long> seen = new HashSet<>();
		for (Future<List<Long>> thread : threads) {
			seen.addAll(thread.get(WAIT_SECONDS, TimeUnit.SECONDS));
		}
		int total = 2 * stepsPerThread;
		// every step got its own number: none was applied twice, none was lost
		assertThat(seen).containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
		assertThat(this.store.apply(id, SNAPSHOT).map(SessionSnapshot::step)).contains((long) total);
		// and the parameter is, bit for bit, what the same steps give one after another
		OptimizerSession replay = session("replay", null);
		hold(replay, 1.0);
		for (int i = 0; i < total; i++) {
			step(replay);
		}
		assertThat(this.store.apply(id, CHECKPOINT).map(SessionStoreContract::bits)).contains(bits(replay.checkpoint()));
	}

	@Test
	void anActionOnOneSessionShouldNotHoldUpAnActionOnAnother() throws Exception {
		String blocked = addHeld("blocked", null, 1.0);
		String free = addHeld(independentOf(blocked), null, 1.0);
		CountDownLatch entered = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		Future<Optional<Long>> waiting = this.executor.submit(() -> this.store
			.apply(blocked, ContractOperations.blockingStep(entered, release, this.clock.instant()))
			.map(StepResult::step));
		try {
			assertThat(entered.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("the blocking action started").isTrue();
			Future<Optional<Long>> other = this.executor.submit(() -> this.store.apply(free, step()).map(StepResult::step));
			assertThat(other.get(WAIT_SECONDS, TimeUnit.SECONDS)).contains(1L);
			assertThat(waiting).isNotDone();
		}
		finally {
			release.countDown();
		}
		assertThat(waiting.get(WAIT_SECONDS, TimeUnit.SECONDS)).contains(1L);
	}

	// ---- remove and size --------------------------------------------------------------------------------------------

	@Test
	void aSecondSessionUnderAnIdInTheStoreShouldBeRefusedAndTheFirstStayAsItWas() {
		addHeld("s1", "alice", 1.0);
		OptimizerSession second = session("s1", "bob");
		assertThatThrownBy(() -> store().add(second)).isInstanceOf(IllegalStateException.class).hasMessageContaining("s1");
		assertThat(store().apply("s1", Caller.key("alice"), OWNER)).hasValue("alice");
		assertThat(store().apply("s1", Caller.key("bob"), OWNER)).isEmpty();
		assertThat(store().size()).isEqualTo(1);
		assertThat(store().page(null, 10, ID)).containsExactly("s1");
		assertThat(store().remove("s1")).isTrue();
		assertThat(store().page(null, 10, ID)).isEmpty();
	}

	@Test
	void removeShouldTellWhetherThereWasSuchASessionAndLeaveNothingOfIt() {
		String id = addHeld("s-1", "team-a", 1.0);
		String kept = addHeld("s-2", "team-a", 1.0);
		assertThat(this.store.remove(id)).isTrue();
		assertThat(this.store.remove(id)).as("removed twice").isFalse();
		assertThat(this.store.remove("no-such-id")).isFalse();
		assertThat(this.store.apply(id, ID)).isEmpty();
		assertThat(this.store.page(null, 10, ID)).containsExactly(kept);
		assertThat(this.store.page(null, 10, Caller.key("team-a"), ID)).containsExactly(kept);
		List<String> visited = new ArrayList<>();
		forEachEverywhere(session -> visited.add(session.id()));
		assertThat(visited).containsExactly(kept);
		assertThat(this.store.size()).isEqualTo(1);
	}

	@Test
	void anIdShouldBeFreeForANewSessionOnceItsSessionIsRemoved() {
		String id = addHeld("s-1", null, 1.0);
		this.store.apply(id, step()).map(StepResult::step);
		assertThat(this.store.remove(id)).isTrue();
		this.clock.advance(Duration.ofSeconds(1));
		OptimizerSession reborn = session(id, "team-a");
		this.store.add(reborn);
		assertThat(this.store.apply(id, OWNER)).contains("team-a");
		assertThat(this.store.apply(id, SNAPSHOT).map(SessionSnapshot::step)).contains(0L);
		assertThat(this.store.page(null, 10, KEY)).containsExactly(reborn.key());
		assertThat(this.store.size()).isEqualTo(1);
	}

	@Test
	void sizeShouldCountTheLiveSessionsOfEveryKey() {
		assertThat(this.store.size()).isZero();
		addHeld("s-1", null, 1.0);
		addHeld("s-2", "team-a", 1.0);
		addHeld("s-3", "team-b", 1.0);
		assertThat(this.store.size()).isEqualTo(3);
		this.store.remove("s-2");
		assertThat(this.store.size()).isEqualTo(2);
	}

	// ---- expiry -----------------------------------------------------------------------------------------------------

	@Test
	void aSessionShouldExpireOnceUnusedForTheIdleTimeoutByTheInjectedClockAndNotBefore() {
		String id = addHeld("s-1", null, 1.0);
		this.clock.advance(IDLE_TIMEOUT.minusMillis(1));
		// size, page and forEach look without using it
		assertThat(this.store.size()).isEqualTo(1);
		assertThat(this.store.page(null, 10, ID)).containsExactly(id);
		this.clock.advance(Duration.ofMillis(1));
		assertThat(this.store.apply(id, ID)).isEmpty();
		assertThat(this.store.size()).isZero();
		assertThat(this.store.page(null, 10, ID)).isEmpty();
		assertThat(this.store.remove(id)).as("nothing left to remove").isFalse();
	}

	@Test
	void everyUseShouldStartTheIdleTimeoutAgain() {
		String id = addHeld("s-1", null, 1.0);
		for (int i = 0; i < 5; i++) {
			this.clock.advance(IDLE_TIMEOUT.dividedBy(2));
			assertThat(this.store.apply(id, step()).map(StepResult::step)).contains(i + 1L);
		}
		this.clock.advance(IDLE_TIMEOUT);
		assertThat(this.store.apply(id, ID)).isEmpty();
	}

	// ---- page -------------------------------------------------------------------------------------------------------

	@Test
	void pageShouldListSessionsOldestFirstAndThoseCreatedAtTheSameInstantById() {
		// added in another order than they were created
		OptimizerSession first = session("m", null);
		this.clock.advance(Duration.ofSeconds(1));
		OptimizerSession tiedB = session("b", null);
		OptimizerSession tiedA = session("a", null);
		this.clock.advance(Duration.ofSeconds(1));
		OptimizerSession last = session("0", null);
		for (OptimizerSession session : List.of(last, tiedB, first, tiedA)) {
			this.store.add(session);
		}
		assertThat(this.store.page(null, 10, ID)).containsExactly("m", "a", "b", "0");
		assertThat(this.store.page(null, 10, KEY)).isSorted();
	}

	@Test
	void pageShouldStartAfterTheGivenKeyAndHoldAtMostTheLimit() {
		List<String> ids = addInOrder(7, i -> null);
		assertThat(this.store.page(null, 3, ID)).containsExactlyElementsOf(ids.subList(0, 3));
		assertThat(this.store.page(key(ids.get(2)), 3, ID))
			.containsExactlyElementsOf(ids.subList(3, 6));
		assertThat(this.store.page(key(ids.get(5)), 3, ID)).containsExactly(ids.get(6));
		assertThat(this.store.page(key(ids.get(6)), 3, ID)).isEmpty();
		assertThat(this.store.page(null, 0, ID)).isEmpty();
	}

	@Test
	void pagesShouldWalkEverySessionOnceWithoutRepeatsOrGaps() {
		List<String> ids = addInOrder(10, i -> null);
		List<String> walked = new ArrayList<>();
		SessionStore.Key after = null;
		for (int pages = 0; pages < 10; pages++) {
			List<SessionStore.Key> page = this.store.page(after, 3, KEY);
			if (page.isEmpty()) {
				break;
			}
			page.forEach(key -> walked.add(key.id()));
			after = page.get(page.size() - 1);
		}
		assertThat(walked).containsExactlyElementsOf(ids);
	}

	@Test
	void pageShouldStartAfterTheKeyOfASessionThatIsGone() {
		List<String> ids = addInOrder(4, i -> null);
		SessionStore.Key gone = key(ids.get(1));
		this.store.remove(ids.get(1));
		assertThat(this.store.page(gone, 10, ID)).containsExactlyElementsOf(ids.subList(2, 4));
	}

	@Test
	void pageShouldPassOverOtherKeysSessionsSoAPageIsFullWhenTheCallerHasEnoughLeft() {
		// team-a owns every third session; the others are team-b's or nobody's
		List<String> ids = addInOrder(15, i -> (i % 3 == 0) ? "team-a" : (i % 3 == 1) ? "team-b" : null);
		List<String> teamA = List.of(ids.get(0), ids.get(3), ids.get(6), ids.get(9), ids.get(12));
		Caller a = Caller.key("team-a");
		assertThat(this.store.page(null, 2, a, ID)).containsExactlyElementsOf(teamA.subList(0, 2));
		assertThat(this.store.page(key(teamA.get(1)), 2, a, ID))
			.containsExactlyElementsOf(teamA.subList(2, 4));
		assertThat(this.store.page(key(teamA.get(3)), 2, a, ID)).containsExactly(teamA.get(4));
		// after a key of another key's session too
		assertThat(this.store.page(key(ids.get(1)), 2, a, ID))
			.containsExactlyElementsOf(teamA.subList(1, 3));
		assertThat(this.store.page(null, 100, a, OWNER)).hasSize(5).containsOnly("team-a");
		assertThat(this.store.page(null, 100, Caller.key("team-c"), ID)).isEmpty();
		assertThat(this.store.page(null, 100, ID)).containsExactlyElementsOf(ids);
	}

	@Test
	void pageShouldNotCountAsAUse() {
		String id = addHeld("s-1", "team-a", 1.0);
		this.clock.advance(IDLE_TIMEOUT.multipliedBy(3).dividedBy(5));
		assertThat(this.store.page(null, 10, Caller.key("team-a"), ID)).containsExactly(id);
		assertThat(this.store.page(null, 10, ID)).containsExactly(id);
		this.clock.advance(IDLE_TIMEOUT.multipliedBy(3).dividedBy(5));
		assertThat(this.store.apply(id, ID)).isEmpty();
	}

	// ---- forEach ----------------------------------------------------------------------------------------------------

	@Test
	void forEachShouldVisitEveryLiveSessionOfEveryKeyOnceWithoutCountingAsAUse() {
		String expiring = addHeld("expiring", null, 1.0);
		this.clock.advance(IDLE_TIMEOUT.dividedBy(2));
		List<String> live = List.of(addHeld("s-1", null, 1.0), addHeld("s-2", "team-a", 1.0),
				addHeld("s-3", "team-b", 1.0));
		this.clock.advance(IDLE_TIMEOUT.dividedBy(2));
		List<String> visited = new ArrayList<>();
		forEachEverywhere(session -> visited.add(session.id()));
		assertThat(visited).as("the expired session is not visited").containsExactlyInAnyOrderElementsOf(live);
		this.clock.advance(IDLE_TIMEOUT.dividedBy(2));
		for (String id : live) {
			assertThat(this.store.apply(id, ID)).as("forEach kept %s alive", id).isEmpty();
		}
		assertThat(this.store.apply(expiring, ID)).isEmpty();
	}

	// ---- helpers ----------------------------------------------------------------------------------------------------

	protected SessionStore store() {
		return this.store;
	}

	/**
	 * Runs {@code action} on every live session, as the store's nodes' {@link SessionStore#forEach} do together (each
	 * visits the sessions it is responsible for); a store of one node is asked alone.
	 */
	protected void forEachEverywhere(java.util.function.Consumer<OptimizerSession> action) {
		this.store.forEach(action);
	}

	/** The id of a session whose operations the store runs independently of {@code id}'s. */
	protected String independentOf(String id) {
		return "free";
	}

	/** A new session of {@code owner} ({@code null}: none), created now, not yet in the store. */
	protected OptimizerSession session(String id, String owner) {
		return new OptimizerSession(id, owner, OptimizerConfig.create(Hyperparameters.defaults(Algorithm.ADAM),
				List.of(), null, null, NonFinitePolicy.ERROR), Precision.FLOAT64, this.clock.instant(), this.capacity);
	}

	/** Adds a session that holds a one-element parameter {@code w}. */
	protected String addHeld(String id, String owner, double w) {
		OptimizerSession session = session(id, owner);
		hold(session, w);
		this.store.add(session);
		return id;
	}

	/** Adds {@code count} sessions, one a second, in the order of creation; returns their ids in that order. */
	private List<String> addInOrder(int count, Function<Integer, String> owner) {
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			// ids that sort against the order of creation, so that the order is not the ids'
			String id = "s-" + (char) ('z' - i);
			this.store.add(session(id, owner.apply(i)));
			ids.add(id);
			this.clock.advance(Duration.ofSeconds(1));
		}
		return ids;
	}

	private SessionStore.Key key(String id) {
		return this.store.apply(id, KEY).orElseThrow();
	}

	private void hold(OptimizerSession session, double w) {
		session.holdParameters(Map.of("w", Tensor.ofFloat64(new int[] { 1 }, new double[] { w })), null,
				this.clock.instant());
	}

	/** One Adam step with the gradient 0.25 on {@code w}. */
	protected StepResult step(OptimizerSession session) {
		return session.step(null, gradient(), null, null, this.clock.instant());
	}

	private static long bits(Checkpoint checkpoint) {
		return Double.doubleToRawLongBits(checkpoint.tensors().get("w").parameter().float64()[0]);
	}

	/** One Adam step with the gradient 0.25 on {@code w}, as the service sends it. */
	protected SessionOperation.Step step() {
		return new SessionOperation.Step(null, gradient(), Double.NaN, null, null, this.clock.instant());
	}

	private static Map<String, Tensor> gradient() {
		return Map.of("dw", Tensor.ofFloat64(new int[] { 1 }, new double[] { 0.25 }));
	}

}
