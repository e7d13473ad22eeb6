package dev.adamopt.session;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.memory.MemoryBudgetExceededException;
import dev.adamopt.memory.RequestMemory;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.adamopt.session.PersistenceTestSupport.FORMAT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Sessions belong to the API key that created them: another key finds none of them (the very answer of an id that
 * does not exist), lists none of them, cannot reuse their create keys; each key's quotas count exactly what its
 * sessions hold, through creates, resumes, deletes, expiry and restarts.
 */
class SessionOwnersTest {

	private static final Duration IDLE_TIMEOUT = Duration.ofHours(24);

	private static final Caller ALICE = Caller.key("alice");

	private static final Caller BOB = Caller.key("bob");

	@TempDir
	Path dir;

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final List<SessionDirectory> directories = new ArrayList<>();

	@AfterEach
	void close() throws IOException {
		for (SessionDirectory directory : this.directories) {
			directory.close();
		}
	}

	@Test
	void anotherKeyShouldFindNoneOfASessionsOperationsWithTheAnswerOfAnIdThatDoesNotExist() {
		Stack stack = memoryOnly(KeyQuotasFor.none());
		String id = stack.service.create(ALICE, config(), Precision.FLOAT64, parameters(1)).id();
		String missing = "00000000-0000-4000-8000-000000000000";
		String absentDetail = notFound(() -> stack.service.get(BOB, missing)).getMessage();

		List<Consumer<String>> operations = List.of(id1 -> stack.service.get(BOB, id1),
				id1 -> stack.service.step(BOB, id1, null, gradients(1), Double.NaN, null, null),
				id1 -> stack.service.updateOptimizer(BOB, id1, SessionPersistenceTest.learningRate(1e6), null),
				id1 -> stack.service.holdParameters(BOB, id1, parameters(-999), null),
				id1 -> stack.service.parameters(BOB, id1), id1 -> stack.service.checkpoint(BOB, id1),
				id1 -> stack.service.history(BOB, id1, Long.MIN_VALUE), id1 -> stack.service.delete(BOB, id1, null));
		for (Consumer<String> operation : operations) {
			SessionException ex = notFound(() -> operation.accept(id));
			assertThat(ex.getMessage()).isEqualTo(absentDetail.replace(missing, id));
		}
		// nothing changed: alice's session is as it was, at step 0, with her parameters
		assertThat(stack.service.get(ALICE, id).step()).isZero();
		assertThat(stack.service.get(ALICE, id).optimizer().hyperparameters().learningRate()).isEqualTo(0.001);
		assertThat(stack.service.parameters(ALICE, id).get("w").float64()).containsExactly(1, -1);
		assertThat(stack.service.step(ALICE, id, null, gradients(1), Double.NaN, null, null).step()).isEqualTo(1);
	}

	@Test
	void anotherKeysLookupShouldNotCountAsAUseThatKeepsTheSessionAlive() {
		Stack stack = memoryOnly(KeyQuotasFor.none());
		String id = stack.service.create(ALICE, config(), Precision.FLOAT64, null).id();
		this.clock.advance(IDLE_TIMEOUT.minusMinutes(1));
		notFound(() -> stack.service.get(BOB, id));
		this.clock.advance(Duration.ofMinutes(2));
		notFound(() -> stack.service.get(ALICE, id));
	}

	@Test
	void anyoneOnAServiceWithoutKeysShouldSeeEverySession() {
		Stack stack = memoryOnly(KeyQuotasFor.none());
		String alices = stack.service.create(ALICE, config(), Precision.FLOAT64, null).id();
		this.clock.advance(Duration.ofSeconds(1)); // the list is oldest first (ids break ties of one instant)
		String nobodys = stack.service.create(Caller.anyone(), config(), Precision.FLOAT64, null).id();
		assertThat(stack.service.list(Caller.anyone(), null, 10)).extracting(SessionSnapshot::id)
			.containsExactly(alices, nobodys);
		assertThat(stack.service.get(Caller.anyone(), alices).id()).isEqualTo(alices);
		// a session nobody owns (made while the service had no keys) is no key's
		notFound(() -> stack.service.get(ALICE, nobodys));
	}

