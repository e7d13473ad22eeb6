package dev.adamopt.session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static dev.adamopt.session.PersistenceTestSupport.FORMAT;
import static dev.adamopt.session.PersistenceTestSupport.assertSameCheckpoint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Sessions in files: every-step writes before answering, interval writes on the scheduler's turn (an injected
 * scheduler the test runs by hand, an injected clock), ordered writes, deleted and expired sessions' files, the last
 * write at shutdown, and the restore at start with unreadable files set aside.
 */
@ExtendWith(OutputCaptureExtension.class)
class SessionPersistenceTest {

	private static final Duration IDLE_TIMEOUT = Duration.ofHours(24);

	private static final Duration INTERVAL = Duration.ofSeconds(10);

	@TempDir
	Path dir;

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final List<Stack> opened = new ArrayList<>();

	private final ExecutorService executor = Executors.newFixedThreadPool(6);

	@AfterEach
	void closeAll() throws IOException {
		this.executor.shutdownNow();
		for (Stack stack : this.opened) {
			stack.directory.close();
		}
	}

	// ---- every-step ------------------------------------------------------------------------------------------------

	@Test
	void everyStepShouldHaveEachChangeOnDiskBeforeItReturns() throws IOException {
		Stack stack = open(true);
		String id = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		assertThat(onDisk(id).version()).isEqualTo(2);

		for (int i = 1; i <= 3; i++) {
			this.clock.advance(Duration.ofSeconds(1));
			stack.service.step(id, null, gradients(0.5 * i));
			assertThat(onDisk(id).checkpoint().step()).isEqualTo(i);
			assertSameCheckpoint(onDisk(id).checkpoint(), stack.service.checkpoint(id));
			assertThat(onDisk(id).lastUsedAt()).isEqualTo(this.clock.instant());
		}
		stack.service.updateOptimizer(id, learningRate(0.25));
		assertThat(onDisk(id).checkpoint().optimizer().hyperparameters().learningRate()).isEqualTo(0.25);
		stack.service.holdParameters(id, parameters(7));
		assertThat(onDisk(id).checkpoint().tensors().get("w").parameter().float64()).containsExactly(7, -7);
		assertThat(onDisk(id).version()).isEqualTo(stack.version(id)).isEqualTo(7);
		assertThat(stack.scheduler.task).as("every-step mode schedules retries too").isNotNull();
	}

	@Test
	void everyStepShouldNotWriteForReadsOrRefusedChanges() throws IOException {
		Stack stack = open(true);
		String id = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		long writes = stack.writer.writes();

		stack.service.get(id);
		stack.service.checkpoint(id);
		stack.service.list(null, 1000);
		assertThatThrownBy(() -> stack.service.step(id, parameters(1), gradients(1)))
			.isInstanceOf(SessionException.class);

		assertThat(stack.writer.writes()).isEqualTo(writes);
	}

