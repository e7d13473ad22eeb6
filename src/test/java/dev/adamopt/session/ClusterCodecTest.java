package dev.adamopt.session;

import java.io.IOException;
import java.io.StreamCorruptedException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.hazelcast.internal.nio.BufferObjectDataInput;
import com.hazelcast.internal.nio.BufferObjectDataOutput;
import com.hazelcast.internal.serialization.InternalSerializationService;
import com.hazelcast.internal.serialization.impl.DefaultSerializationServiceBuilder;
import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.tensor.Tensor;
import dev.adamopt.training.LearningRateSchedule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import static dev.adamopt.session.PersistenceTestSupport.AWKWARD;
import static dev.adamopt.session.PersistenceTestSupport.assertSameBits;
import static dev.adamopt.session.PersistenceTestSupport.assertSameCheckpoint;
import static dev.adamopt.session.PersistenceTestSupport.assertSameSession;
import static dev.adamopt.session.PersistenceTestSupport.f64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Operations, results and sessions through Hazelcast's own serialization streams: every value comes back bit for
 * bit, and a session read back is the same session.
 */
class ClusterCodecTest {

	/** The API's strict mapper's settings that matter here: NaN as a number, nulls skipped. */
	private static final JsonMapper STRICT = JsonMapper.builder()
		.changeDefaultNullHandling(nulls -> com.fasterxml.jackson.annotation.JsonSetter.Value
			.forValueNulls(com.fasterxml.jackson.annotation.Nulls.SKIP))
		.enable(tools.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
		.enable(tools.jackson.databind.DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
		.enable(tools.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
		.enable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
		.enable(tools.jackson.core.StreamReadFeature.USE_FAST_DOUBLE_PARSER)
		.enable(tools.jackson.core.StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
		.enable(tools.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
		.disable(tools.jackson.core.json.JsonWriteFeature.WRITE_NAN_AS_STRINGS)
		.build();

	private static final Instant NOW = Instant.parse("2026-11-25T18:30:00.123456789Z");

	private static final float[] AWKWARD_32 = { -0.0f, Float.MIN_VALUE, Float.MAX_VALUE,
			Float.intBitsToFloat(0x7fc0_beef), Float.intBitsToFloat(0xffa0_0001), 1f / 3, Float.NEGATIVE_INFINITY,
			-1e-40f };

	private final InternalSerializationService serialization = new DefaultSerializationServiceBuilder().build();

	private final ClusterCodec codec = new ClusterCodec(STRICT);

	@AfterEach
	void dispose() {
		this.serialization.dispose();
	}

	// ---- operations ---------------------------------------------------------------------------------------------

	@Test
	void stepShouldComeBackWithEveryBitOfItsTensorsLossKeyMatchAndTime() throws IOException {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		parameters.put("z.last", f64(new int[] { 2, 4 }, AWKWARD));
		parameters.put("a.first", Tensor.ofFloat32(new int[] { 8 }, AWKWARD_32));
		Map<String, Tensor> gradients = new LinkedHashMap<>();
		gradients.put("z.last", f64(new int[] { 2, 4 }, 8, 7, 6, 5, 4, 3, 2, -0.0));
		gradients.put("a.first", Tensor.ofFloat32(new int[] { 8 }, AWKWARD_32));
		gradients.put("scalar", f64(new int[0], Double.longBitsToDouble(0xfff0_0000_0000_0001L)));
		double loss = Double.longBitsToDouble(0x7ff4_0000_0000_0abcL);
		SessionOperation.Step step = new SessionOperation.Step(parameters, gradients, loss,
				new IdempotencyKey("ключ-1 ✓", -1L), VersionMatch.oneOf(3, Long.MIN_VALUE, Long.MAX_VALUE), NOW);

		SessionOperation.Step back = (SessionOperation.Step) roundTripOperation(step);

		assertSameTensors(back.parameters(), parameters);
		assertSameTensors(back.gradients(), gradients);
		assertThat(Double.doubleToRawLongBits(back.loss())).isEqualTo(Double.doubleToRawLongBits(loss));
		assertThat(back.key()).isEqualTo(step.key());
		assertThat(back.ifMatch()).isEqualTo(step.ifMatch());
		assertThat(back.now()).isEqualTo(NOW);
	}

	@Test
	void stepOfAClientHeldSessionShouldComeBackWithoutParametersKeyOrMatch() throws IOException {
		SessionOperation.Step step = new SessionOperation.Step(null, Map.of("w", f64(new int[] { 1 }, 0.5)),
				Double.NaN, null, null, Instant.ofEpochSecond(-1, 999_999_999));

		SessionOperation.Step back = (SessionOperation.Step) roundTripOperation(step);

		assertThat(back.parameters()).isNull();
		assertSameTensors(back.gradients(), step.gradients());
		assertThat(Double.doubleToRawLongBits(back.loss())).isEqualTo(Double.doubleToRawLongBits(Double.NaN));
		assertThat(back.key()).isNull();
		assertThat(back.ifMatch()).isNull();
		assertThat(back.now()).isEqualTo(step.now());
	}

	@Test
	void ifMatchShouldComeBackAsAnyAsTheListedVersionsOrAsNone() throws IOException {
		for (VersionMatch match : new VersionMatch[] { null, VersionMatch.any(), VersionMatch.oneOf(),
				VersionMatch.oneOf(1, 2, 3) }) {
			SessionOperation.CloseIfMatch back = (SessionOperation.CloseIfMatch) roundTripOperation(
					new SessionOperation.CloseIfMatch(match));

			assertThat(back.ifMatch()).as(String.valueOf(match)).isEqualTo(match);
		}
	}

	@Test
	void updateOptimizerShouldComeBackWithEveryFieldItSetAndEveryNullItLeftOut() throws IOException {
		OptimizerSettings change = STRICT.readValue("""
				{"learningRate": 0.30000000000000004, "beta1": 0.8, "epsilon": 4.9e-324, "weightDecay": -0.0,
				 "maximize": true, "nonFinite": "skip",
				 "clipping": {"maxNorm": 1.5, "normType": "inf"},
				 "groups": [{"match": ["*.bias", "norm?"], "weightDecay": 0}, {"match": ["emb*"], "beta2": 0.95}],
				 "schedule": {"type": "sequential", "milestones": [10, 20],
				              "schedules": [{"type": "linear", "startFactor": 0.01, "totalIters": 10},
				                            {"type": "step", "stepSize": 3, "gamma": 0.5},
				                            {"type": "cosine", "tMax": 90, "etaMin": 1e-7}]}}
				""", OptimizerSettings.class);
		for (OptimizerSettings settings : new OptimizerSettings[] { change,
				STRICT.readValue("{\"clipping\": {}, \"schedule\": {\"type\": \"none\"}}", OptimizerSettings.class),
				STRICT.readValue("{\"clipping\": {\"maxNorm\": 2, \"normType\": 3}}", OptimizerSettings.class),
				STRICT.readValue("{}", OptimizerSettings.class), null }) {
			SessionOperation.UpdateOptimizer update = new SessionOperation.UpdateOptimizer(settings,
					VersionMatch.any(), NOW);

			SessionOperation.UpdateOptimizer back = (SessionOperation.UpdateOptimizer) roundTripOperation(update);

			assertThat(back.change()).as(String.valueOf(settings)).isEqualTo(settings);
			assertThat(back.ifMatch()).isEqualTo(VersionMatch.any());
			assertThat(back.now()).isEqualTo(NOW);
		}
		assertThat(Double.doubleToRawLongBits(((SessionOperation.UpdateOptimizer) roundTripOperation(
				new SessionOperation.UpdateOptimizer(change, null, NOW))).change().weightDecay()))
			.as("-0.0 stays negative")
			.isEqualTo(Double.doubleToRawLongBits(-0.0));
	}

	@Test
	void holdParametersShouldComeBackWithItsTensorsInTheirOrder() throws IOException {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		for (String name : new String[] { "c", "a", "b" }) {
			parameters.put(name, Tensor.ofFloat32(new int[] { 2, 2, 2 }, AWKWARD_32));
		}
		SessionOperation.HoldParameters back = (SessionOperation.HoldParameters) roundTripOperation(
				new SessionOperation.HoldParameters(parameters, VersionMatch.oneOf(7), NOW));

		assertThat(back.parameters().keySet()).containsExactly("c", "a", "b");
		assertSameTensors(back.parameters(), parameters);
		assertThat(back.ifMatch()).isEqualTo(VersionMatch.oneOf(7));
		assertThat(back.now()).isEqualTo(NOW);
	}

	@Test
	void operationsWithoutFieldsAndHistoryShouldComeBackAsThemselves() throws IOException {
		for (SessionOperation<?> op : List.of(new SessionOperation.Snapshot(), new SessionOperation.HeldParameters(),
				new SessionOperation.TakeCheckpoint(), new SessionOperation.History(Long.MIN_VALUE),
				new SessionOperation.History(41))) {
			assertThat(roundTripOperation(op)).isEqualTo(op);
		}
	}

	@Test
	void eachOperationOfTheServiceShouldTakeOneByteBesideItsValues() throws IOException {
		assertThat(writeOperation(new SessionOperation.Snapshot())).containsExactly(ClusterCodec.SNAPSHOT);
		assertThat(writeOperation(new SessionOperation.HeldParameters())).containsExactly(ClusterCodec.HELD_PARAMETERS);
		assertThat(writeOperation(new SessionOperation.TakeCheckpoint())).containsExactly(ClusterCodec.TAKE_CHECKPOINT);
		assertThat(writeOperation(new SessionOperation.History(0))).hasSize(1 + Long.BYTES);
	}

	@Test
	void javaSerializableOperationShouldPassThroughByJavaSerialization() throws IOException {
		SessionOperation<?> other = ContractOperations.failing("the store saw it");

		SessionOperation<?> back = roundTripOperation(other);

		assertThat(back).isNotSameAs(other).isEqualTo(other);
		assertThat(writeOperation(other)[0]).isEqualTo(ClusterCodec.OTHER);
	}

	@Test
	void unknownTagShouldBeRefusedNotReadAsAnotherOperation() {
		assertThatExceptionOfType(StreamCorruptedException.class)
			.isThrownBy(() -> this.codec.readOperation(this.serialization.createObjectDataInput(new byte[] { 99 })));
		assertThatExceptionOfType(StreamCorruptedException.class)
			.isThrownBy(() -> this.codec.readResult(this.serialization.createObjectDataInput(new byte[] { 99 })));
	}

	// ---- results ------------------------------------------------------------------------------------------------

	@Test
	void stepResultShouldComeBackWithItsParametersAndAllSixStatistics() throws IOException {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		parameters.put("w", f64(new int[] { 8 }, AWKWARD));
		parameters.put("v", Tensor.ofFloat32(new int[] { 4, 2 }, AWKWARD_32));
		StepStatistics statistics = new StepStatistics(Double.MIN_VALUE, Double.POSITIVE_INFINITY,
				Double.longBitsToDouble(0x7ff8_0000_0000_1234L), -0.0, true, false);
		StepResult result = new StepResult(Long.MAX_VALUE, parameters, 42, true, statistics);

		StepResult back = (StepResult) roundTripResult(result);

		assertThat(back.step()).isEqualTo(Long.MAX_VALUE);
		assertSameTensors(back.parameters(), parameters);
		assertThat(back.version()).isEqualTo(42);
		assertThat(back.replayed()).isTrue();
		StepStatistics s = back.statistics();
		assertThat(bits(s.learningRate, s.gradNorm, s.totalNorm, s.updateNorm()))
			.containsExactly(bits(statistics.learningRate, statistics.gradNorm, statistics.totalNorm, -0.0));
		assertThat(s.clipped).isTrue();
		assertThat(s.skipped).isFalse();

		StepResult old = new StepResult(3, Map.of(), 4, false, null);
		StepResult oldBack = (StepResult) roundTripResult(old);
		assertThat(oldBack.statistics()).as("a retry remembered from before statistics").isNull();
		assertThat(oldBack.parameters()).isEmpty();
		assertThat(oldBack.replayed()).isFalse();
	}

	@Test
	void checkpointShouldComeBackBitForBitInBothPrecisions() throws IOException {
		for (PersistedSession session : List.of(PersistenceTestSupport.float64Held(),
				PersistenceTestSupport.float32ClientHeld(), PersistenceTestSupport.empty())) {
			Checkpoint back = (Checkpoint) roundTripResult(session.checkpoint());

			assertSameCheckpoint(back, session.checkpoint());
		}
	}

	@Test
	void snapshotAndCheckpointOfARealSessionShouldKeepItsOptimizerExactly() throws IOException {
		OptimizerSession session = trainedSession();
		SessionSnapshot snapshot = session.snapshot();

		SessionSnapshot back = (SessionSnapshot) roundTripResult(snapshot);

		assertThat(back.optimizer()).isEqualTo(snapshot.optimizer());
		assertThat(back.optimizer().schedulePosition()).isPositive();
		assertThat(back).usingRecursiveComparison().ignoringFields("tensors").isEqualTo(snapshot);
		assertThat(back.createdAt()).isEqualTo(snapshot.createdAt());
		assertThat(back.lastUsedAt().getNano()).isEqualTo(snapshot.lastUsedAt().getNano()).isNotZero();
		assertThat(back.tensors()).hasSameSizeAs(snapshot.tensors());
		for (int i = 0; i < snapshot.tensors().size(); i++) {
			SessionSnapshot.TensorSummary want = snapshot.tensors().get(i);
			SessionSnapshot.TensorSummary got = back.tensors().get(i);
			assertThat(got.name()).isEqualTo(want.name());
			assertThat(got.shape()).isEqualTo(want.shape());
			assertThat(got.step()).isEqualTo(want.step());
			assertThat(got.group()).isEqualTo(want.group());
		}

		Checkpoint checkpoint = session.checkpoint();
		assertSameCheckpoint((Checkpoint) roundTripResult(checkpoint), checkpoint);
	}

	@Test
	void sequentialScheduleShouldComeBackAtItsPosition() throws IOException {
		OptimizerConfig config = OptimizerConfig.create(Hyperparameters.defaults(Algorithm.ADAM), List.of(),
				new LearningRateSchedule.Sequential(List.of(new LearningRateSchedule.Linear(0.01, 1.0, 10),
						new LearningRateSchedule.Cosine(90, 1e-7)), new long[] { 10 }),
				null, NonFinitePolicy.ERROR)
			.advance()
			.advance();
		Checkpoint checkpoint = new Checkpoint(config, Precision.FLOAT32, 2, 0, false, Map.of());

		Checkpoint back = (Checkpoint) roundTripResult(checkpoint);

		// Sequential keeps its milestones in an array (no value equality): compare what the API shows of it
		assertThat(STRICT.writeValueAsString(OptimizerSettings.of(back.optimizer())))
			.isEqualTo(STRICT.writeValueAsString(OptimizerSettings.of(config)));
		assertThat(back.optimizer().schedulePosition()).isEqualTo(2);
		assertThat(Double.doubleToRawLongBits(back.optimizer().hyperparameters().learningRate()))
			.isEqualTo(Double.doubleToRawLongBits(config.hyperparameters().learningRate()));
	}

	@Test
	void tensorsShouldComeBackInTheirOrder() throws IOException {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		for (int i = 20; i > 0; i--) {
			tensors.put("t" + i, (i % 2 == 0) ? f64(new int[] { 1, 8 }, AWKWARD)
					: Tensor.ofFloat32(new int[] { 8, 1 }, AWKWARD_32));
		}

		@SuppressWarnings("unchecked")
		Map<String, Tensor> back = (Map<String, Tensor>) roundTripResult(tensors);

		assertThat(back.keySet()).containsExactlyElementsOf(tensors.keySet());
		assertSameTensors(back, tensors);
		assertThat(writeResult(tensors)[0]).isEqualTo(ClusterCodec.TENSORS);
	}

	@Test
	void historyShouldComeBackEntryByEntryBitForBit() throws IOException {
		List<StepHistory.Entry> entries = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			entries.add(new StepHistory.Entry(i + 1, NOW.plusNanos(i), 1e-3 * i, (i == 2) ? Double.NaN : i,
					-0.0, Double.longBitsToDouble(0x7ff8_0000_0000_0000L + i), i % 2 == 0, i == 3, 1000L * i));
		}

		@SuppressWarnings("unchecked")
		List<StepHistory.Entry> back = (List<StepHistory.Entry>) roundTripResult(entries);

		assertThat(back).isEqualTo(entries);
		for (int i = 0; i < entries.size(); i++) {
			StepHistory.Entry want = entries.get(i);
			StepHistory.Entry got = back.get(i);
			assertThat(bits(got.learningRate(), got.gradNorm(), got.updateNorm(), got.loss()))
				.containsExactly(bits(want.learningRate(), want.gradNorm(), want.updateNorm(), want.loss()));
		}
		assertThat((List<?>) roundTripResult(List.of())).isEmpty();
	}

	@Test
	void scalarsShouldComeBackAsThemselvesAndAnythingElseByJavaSerialization() throws IOException {
		assertThat(roundTripResult(Boolean.TRUE)).isEqualTo(Boolean.TRUE);
		assertThat(roundTripResult(Boolean.FALSE)).isEqualTo(Boolean.FALSE);
		assertThat(roundTripResult("owner ✓")).isEqualTo("owner ✓");
		assertThat(roundTripResult(Long.MIN_VALUE)).isEqualTo(Long.MIN_VALUE);
		SessionStore.Key key = new SessionStore.Key(NOW, "s");
		assertThat(roundTripResult(key)).isEqualTo(key);
		assertThat(writeResult(key)[0]).isEqualTo(ClusterCodec.OTHER);
		assertThat(roundTripResult(List.of("not", "entries"))).isEqualTo(List.of("not", "entries"));
		assertThat(roundTripResult(Map.of("not", 1))).isEqualTo(Map.of("not", 1));
	}

	// ---- sessions -----------------------------------------------------------------------------------------------

	@Test
	void sessionFilesShouldComeBackBitForBit() throws IOException {
		for (PersistedSession session : List.of(PersistenceTestSupport.float64Held(),
				PersistenceTestSupport.float32ClientHeld(), PersistenceTestSupport.empty())) {
			assertSameSession(roundTripSession(session), session);
		}
	}

	@Test
	void sessionReadBackShouldBeTheSameSessionAndAnswerARetryOfItsKeyedStepTheSame() throws IOException {
		OptimizerSession session = trainedSession();
		PersistedSession saved = session.persisted();

		PersistedSession back = roundTripSession(saved);
		OptimizerSession restored = OptimizerSession.restore(back, 0, capacity());

		assertSameCheckpoint(restored.checkpoint(), session.checkpoint());
		assertThat(restored.version()).isEqualTo(session.version());
		assertThat(restored.owner()).isEqualTo("team-a");
		assertThat(restored.persisted().metadata()).isEqualTo(saved.metadata());
		assertThat(restored.persisted().metadata().entries()).containsEntry("createKey", "{\"key\":\"c-1\"}");
		List<StepHistory.Entry> history = restored.history(0);
		assertThat(history).hasSize(4).isEqualTo(session.history(0));
		for (int i = 0; i < history.size(); i++) {
			assertThat(Double.doubleToRawLongBits(history.get(i).loss()))
				.isEqualTo(Double.doubleToRawLongBits(session.history(0).get(i).loss()));
		}

		StepResult original = session.step(null, gradients(3), 0.5, KEY, null, NOW.plusSeconds(60));
		StepResult retried = restored.step(null, gradients(3), 0.5, KEY, null, NOW.plusSeconds(60));
		assertThat(retried.replayed()).isTrue();
		assertThat(original.replayed()).isTrue();
		assertThat(retried.step()).isEqualTo(original.step());
		assertThat(retried.version()).isEqualTo(original.version());
		assertSameTensors(retried.parameters(), original.parameters());

		// and both go on as one
		StepResult next = session.step(null, gradients(4), Double.NaN, null, null, NOW.plusSeconds(61));
		StepResult restoredNext = restored.step(null, gradients(4), Double.NaN, null, null, NOW.plusSeconds(61));
		assertSameTensors(restoredNext.parameters(), next.parameters());
		assertSameCheckpoint(restored.checkpoint(), session.checkpoint());
	}

	@Test
	void sessionStreamShouldBeItsFileAfterItsLength() throws IOException {
		PersistedSession session = PersistenceTestSupport.float64Held();
		java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
		new SessionFile(new CheckpointFormat(STRICT)).write(session, file);

		BufferObjectDataOutput out = this.serialization.createObjectDataOutput();
		this.codec.writeSession(out, session);
		byte[] bytes = out.toByteArray();

		assertThat(bytes).hasSize(Long.BYTES + file.size());
		assertThat(java.util.Arrays.copyOfRange(bytes, Long.BYTES, bytes.length)).isEqualTo(file.toByteArray());
	}

	@Test
	void alteredSessionShouldBeRefusedNotReadAsAnotherSession() throws IOException {
		BufferObjectDataOutput out = this.serialization.createObjectDataOutput();
		this.codec.writeSession(out, PersistenceTestSupport.float32ClientHeld());
		byte[] bytes = out.toByteArray();
		bytes[bytes.length / 2] ^= 0x10;

		assertThatExceptionOfType(SessionFile.CorruptException.class)
			.isThrownBy(() -> this.codec.readSession(this.serialization.createObjectDataInput(bytes)));
	}

	// ---- helpers ------------------------------------------------------------------------------------------------

	private static final IdempotencyKey KEY = new IdempotencyKey("step-3", 0x5eed);

	private static SessionCapacity capacity() {
		return new SessionCapacity(MemoryBudget.unlimited(), 100, 100, 50);
	}

	/**
	 * A session of team-a that holds its parameters, with groups, a schedule, clipping, another part's kept entry,
	 * three steps (the last keyed), a skipped step and a history; built by operations that crossed the codec.
	 */
	private OptimizerSession trainedSession() throws IOException {
		Hyperparameters h = new Hyperparameters(Algorithm.ADAMW, 0.1 + 0.2, 0.8, 0.999, 1e-12, 0.01, true, false);
		OptimizerConfig config = OptimizerConfig.create(h,
				List.of(new OptimizerConfig.Group(List.of("b*"), h.withLearningRate(0.05), Double.NaN)),
				new LearningRateSchedule.Cosine(100, 1e-5), new Clipping.ByNorm(10.0, 2.0), NonFinitePolicy.SKIP);
		OptimizerSession session = new OptimizerSession("3c0ffee0-0000-4000-8000-000000000003", "team-a", config,
				Precision.FLOAT64, NOW, capacity());
		session.keep("createKey", "{\"key\":\"c-1\"}");
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		parameters.put("w", f64(new int[] { 2, 3 }, 1, -0.0, Double.MIN_VALUE, -1e-310, 0.3, 1.0 / 3));
		parameters.put("bias", f64(new int[] { 3 }, 0.1, 0.2, 0.3));
		roundTripOperation(new SessionOperation.HoldParameters(parameters, null, NOW)).apply(session);
		for (int i = 1; i <= 3; i++) {
			if (i == 3) {
				// a step with a NaN gradient is skipped and recorded
				Map<String, Tensor> bad = new LinkedHashMap<>(gradients(9));
				bad.put("bias", f64(new int[] { 3 }, Double.NaN, 0, 0));
				StepResult skipped = session.step(null, bad, 0.25, null, null, NOW.plusMillis(2).plusNanos(500));
				assertThat(skipped.statistics().skipped).isTrue();
			}
			roundTripOperation(new SessionOperation.Step(null, gradients(i), (i == 2) ? Double.NaN : 1.0 / i,
					(i == 3) ? KEY : null, VersionMatch.any(), NOW.plusMillis(i))).apply(session);
		}
		return session;
	}

	private static Map<String, Tensor> gradients(int i) {
		Map<String, Tensor> gradients = new LinkedHashMap<>();
		gradients.put("w", f64(new int[] { 2, 3 }, 0.5 * i, -0.25, 1e-300, -0.0, 2.0 / i, 1));
		gradients.put("bias", f64(new int[] { 3 }, -i, 0.125, 1e-3));
		return gradients;
	}

	private SessionOperation<?> roundTripOperation(SessionOperation<?> op) throws IOException {
		byte[] bytes = writeOperation(op);
		BufferObjectDataInput in = this.serialization.createObjectDataInput(bytes);
		SessionOperation<?> back = this.codec.readOperation(in);
		assertThat(in.position()).as("every byte read").isEqualTo(bytes.length);
		return back;
	}

	private byte[] writeOperation(SessionOperation<?> op) throws IOException {
		BufferObjectDataOutput out = this.serialization.createObjectDataOutput();
		this.codec.writeOperation(out, op);
		return out.toByteArray();
	}

	private Object roundTripResult(Object result) throws IOException {
		byte[] bytes = writeResult(result);
		BufferObjectDataInput in = this.serialization.createObjectDataInput(bytes);
		Object back = this.codec.readResult(in);
		assertThat(in.position()).as("every byte read").isEqualTo(bytes.length);
		return back;
	}

	private byte[] writeResult(Object result) throws IOException {
		BufferObjectDataOutput out = this.serialization.createObjectDataOutput();
		this.codec.writeResult(out, result);
		return out.toByteArray();
	}

	private PersistedSession roundTripSession(PersistedSession session) throws IOException {
		BufferObjectDataOutput out = this.serialization.createObjectDataOutput();
		this.codec.writeSession(out, session);
		byte[] bytes = out.toByteArray();
		BufferObjectDataInput in = this.serialization.createObjectDataInput(bytes);
		PersistedSession back = this.codec.readSession(in);
		assertThat(in.position()).as("every byte read").isEqualTo(bytes.length);
		return back;
	}

	private static void assertSameTensors(Map<String, Tensor> actual, Map<String, Tensor> expected) {
		assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
		expected.forEach((name, tensor) -> assertSameBits(name, actual.get(name), tensor));
	}

	private static long[] bits(double... values) {
		long[] bits = new long[values.length];
		for (int i = 0; i < values.length; i++) {
			bits[i] = Double.doubleToRawLongBits(values[i]);
		}
		return bits;
	}

}