	@Test
	void listShouldPageThroughOnlyTheCallersSessionsOldestFirst() {
		Stack stack = memoryOnly(KeyQuotasFor.none());
		List<String> alices = new ArrayList<>();
		List<String> bobs = new ArrayList<>();
		for (int i = 0; i < 7; i++) {
			this.clock.advance(Duration.ofSeconds(1));
			alices.add(stack.service.create(ALICE, config(), Precision.FLOAT64, null).id());
			for (int j = 0; j < 3; j++) {
				this.clock.advance(Duration.ofMillis(1));
				bobs.add(stack.service.create(BOB, config(), Precision.FLOAT64, null).id());
			}
		}
		List<String> walked = new ArrayList<>();
		SessionStore.Key after = null;
		int pages = 0;
		while (true) {
			List<SessionSnapshot> page = stack.service.list(ALICE, after, 3);
			page.forEach(session -> walked.add(session.id()));
			pages++;
			if (page.size() < 3) {
				break;
			}
			SessionSnapshot last = page.get(page.size() - 1);
			after = new SessionStore.Key(last.createdAt(), last.id());
		}
		assertThat(walked).containsExactlyElementsOf(alices);
		assertThat(pages).as("3 full pages of alice's 7 sessions, and the rest").isEqualTo(3);
		assertThat(stack.service.list(BOB, null, 100)).extracting(SessionSnapshot::id).containsExactlyElementsOf(bobs);
		assertThat(stack.service.list(Caller.key("carol"), null, 100)).isEmpty();
		// deleted and expired sessions leave the owner's listing too
		stack.service.delete(ALICE, alices.get(0), null);
		assertThat(stack.service.list(ALICE, null, 100)).extracting(SessionSnapshot::id)
			.containsExactlyElementsOf(alices.subList(1, 7));
		this.clock.advance(IDLE_TIMEOUT.plusSeconds(1));
		assertThat(stack.service.list(ALICE, null, 100)).isEmpty();
	}

	@Test
	void anIdempotencyKeyShouldBeEachCallersOwn() {
		Stack stack = memoryOnly(KeyQuotasFor.none());
		IdempotencyKey key = new IdempotencyKey("create-1", 42);
		SessionService.Created alices = stack.service.createOnce(ALICE, key,
				() -> stack.service.create(ALICE, config(), Precision.FLOAT64, null));
		SessionService.Created bobs = stack.service.createOnce(BOB, key,
				() -> stack.service.create(BOB, config(), Precision.FLOAT64, null));
		assertThat(bobs.replayed()).as("bob's create is his own, not a replay of alice's").isFalse();
		assertThat(bobs.session().id()).isNotEqualTo(alices.session().id());
		// another body from bob is a new key of bob's, not a reuse of alice's
		SessionService.Created alicesAgain = stack.service.createOnce(ALICE, key, () -> {
			throw new AssertionError("a retried create must not create");
		});
		assertThat(alicesAgain.replayed()).isTrue();
		assertThat(alicesAgain.session().id()).isEqualTo(alices.session().id());
		assertThat(stack.service.get(BOB, bobs.session().id()).id()).isEqualTo(bobs.session().id());
		notFound(() -> stack.service.get(BOB, alices.session().id()));
	}

