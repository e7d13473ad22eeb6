package dev.adamopt.session;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.tensor.Tensor;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/** Sessions as files hold them, and bit-for-bit comparisons of them. */
final class PersistenceTestSupport {

	static final CheckpointFormat FORMAT = new CheckpointFormat(JsonMapper.builder().build());

	/** Values that only a bit-for-bit round trip keeps: signed zero, subnormals, extremes, infinities, NaN payloads. */
	static final double[] AWKWARD = { -0.0, Double.MIN_VALUE, Double.MAX_VALUE, 1.0 / 3, Double.POSITIVE_INFINITY,
			Double.longBitsToDouble(0x7ff8_0000_dead_beefL), Double.NEGATIVE_INFINITY, -1e-310 };

	private PersistenceTestSupport() {
	}

	/** A held float64 amsgrad session whose state holds {@link #AWKWARD} values, with metadata entries. */
	static PersistedSession float64Held() {
		Map<String, TensorCheckpoint> tensors = new LinkedHashMap<>();
		tensors.put("W1", new TensorCheckpoint(3, f64(new int[] { 2, 4 }, AWKWARD), f64(new int[] { 2, 4 }, 0, 1, 2, 3,
				4, 5, 6, 7), f64(new int[] { 2, 4 }, 7, 6, 5, 4, 3, 2, 1, 0), f64(new int[] { 2, 4 }, AWKWARD)));
		tensors.put("b", new TensorCheckpoint(2, f64(new int[0], -2.5), f64(new int[0], 0.125), f64(new int[0], 0.5),
				f64(new int[0], Double.NaN)));
		Hyperparameters h = new Hyperparameters(Algorithm.ADAMW, 0.1 + 0.2, 0.8, 0.999, 1e-12, 0.01, true, true);
		return new PersistedSession("0b9d2a5e-8a53-4d47-b7a0-5ad9e3d6d2c1", Instant.parse("2026-11-25T02:27:06.742684583Z"),
				Instant.parse("2026-11-25T03:00:00.000000001Z"), 17, new Checkpoint(h, Precision.FLOAT64, 3, true, tensors),
				new PersistedSession.Metadata(1, Map.of("idempotency", "{\"key\":\"k-1\"}", "owner", "team-a")));
	}

	/** A client-held float32 session, without amsgrad. */
	static PersistedSession float32ClientHeld() {
		float[] awkward = { -0.0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.intBitsToFloat(0x7fc0_beef), 1f / 3 };
		Map<String, TensorCheckpoint> tensors = new LinkedHashMap<>();
		tensors.put("w", new TensorCheckpoint(5, Tensor.ofFloat32(new int[] { 5 }, awkward),
				Tensor.ofFloat32(new int[] { 5 }, new float[] { 0, 1, 2, 3, Float.POSITIVE_INFINITY }), null, null));
		return new PersistedSession("1c0ffee0-0000-4000-8000-000000000001", Instant.parse("2026-01-01T00:00:00Z"),
				Instant.parse("2026-01-01T00:00:05Z"), 6,
				new Checkpoint(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT32, 5, false, tensors),
				PersistedSession.Metadata.NONE);
	}

	/** A session that has not stepped yet: no tensors. */
	static PersistedSession empty() {
		return new PersistedSession("2c0ffee0-0000-4000-8000-000000000002", Instant.parse("2026-01-01T00:00:00Z"),
				Instant.parse("2026-01-01T00:00:00Z"), 1,
				new Checkpoint(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, 0, false, Map.of()),
				PersistedSession.Metadata.NONE);
	}

	static Tensor f64(int[] shape, double... values) {
		return Tensor.ofFloat64(shape, values);
	}

	/** Same id, times, version, metadata, settings and every tensor's dtype, shape and bits. */
	static void assertSameSession(PersistedSession actual, PersistedSession expected) {
		assertThat(actual.id()).isEqualTo(expected.id());
		assertThat(actual.createdAt()).isEqualTo(expected.createdAt());
		assertThat(actual.lastUsedAt()).isEqualTo(expected.lastUsedAt());
		assertThat(actual.version()).isEqualTo(expected.version());
		assertThat(actual.metadata()).isEqualTo(expected.metadata());
		assertSameCheckpoint(actual.checkpoint(), expected.checkpoint());
		assertThat(actual.answer().keySet()).containsExactlyElementsOf(expected.answer().keySet());
		expected.answer().forEach((name, tensor) -> assertSameBits("answer " + name, actual.answer().get(name), tensor));
		if (expected.history() == null) {
			assertThat(actual.history()).as("history").isNull();
		}
		else {
			assertSameBits("history", actual.history(), expected.history());
		}
	}

	static void assertSameCheckpoint(Checkpoint actual, Checkpoint expected) {
		assertThat(actual.optimizer()).isEqualTo(expected.optimizer());
		assertThat(actual.skippedSteps()).isEqualTo(expected.skippedSteps());
		assertThat(actual.precision()).isEqualTo(expected.precision());
		assertThat(actual.step()).isEqualTo(expected.step());
		assertThat(actual.holdsParameters()).isEqualTo(expected.holdsParameters());
		assertThat(actual.tensors().keySet()).containsExactlyElementsOf(expected.tensors().keySet());
		expected.tensors().forEach((name, tensor) -> {
			TensorCheckpoint other = actual.tensors().get(name);
			assertThat(other.step()).as(name + ".step").isEqualTo(tensor.step());
			assertSameBits(name + ".firstMoment", other.firstMoment(), tensor.firstMoment());
			assertSameBits(name + ".secondMoment", other.secondMoment(), tensor.secondMoment());
			assertSameBits(name + ".maxSecondMoment", other.maxSecondMoment(), tensor.maxSecondMoment());
			assertSameBits(name + ".parameter", other.parameter(), tensor.parameter());
		});
	}

	static void assertSameBits(String what, Tensor actual, Tensor expected) {
		if (expected == null) {
			assertThat(actual).as(what).isNull();
			return;
		}
		assertThat(actual).as(what).isNotNull();
		assertThat(actual.shape()).as(what + " shape").isEqualTo(expected.shape());
		assertThat(actual.isFloat32()).as(what + " dtype").isEqualTo(expected.isFloat32());
		for (int i = 0; i < expected.size(); i++) {
			long want = expected.isFloat32() ? Float.floatToRawIntBits(expected.float32()[i])
					: Double.doubleToRawLongBits(expected.float64()[i]);
			long got = actual.isFloat32() ? Float.floatToRawIntBits(actual.float32()[i])
					: Double.doubleToRawLongBits(actual.float64()[i]);
			assertThat(got).as(what + "[" + i + "] bits").isEqualTo(want);
		}
	}

}