	@Test
	void everyStepWhenTheDiskFailsShouldRefuseACreateAndReportAStepItCouldNotWrite() throws IOException {
		Stack stack = open(true);
		String id = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		Path aside = this.dir.resolveSibling(this.dir.getFileName() + "-away");
		Files.move(this.dir, aside);

		assertThatThrownBy(() -> stack.service.step(id, null, gradients(1)))
			.isInstanceOfSatisfying(SessionException.class, ex -> {
				assertThat(ex.reason()).isEqualTo(Reason.NOT_PERSISTED);
				assertThat(ex.getMessage()).contains("GET the session");
			});
		assertThat(stack.service.get(id).step()).as("the step was made in memory").isEqualTo(1);
		assertThatThrownBy(() -> stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64,
				null))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.getMessage()).contains("it was not created"));
		assertThat(stack.service.list(null, 1000)).extracting(SessionSnapshot::id).containsExactly(id);
		assertThat(stack.capacity.sessions()).as("the refused create gave its place back").isEqualTo(1);
		assertThat(stack.capacity.budget().used()).as("and its memory").isEqualTo(stack.service.get(id).bytes());

		assertThat(stack.writer.failures()).isEqualTo(2);
		Files.move(aside, this.dir);
		stack.scheduler.runOnce();
		assertThat(onDisk(id).checkpoint().step()).as("written on the next turn").isEqualTo(1);
	}

	// ---- interval --------------------------------------------------------------------------------------------------

	@Test
	void intervalShouldWriteChangedSessionsOnlyOnTheSchedulersTurn() throws IOException {
		Stack stack = open(false);
		assertThat(stack.scheduler.period).isEqualTo(INTERVAL);
		String a = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1)).id();
		String b = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT32, null).id();
		stack.service.step(a, null, gradients(1));
		stack.service.step(b, parameters(2), gradients(1));
		assertThat(files()).isEmpty();
		this.clock.advance(Duration.ofSeconds(3));
		assertThat(stack.writer.lag()).as("the oldest change waits").isEqualTo(Duration.ofSeconds(3));

		stack.scheduler.runOnce();
		assertThat(stack.writer.lag()).isZero();
		assertThat(files()).containsExactlyInAnyOrder(a + ".session", b + ".session");
		assertSameCheckpoint(onDisk(a).checkpoint(), stack.service.checkpoint(a));
		assertSameCheckpoint(onDisk(b).checkpoint(), stack.service.checkpoint(b));
		assertThat(stack.writer.writes()).isEqualTo(2);

		stack.scheduler.runOnce();
		assertThat(stack.writer.writes()).as("nothing changed, nothing written").isEqualTo(2);

		stack.service.step(a, null, gradients(2));
		stack.service.step(a, null, gradients(3));
		assertThat(onDisk(a).checkpoint().step()).as("not before the turn").isEqualTo(1);
		stack.scheduler.runOnce();
		assertThat(stack.writer.writes()).as("only the changed session, once").isEqualTo(3);
		assertThat(onDisk(a).checkpoint().step()).isEqualTo(3);
		assertThat(onDisk(a).version()).isEqualTo(stack.version(a));
	}

	@Test
	void closeShouldStopTheScheduleAndWriteEveryChangedSession() throws IOException {
		Stack stack = open(false);
		String id = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		stack.service.step(id, null, gradients(1));

		stack.persistence.close();

		assertThat(stack.scheduler.stopped).isTrue();
		assertThat(onDisk(id).checkpoint().step()).isEqualTo(1);
	}

	// ---- order and deletion ----------------------------------------------------------------------------------------

	@Test
	void concurrentWritesShouldNeverPutAnOlderStateOverANewerOne() throws Exception {
		Stack stack = open(true);
		String id = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		int threads = 4;
		int stepsEach = 25;
		CountDownLatch start = new CountDownLatch(1);
		AtomicBoolean stepping = new AtomicBoolean(true);
		List<Long> seen = new ArrayList<>();
		Future<?> watcher = this.executor.submit(() -> {
			while (stepping.get()) {
				seen.add(onDisk(id).version());
			}
			return null;
		});
		List<Future<?>> steppers = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			steppers.add(this.executor.submit(() -> {
				start.await();
				for (int i = 0; i < stepsEach; i++) {
					stack.service.step(id, null, gradients(0.25));
				}
				return null;
			}));
		}
		start.countDown();
		for (Future<?> stepper : steppers) {
			stepper.get(60, TimeUnit.SECONDS);
		}
		stepping.set(false);
		watcher.get(60, TimeUnit.SECONDS);

		assertThat(seen).isNotEmpty().isSorted();
		assertThat(onDisk(id).version()).isEqualTo(2 + threads * stepsEach);
		assertThat(onDisk(id).checkpoint().step()).isEqualTo(threads * stepsEach);
	}

	@Test
	void deletedSessionShouldLoseItsFileAndNeverGetItBack() throws IOException {
		Stack stack = open(true);
		String id = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		stack.service.step(id, null, gradients(1));
		OptimizerSession stale = stack.store.apply(id, session -> session).orElseThrow();
		assertThat(files()).containsExactly(id + ".session");

		stack.service.delete(id);

		assertThat(files()).isEmpty();
		assertThat(stack.writer.write(stale)).as("a session that left the store is not written").isFalse();
		stack.scheduler.runOnce();
		assertThat(files()).isEmpty();
	}

	@Test
	void expiredSessionShouldLoseItsFile() throws IOException {
		Stack stack = open(false);
		String idle = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		stack.scheduler.runOnce();
		this.clock.advance(IDLE_TIMEOUT.minusMinutes(1));
		String busy = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null).id();
		stack.scheduler.runOnce();
		assertThat(files()).hasSize(2);

		this.clock.advance(Duration.ofMinutes(2));
		stack.scheduler.runOnce();

		assertThat(files()).containsExactly(busy + ".session");
		assertThat(stack.service.list(null, 1000)).extracting(SessionSnapshot::id).containsExactly(busy).doesNotContain(idle);
	}

	// ---- restore ---------------------------------------------------------------------------------------------------

	@Test
	void restartShouldRestoreEverySessionAsItWas() throws IOException {
		Stack before = open(false);
		String held = before.service.create(new Hyperparameters(Algorithm.ADAMW, 0.01, 0.9, 0.999, 1e-8, 0.01, true,
				false), Precision.FLOAT64, parameters(1)).id();
		this.clock.advance(Duration.ofMillis(1));
		String client = before.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT32, null).id();
		this.clock.advance(Duration.ofMillis(1));
		String fresh = before.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null).id();
		for (int i = 0; i < 3; i++) {
			this.clock.advance(Duration.ofSeconds(1));
			before.service.step(held, null, gradients(i - 1.5));
			before.service.step(client, parameters(i), gradients(0.5));
		}
		before.persistence.close();
		before.directory.close();
		this.clock.advance(Duration.ofHours(1));

		Stack after = open(true);

		for (String id : List.of(held, client, fresh)) {
			assertThat(after.service.get(id)).usingRecursiveComparison().withEqualsForType(Double::equals, Double.class).isEqualTo(before.service.get(id));
			assertSameCheckpoint(after.service.checkpoint(id), before.service.checkpoint(id));
			assertThat(after.version(id)).isEqualTo(before.version(id));
		}
		assertThat(after.service.list(null, 1000)).extracting(SessionSnapshot::id).containsExactly(held, client, fresh);
		assertThat(after.writer.writes()).as("restoring writes nothing").isZero();
		after.service.step(held, null, gradients(1));
		before.service.step(held, null, gradients(1));
		assertSameCheckpoint(onDisk(held).checkpoint(), before.service.checkpoint(held));
	}

	@Test
	void restartShouldKeepTheScheduleGroupsSkippedStepsAndHistory() throws IOException {
		Stack before = open(false);
		OptimizerSettings settings = tools.jackson.databind.json.JsonMapper.builder().build().readValue(
				"{\"algorithm\": \"adamw\", \"nonFinite\": \"skip\", \"clipping\": {\"maxNorm\": 0.5}, "
						+ "\"groups\": [{\"match\": [\"w\"], \"learningRate\": 0.02}], \"schedule\": {\"type\": "
						+ "\"sequential\", \"milestones\": [2], \"schedules\": [{\"type\": \"linear\", "
						+ "\"totalIters\": 2}, {\"type\": \"cosine\", \"tMax\": 4}]}}",
				OptimizerSettings.class);
		String id = before.service.create(OptimizerSettings.resolve(settings), Precision.FLOAT64, parameters(1)).id();
		for (int i = 0; i < 3; i++) {
			this.clock.advance(Duration.ofSeconds(1));
			before.service.step(id, null, gradients(i - 1.5), 0.5 * i, null, null);
		}
		before.service.step(id, null, gradients(Double.NaN), 9, null, null);
		before.persistence.close();
		before.directory.close();

		Stack after = open(true);

		assertThat(after.service.get(id)).usingRecursiveComparison().withEqualsForType(Double::equals, Double.class).isEqualTo(before.service.get(id));
		assertThat(after.service.get(id).skippedSteps()).isEqualTo(1);
		assertThat(after.service.history(id, Long.MIN_VALUE)).isEqualTo(before.service.history(id, Long.MIN_VALUE))
			.hasSize(4);
		assertSameCheckpoint(after.service.checkpoint(id), before.service.checkpoint(id));
		StepResult resumed = after.service.step(id, null, gradients(1));
		StepResult original = before.service.step(id, null, gradients(1));
		assertThat(resumed.statistics().learningRate).isEqualTo(original.statistics().learningRate);
		assertThat(resumed.parameters().get("w").float64()).containsExactly(original.parameters().get("w").float64());
	}

	/**
	 * A delete once held the session's lock while the store's removal took its file's lock, and the writer takes the
	 * file's lock, then the session's: the two could wait for each other for ever.
	 */
	@Test
	void deletesWhileTheIntervalWriterRunsShouldNeverDeadlock() throws Exception {
		Stack stack = open(false);
		for (int i = 0; i < 300; i++) {
			String id = stack.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64,
					Map.of("w", Tensor.ofFloat64(new int[] { 5000 }, new double[5000]))).id();
			stack.service.step(id, null, Map.of("w", Tensor.ofFloat64(new int[] { 5000 }, new double[5000])));
			CountDownLatch start = new CountDownLatch(1);
			java.util.concurrent.Future<?> writes = this.executor.submit(() -> {
				start.await();
				stack.scheduler.runOnce();
				return null;
			});
			java.util.concurrent.Future<?> delete = this.executor.submit(() -> {
				start.await();
				stack.service.delete(id, VersionMatch.any());
				return null;
			});
			start.countDown();
			writes.get(20, TimeUnit.SECONDS);
			delete.get(20, TimeUnit.SECONDS);
		}
		assertThat(files()).isEmpty();
	}

	@Test
	void restartShouldKeepIdempotencyKeysSoARetryIsAnsweredNotApplied() throws IOException {
		Stack before = open(true);
		String held = before.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		String client = before.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT32, null).id();
		before.service.step(held, null, gradients(1), new IdempotencyKey("h-1", 11), null);
		StepResult heldAnswer = before.service.step(held, null, gradients(2), new IdempotencyKey("h-2", 12), null);
		StepResult clientAnswer = before.service.step(client, parameters(3), gradients(0.5),
				new IdempotencyKey("c-1", 21), null);
		long heldBytes = before.service.get(held).bytes();
		long clientBytes = before.service.get(client).bytes();
		before.persistence.close();
		before.directory.close();

		Stack after = open(true);

		StepResult heldReplay = after.service.step(held, null, gradients(2), new IdempotencyKey("h-2", 12), null);
		assertThat(heldReplay.replayed()).isTrue();
		assertThat(heldReplay.step()).isEqualTo(2);
		assertThat(heldReplay.parameters().get("w").float64()).isEqualTo(heldAnswer.parameters().get("w").float64());
		StepResult clientReplay = after.service.step(client, parameters(3), gradients(0.5),
				new IdempotencyKey("c-1", 21), null);
		assertThat(clientReplay.replayed()).isTrue();
		assertThat(clientReplay.parameters().get("w").float64()).isEqualTo(clientAnswer.parameters().get("w").float64());
		// an older key is still known, another body still refused, and the memory counted as before
		assertThatThrownBy(() -> after.service.step(held, null, gradients(1), new IdempotencyKey("h-1", 11), null))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.reason()).isEqualTo(SessionException.Reason.IDEMPOTENCY_KEY_OUTDATED));
		assertThatThrownBy(() -> after.service.step(client, parameters(3), gradients(0.5),
				new IdempotencyKey("c-1", 99), null))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.reason()).isEqualTo(SessionException.Reason.IDEMPOTENCY_KEY_REUSED));
		assertThat(after.service.get(held).bytes()).isEqualTo(heldBytes);
		assertThat(after.service.get(client).bytes()).isEqualTo(clientBytes);
		assertThat(after.service.get(held).step()).isEqualTo(2);
	}

	@Test
	void restartShouldKeepTheKeyASessionWasCreatedWith() throws IOException {
		Stack before = open(true);
		IdempotencyKey key = new IdempotencyKey("create-1", 42);
		SessionService.Created created = before.service.createOnce(key,
				() -> before.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT32, parameters(1)));
		String id = created.session().id();
		before.service.step(id, null, gradients(1));
		before.persistence.close();
		before.directory.close();

		Stack after = open(true);

		SessionService.Created again = after.service.createOnce(key, () -> {
			throw new AssertionError("a retried create must not create");
		});
		assertThat(again.replayed()).isTrue();
		assertThat(again.session()).usingRecursiveComparison().withEqualsForType(Double::equals, Double.class).isEqualTo(created.session());
		assertThatThrownBy(() -> after.service.createOnce(new IdempotencyKey("create-1", 43), () -> null))
			.isInstanceOfSatisfying(SessionException.class,
					ex -> assertThat(ex.reason()).isEqualTo(SessionException.Reason.IDEMPOTENCY_KEY_REUSED));
		// the key goes with the session
		after.service.delete(id);
		assertThat(after.service.createOnce(key,
				() -> after.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null))
			.replayed()).isFalse();
	}

	@Test
	void restartAfterACrashShouldGiveEveryRestoredSessionANewVersion() throws IOException {
		Stack before = open(true);
		String id = before.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		before.service.step(id, null, gradients(1));
		long version = before.version(id);
		// no close: the process died
		before.directory.close();

		Stack after = open(true);

		assertThat(after.version(id)).as("no ETag from before the crash can match")
			.isEqualTo(version + SessionPersistence.VERSION_GAP);
		assertSameCheckpoint(after.service.checkpoint(id), before.service.checkpoint(id));
		after.scheduler.runOnce();
		assertThat(onDisk(id).version()).as("written again with its new version").isEqualTo(after.version(id));
		after.persistence.close();
		after.directory.close();

		Stack cleanlyStopped = open(true);
		assertThat(cleanlyStopped.version(id)).as("after a clean stop, the same version").isEqualTo(after.version(id));
	}

	@Test
	void sessionsBeyondTheMemoryBudgetShouldStayOnDiskForALaterStart(CapturedOutput output) throws IOException {
		Stack before = open(true);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			ids.add(before.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(i))
				.id());
		}
		long oneSession = before.service.get(ids.get(0)).bytes();
		before.persistence.close();
		before.directory.close();

		Stack small = open(true, new SessionCapacity(new MemoryBudget(2 * oneSession), 100, 100));

		assertThat(small.service.list(null, 1000)).hasSize(2);
		assertThat(files()).as("nothing set aside").containsExactlyInAnyOrder(ids.get(0) + ".session",
				ids.get(1) + ".session", ids.get(2) + ".session");
		assertThat(output.getOut()).contains("was not restored, and is left in place for a later start");
		small.directory.close();
		this.opened.remove(small);

		Stack large = open(true);
		assertThat(large.service.list(null, 1000)).extracting(SessionSnapshot::id).containsExactlyInAnyOrderElementsOf(ids);
	}

	@Test
	void unreadableFilesShouldBeSetAsideWithOneWarningEachAndTheRestLoad(CapturedOutput output) throws IOException {
		Stack before = open(true);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			String id = before.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64,
					parameters(i)).id();
			before.service.step(id, null, gradients(1));
			ids.add(id);
		}
		before.directory.close();
		Path flipped = this.dir.resolve(ids.get(0) + ".session");
		byte[] bytes = Files.readAllBytes(flipped);
		// in the last tensor's data, just before the (empty) answer's length and the checksum
		bytes[bytes.length - 20] ^= 0x04;
		Files.write(flipped, bytes);
		Path truncated = this.dir.resolve(ids.get(1) + ".session");
		byte[] whole = Files.readAllBytes(truncated);
		Files.write(truncated, Arrays.copyOf(whole, whole.length - 10));
		Files.copy(this.dir.resolve(ids.get(3) + ".session"), this.dir.resolve("1c0ffee0-0000-4000-8000-00000000dead.session"));
		Files.writeString(this.dir.resolve("notes.txt"), "not a session file, and not named like one");

		Stack after = open(true);

		assertThat(after.service.list(null, 1000)).extracting(SessionSnapshot::id).containsExactlyInAnyOrder(ids.get(2), ids.get(3));
		assertThat(files()).containsExactlyInAnyOrder(ids.get(0) + ".session.corrupt", ids.get(1) + ".session.corrupt",
				ids.get(2) + ".session", ids.get(3) + ".session", "1c0ffee0-0000-4000-8000-00000000dead.session.corrupt",
				"notes.txt");
		String log = output.getOut();
		assertThat(log.lines().filter(line -> line.contains("WARN") && line.contains("set aside"))).hasSize(3);
		assertThat(log).contains(ids.get(0) + ".session cannot be read (checksum mismatch")
			.contains(ids.get(1) + ".session cannot be read (truncated")
			.contains("not the one its name says");
	}

	// ---- helpers ---------------------------------------------------------------------------------------------------

	/** The service over a store in files in {@link #dir}, as the application wires it. */
	private Stack open(boolean everyStep) throws IOException {
		return open(everyStep, SessionCapacity.unlimited());
	}

	private Stack open(boolean everyStep, SessionCapacity capacity) throws IOException {
		SessionDirectory directory = SessionDirectory.open(this.dir, new SessionFile(FORMAT));
		SessionWriter writer = new SessionWriter(directory, everyStep, this.clock);
		MemoryCreateKeys createKeys = new MemoryCreateKeys();
		SessionStore store = SessionConfiguration.store(IDLE_TIMEOUT,
				() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), capacity, createKeys, writer, everyStep);
		SessionService service = new SessionService(store, this.clock, capacity, createKeys);
		ManualScheduler scheduler = new ManualScheduler();
		SessionPersistence persistence = new SessionPersistence(writer, store, service, INTERVAL, scheduler);
		Stack stack = new Stack(directory, writer, store, service, persistence, scheduler, capacity);
		this.opened.add(stack);
		return stack;
	}

	private record Stack(SessionDirectory directory, SessionWriter writer, SessionStore store, SessionService service,
			SessionPersistence persistence, ManualScheduler scheduler, SessionCapacity capacity) {

		long version(String id) {
			return this.store.apply(id, OptimizerSession::version).orElseThrow();
		}

	}

	/** Records the task and its period; the test runs it. */
	private static final class ManualScheduler implements SessionPersistence.Scheduler {

		Runnable task;

		Duration period;

		boolean stopped;

		@Override
		public Runnable schedule(Runnable task, Duration period) {
			this.task = task;
			this.period = period;
			return () -> this.stopped = true;
		}

		void runOnce() {
			this.task.run();
		}

	}

	private PersistedSession onDisk(String id) throws IOException {
		// the size of the file opened, not of one that replaced it since
		try (FileChannel channel = FileChannel.open(this.dir.resolve(id + ".session"))) {
			return new SessionFile(FORMAT).read(Channels.newInputStream(channel), channel.size());
		}
	}

	private List<String> files() throws IOException {
		try (Stream<Path> files = Files.list(this.dir)) {
			return files.map(file -> file.getFileName().toString()).filter(name -> !name.equals(".lock")).toList();
		}
	}

	private static Map<String, Tensor> parameters(double value) {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		parameters.put("w", Tensor.ofFloat64(new int[] { 2 }, new double[] { value, -value }));
		return parameters;
	}

	private static Map<String, Tensor> gradients(double value) {
		return Map.of("dw", Tensor.ofFloat64(new int[] { 2 }, new double[] { value, value / 2 }));
	}

	static OptimizerSettings learningRate(double learningRate) {
		return new OptimizerSettings(null, learningRate, null, null, null, null, null, null, null, null, null, null,
				null);
	}

}