	@Test
	void aKeysSessionQuotaShouldRefuseItsNextSessionAndFreeAPlaceOnDeleteExpiryAndFailure() {
		Stack stack = memoryOnly(KeyQuotasFor.sessions(2));
		String first = stack.service.create(ALICE, config(), Precision.FLOAT64, null).id();
		stack.service.create(ALICE, config(), Precision.FLOAT64, null);
		SessionException refused = catchThrowableOfType(SessionException.class,
				() -> stack.service.create(ALICE, config(), Precision.FLOAT64, null));
		assertThat(refused.reason()).isEqualTo(Reason.TOO_MANY_SESSIONS);
		assertThat(refused.getMessage()).contains("API key 'alice' already holds 2 sessions",
				"adam.limits.per-key.max-sessions");
		assertThatThrownBy(() -> stack.service.resume(ALICE, stack.service.checkpoint(ALICE, first)))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.reason()).isEqualTo(Reason.TOO_MANY_SESSIONS));
		// another key and keyless callers are not held back by alice's quota
		stack.service.create(BOB, config(), Precision.FLOAT64, null);
		stack.service.create(Caller.anyone(), config(), Precision.FLOAT64, null);
		assertThat(stack.quotas.sessions("alice")).isEqualTo(2);

		stack.service.delete(ALICE, first, null);
		assertThat(stack.quotas.sessions("alice")).isEqualTo(1);
		// a create that fails gives its place back
		assertThatThrownBy(() -> stack.service.create(ALICE, config(), Precision.FLOAT64, Map.of()))
			.isInstanceOf(SessionException.class);
		assertThat(stack.quotas.sessions("alice")).isEqualTo(1);
		stack.service.create(ALICE, config(), Precision.FLOAT64, null);
		assertThat(stack.quotas.sessions("alice")).isEqualTo(2);

		this.clock.advance(IDLE_TIMEOUT.plusSeconds(1));
		assertThat(stack.service.list(Caller.anyone(), null, 100)).isEmpty();
		assertThat(stack.quotas.sessions("alice")).isZero();
		assertThat(stack.quotas.sessions("bob")).isZero();
		assertThat(stack.capacity.sessions()).isZero();
	}

	@Test
	void aKeysMemoryQuotaShouldRefuseWhatGoesBeyondItNamingTheKeyAndGiveBackExactlyWhatItTook() {
		long oneSession = memoryOnly(KeyQuotasFor.none()).service.create(ALICE, config(), Precision.FLOAT64,
				parameters(1024, 1)).bytes();
		MemoryBudget service = new MemoryBudget(1 << 24);
		// two sessions and a few kilobytes for their steps fit in alice's quota, a third session does not
		long quota = 2 * oneSession + 4096;
		Stack stack = memoryOnly(new KeyQuotas(service, quota, 0), service);
		MemoryBudget alices = stack.quotas.memory(ALICE);
		String first = stack.service.create(ALICE, config(), Precision.FLOAT64, parameters(1024, 1)).id();
		String second = stack.service.create(ALICE, config(), Precision.FLOAT64, parameters(1024, 2)).id();
		long held = stack.service.get(ALICE, first).bytes() + stack.service.get(ALICE, second).bytes();
		assertThat(alices.used()).isEqualTo(held);
		assertThat(service.used()).as("the key's bytes are the service's too").isEqualTo(held);

		MemoryBudgetExceededException refused = catchThrowableOfType(MemoryBudgetExceededException.class,
				() -> stack.service.create(ALICE, config(), Precision.FLOAT64, parameters(1024, 3)));
		assertThat(refused.getMessage()).contains("of the " + quota + " bytes of session memory of API key 'alice' "
				+ "(adam.limits.per-key.memory) are free");
		assertThat(alices.used()).as("a refused create takes nothing").isEqualTo(held);
		assertThat(service.used()).isEqualTo(held);
		// bob has his own quota
		String bobs = stack.service.create(BOB, config(), Precision.FLOAT64, parameters(1024, 3)).id();
		long bobsBytes = stack.service.get(BOB, bobs).bytes();
		assertThat(service.used()).isEqualTo(held + bobsBytes);

		// steps, idempotency records and history come and go through the same account
		for (int i = 0; i < 3; i++) {
			stack.service.step(ALICE, first, null, gradients(1024, 0.5), 0.1, new IdempotencyKey("s-" + i, i), null);
		}
		long afterSteps = stack.service.get(ALICE, first).bytes() + stack.service.get(ALICE, second).bytes();
		assertThat(alices.used()).isEqualTo(afterSteps).isGreaterThan(held);

		// a request's tensors are charged to the key's quota while it runs
		try (RequestMemory request = RequestMemory.open(alices)) {
			assertThatThrownBy(() -> RequestMemory.charge(alices.free() + 1, "the request's tensors"))
				.isInstanceOf(MemoryBudgetExceededException.class)
				.hasMessageContaining("API key 'alice'");
			RequestMemory.charge(10, "the request's tensors");
			assertThat(alices.used()).isEqualTo(afterSteps + 10);
		}
		assertThat(alices.used()).isEqualTo(afterSteps);

		stack.service.delete(ALICE, first, null);
		assertThat(alices.used()).isEqualTo(stack.service.get(ALICE, second).bytes());
		this.clock.advance(IDLE_TIMEOUT.plusSeconds(1));
		assertThat(stack.service.list(Caller.anyone(), null, 10)).isEmpty();
		assertThat(alices.used()).as("expiry gives back everything").isZero();
		assertThat(service.used()).isZero();
	}

	@Test
	void aRestartShouldGiveEverySessionBackToItsKeyWithItsCreateKeyAndQuota() throws IOException {
		IdempotencyKey key = new IdempotencyKey("create-1", 42);
		Stack before = persistent(2);
		SessionService.Created alices = before.service.createOnce(ALICE, key,
				() -> before.service.create(ALICE, config(), Precision.FLOAT64, parameters(1)));
		String alicesId = alices.session().id();
		this.clock.advance(Duration.ofSeconds(1));
		String resumed = before.service.resume(ALICE, before.service.checkpoint(ALICE, alicesId)).id();
		String bobs = before.service.create(BOB, config(), Precision.FLOAT64, null).id();
		String nobodys = before.service.create(Caller.anyone(), config(), Precision.FLOAT64, null).id();
		before.service.step(ALICE, alicesId, null, gradients(1), Double.NaN, null, null);
		before.persistence.close();
		before.directories().get(0).close();
		this.directories.clear();

		Stack after = persistent(2);

		assertThat(after.service.list(ALICE, null, 10)).extracting(SessionSnapshot::id)
			.containsExactly(alicesId, resumed);
		assertThat(after.service.list(BOB, null, 10)).extracting(SessionSnapshot::id).containsExactly(bobs);
		assertThat(after.service.list(Caller.anyone(), null, 10)).hasSize(4);
		notFound(() -> after.service.get(BOB, alicesId));
		notFound(() -> after.service.get(ALICE, nobodys));
		assertThat(after.service.get(ALICE, alicesId).step()).isEqualTo(1);
		// alice's create key is still hers, and only hers
		assertThat(after.service.createOnce(ALICE, key, () -> {
			throw new AssertionError("a retried create must not create");
		}).session().id()).isEqualTo(alicesId);
		assertThat(after.service.createOnce(BOB, key,
				() -> after.service.create(BOB, config(), Precision.FLOAT64, null)).replayed()).isFalse();
		// restored sessions count against their key's quota
		assertThat(after.quotas.sessions("alice")).isEqualTo(2);
		assertThatThrownBy(() -> after.service.create(ALICE, config(), Precision.FLOAT64, null))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.reason()).isEqualTo(Reason.TOO_MANY_SESSIONS));
		after.service.delete(ALICE, resumed, null);
		assertThat(after.quotas.sessions("alice")).isEqualTo(1);
	}

	@Test
	void sessionsBeyondTheirKeysQuotaAtStartShouldStayOnDiskForALaterStart() throws IOException {
		Stack before = persistent(2);
		String first = before.service.create(ALICE, config(), Precision.FLOAT64, parameters(1)).id();
		this.clock.advance(Duration.ofSeconds(1));
		String second = before.service.create(ALICE, config(), Precision.FLOAT64, parameters(2)).id();
		before.persistence.close();
		before.directories().get(0).close();
		this.directories.clear();

		Stack lowered = persistent(1);
		assertThat(lowered.service.list(ALICE, null, 10)).hasSize(1);
		assertThat(lowered.quotas.sessions("alice")).isEqualTo(1);
		lowered.directories().get(0).close();
		this.directories.clear();

		Stack raised = persistent(2);
		assertThat(raised.service.list(ALICE, null, 10)).extracting(SessionSnapshot::id).containsExactly(first, second);
	}

	// ---- stacks -----------------------------------------------------------------------------------------------------

	/** The quotas a test asks for. */
	private static final class KeyQuotasFor {

		static KeyQuotas none() {
			return KeyQuotas.none(MemoryBudget.unlimited());
		}

		static KeyQuotas sessions(int max) {
			return new KeyQuotas(MemoryBudget.unlimited(), 0, max);
		}

	}

	private record Stack(SessionService service, KeyQuotas quotas, SessionCapacity capacity,
			SessionPersistence persistence, List<SessionDirectory> directories) {

	}

	private Stack memoryOnly(KeyQuotas quotas) {
		return memoryOnly(quotas, MemoryBudget.unlimited());
	}

	private Stack memoryOnly(KeyQuotas quotas, MemoryBudget budget) {
		SessionCapacity capacity = new SessionCapacity(budget, 1000, 100, HistoryProperties.DEFAULT_SIZE, quotas);
		MemoryCreateKeys createKeys = new MemoryCreateKeys();
		SessionStore store = SessionConfiguration.store(IDLE_TIMEOUT,
				() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), capacity, createKeys, null, false);
		return new Stack(new SessionService(store, this.clock, capacity, createKeys), quotas, capacity, null, List.of());
	}

	private Stack persistent(int maxSessionsPerKey) throws IOException {
		KeyQuotas quotas = new KeyQuotas(MemoryBudget.unlimited(), 0, maxSessionsPerKey);
		SessionCapacity capacity = new SessionCapacity(MemoryBudget.unlimited(), 1000, 100,
				HistoryProperties.DEFAULT_SIZE, quotas);
		SessionDirectory directory = SessionDirectory.open(this.dir, new SessionFile(FORMAT));
		this.directories.add(directory);
		SessionWriter writer = new SessionWriter(directory, true, this.clock);
		MemoryCreateKeys createKeys = new MemoryCreateKeys();
		SessionStore store = SessionConfiguration.store(IDLE_TIMEOUT,
				() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), capacity, createKeys, writer, true);
		SessionService service = new SessionService(store, this.clock, capacity, createKeys);
		SessionPersistence persistence = new SessionPersistence(writer, store, service, Duration.ofSeconds(10),
				(task, period) -> () -> {
				});
		return new Stack(service, quotas, capacity, persistence, List.of(directory));
	}

	// ---- data -------------------------------------------------------------------------------------------------------

	private static OptimizerConfig config() {
		return OptimizerConfig.create(Hyperparameters.defaults(Algorithm.ADAM), List.of(), null, null,
				NonFinitePolicy.ERROR);
	}

	private static SessionException notFound(Runnable operation) {
		SessionException ex = catchThrowableOfType(SessionException.class, operation::run);
		assertThat(ex).as("the operation is refused as not found").isNotNull();
		assertThat(ex.reason()).isEqualTo(Reason.SESSION_NOT_FOUND);
		return ex;
	}

	private static Map<String, Tensor> parameters(double value) {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		parameters.put("w", Tensor.ofFloat64(new int[] { 2 }, new double[] { value, -value }));
		return parameters;
	}

	private static Map<String, Tensor> parameters(int size, double value) {
		double[] values = new double[size];
		java.util.Arrays.fill(values, value);
		return Map.of("w", Tensor.ofFloat64(new int[] { size }, values));
	}

	private static Map<String, Tensor> gradients(double value) {
		return Map.of("dw", Tensor.ofFloat64(new int[] { 2 }, new double[] { value, value / 2 }));
	}

	private static Map<String, Tensor> gradients(int size, double value) {
		double[] values = new double[size];
		java.util.Arrays.fill(values, value);
		return Map.of("dw", Tensor.ofFloat64(new int[] { size }, values));
	}

}
