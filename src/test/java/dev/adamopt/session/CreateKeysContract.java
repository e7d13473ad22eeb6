package dev.adamopt.session;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * What every {@link CreateKeys} promises, through the service: a create retried with its key answers the session the
 * first made, as it was then, for as long as that session lives. Each implementation has a subclass; a store of
 * several nodes is used through two of them (a retry that reaches another node).
 */
abstract class CreateKeysContract {

	/** Long enough that nothing expires unless the test moves the clock past it. */
	static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);

	static final Caller ALICE = Caller.key("alice");

	static final Caller BOB = Caller.key("bob");

	protected final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final ExecutorService executor = Executors.newFixedThreadPool(4);

	/** The service through node {@code node} (0 or 1; a store of one node answers the same service for both). */
	protected abstract SessionService through(int node);

	@AfterEach
	void stopThreads() {
		this.executor.shutdownNow();
	}

	@Test
	void aRetriedCreateShouldAnswerTheFirstSessionAsItWasThenWithoutCreatingAnother() {
		IdempotencyKey key = new IdempotencyKey("create-1", 42);
		SessionService.Created first = through(0).createOnce(key, () -> create(through(0), Caller.anyone()));
		assertThat(first.replayed()).isFalse();
		String id = first.session().id();
		through(0).step(id, null, gradients(1));

		SessionService.Created again = through(1).createOnce(key, () -> {
			throw new AssertionError("a retried create must not create");
		});

		assertThat(again.replayed()).isTrue();
		assertThat(again.session()).usingRecursiveComparison()
			.withEqualsForType(Double::equals, Double.class)
			.isEqualTo(first.session());
		assertThat(again.session().step()).as("the answer of the create, not the session now").isZero();
		assertThat(through(1).list(null, 100)).extracting(SessionSnapshot::id).containsExactly(id);
	}

	@Test
	void aRetryWithAnotherBodyShouldBeRefusedNamingTheSessionAndCreateNothing() {
		SessionService.Created first = through(0).createOnce(new IdempotencyKey("create-1", 42),
				() -> create(through(0), Caller.anyone()));
		SessionException refused = catchThrowableOfType(SessionException.class,
				() -> through(1).createOnce(new IdempotencyKey("create-1", 43), () -> {
					throw new AssertionError("a reused key must not create");
				}));
		assertThat(refused.reason()).isEqualTo(Reason.IDEMPOTENCY_KEY_REUSED);
		assertThat(refused.getMessage()).contains("'create-1'", first.session().id(), "same body");
		assertThat(through(0).list(null, 100)).hasSize(1);
	}

	@Test
	void aKeyShouldBeEachCallersOwn() {
		IdempotencyKey key = new IdempotencyKey("create-1", 42);
		SessionService.Created alices = through(0).createOnce(ALICE, key, () -> create(through(0), ALICE));
		SessionService.Created bobs = through(1).createOnce(BOB, key, () -> create(through(1), BOB));
		assertThat(bobs.replayed()).as("bob's create is his own, not a replay of alice's").isFalse();
		assertThat(bobs.session().id()).isNotEqualTo(alices.session().id());
		SessionService.Created alicesAgain = through(1).createOnce(ALICE, key, () -> {
			throw new AssertionError("a retried create must not create");
		});
		assertThat(alicesAgain.replayed()).isTrue();
		assertThat(alicesAgain.session().id()).isEqualTo(alices.session().id());
		// another body from bob is refused as his own reuse, not as a reuse of alice's key
		assertThat(catchThrowableOfType(SessionException.class,
				() -> through(0).createOnce(BOB, new IdempotencyKey("create-1", 7), () -> null))
			.getMessage()).contains(bobs.session().id()).doesNotContain(alices.session().id());
	}

	@Test
	void concurrentCreatesWithOneKeyShouldMakeOneSession() throws Exception {
		IdempotencyKey key = new IdempotencyKey("create-together", 42);
		AtomicInteger made = new AtomicInteger();
		CountDownLatch start = new CountDownLatch(1);
		List<Future<SessionService.Created>> creates = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			SessionService service = through(i % 2);
			creates.add(this.executor.submit(() -> {
				start.await();
				return service.createOnce(key, () -> {
					made.incrementAndGet();
					return create(service, Caller.anyone());
				});
			}));
		}
		start.countDown();
		List<SessionService.Created> answers = new ArrayList<>();
		for (Future<SessionService.Created> create : creates) {
			answers.add(create.get(60, TimeUnit.SECONDS));
		}
		assertThat(made).hasValue(1);
		assertThat(answers).extracting(created -> created.session().id()).containsOnly(answers.get(0).session().id());
		assertThat(answers).filteredOn(created -> !created.replayed()).hasSize(1);
		assertThat(through(0).list(null, 100)).hasSize(1);
	}

	@Test
	void theKeyOfADeletedSessionShouldCreateANewSession() {
		IdempotencyKey key = new IdempotencyKey("create-1", 42);
		String first = through(0).createOnce(key, () -> create(through(0), Caller.anyone())).session().id();
		through(1).delete(first);

		SessionService.Created fresh = through(0).createOnce(key, () -> create(through(0), Caller.anyone()));

		assertThat(fresh.replayed()).isFalse();
		assertThat(fresh.session().id()).isNotEqualTo(first);
		// and the key answers the new session from now on, through every node
		assertThat(through(1).createOnce(key, () -> {
			throw new AssertionError("a retried create must not create");
		}).session().id()).isEqualTo(fresh.session().id());
	}

	@Test
	void theKeyOfAnExpiredSessionShouldCreateANewSession() {
		IdempotencyKey key = new IdempotencyKey("create-1", 42);
		String first = through(0).createOnce(key, () -> create(through(0), Caller.anyone())).session().id();
		this.clock.advance(IDLE_TIMEOUT.plusSeconds(1));

		SessionService.Created fresh = through(1).createOnce(key, () -> create(through(1), Caller.anyone()));

		assertThat(fresh.replayed()).isFalse();
		assertThat(fresh.session().id()).isNotEqualTo(first);
		assertThat(through(0).list(null, 100)).extracting(SessionSnapshot::id).containsExactly(fresh.session().id());
	}

	@Test
	void aCreateThatFailsShouldLeaveItsKeyFree() {
		IdempotencyKey key = new IdempotencyKey("create-1", 42);
		SessionException failed = new SessionException(Reason.TOO_MANY_SESSIONS, "full");
		assertThat(catchThrowableOfType(SessionException.class, () -> through(0).createOnce(key, () -> {
			throw failed;
		}))).isSameAs(failed);
		SessionService.Created created = through(1).createOnce(key, () -> create(through(1), Caller.anyone()));
		assertThat(created.replayed()).isFalse();
		assertThat(through(0).get(created.session().id()).id()).isEqualTo(created.session().id());
	}

	static SessionSnapshot create(SessionService service, Caller caller) {
		return service.create(caller, OptimizerConfig.create(Hyperparameters.defaults(Algorithm.ADAM), List.of(), null,
				null, NonFinitePolicy.ERROR), Precision.FLOAT64, parameters(1));
	}

	static Map<String, Tensor> parameters(double value) {
		return Map.of("w", Tensor.ofFloat64(new int[] { 2 }, new double[] { value, -value }));
	}

	static Map<String, Tensor> gradients(double value) {
		return Map.of("dw", Tensor.ofFloat64(new int[] { 2 }, new double[] { value, value / 2 }));
	}

}
