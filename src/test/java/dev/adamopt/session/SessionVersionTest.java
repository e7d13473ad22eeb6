package dev.adamopt.session;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The session's version: every change counts once, a refused request or a read counts nothing. */
class SessionVersionTest {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final SessionCapacity capacity = SessionCapacity.unlimited();

	private final MemoryCreateKeys createKeys = new MemoryCreateKeys();

	private final SessionStore store = SessionConfiguration.store(Duration.ofHours(1),
			() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()), this.capacity, this.createKeys, null, false);

	private final SessionService service = new SessionService(this.store, this.clock, this.capacity,
			this.createKeys);

	@Test
	void everyChangeShouldAddOneAndNothingElseShould() {
		String id = this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, null).id();
		assertThat(version(id)).isEqualTo(1);

		this.service.step(id, parameters(1), gradients(0.5));
		assertThat(version(id)).isEqualTo(2);
		this.service.updateOptimizer(id, SessionPersistenceTest.learningRate(0.5));
		assertThat(version(id)).isEqualTo(3);
		this.service.holdParameters(id, parameters(2));
		assertThat(version(id)).isEqualTo(4);
		this.service.step(id, null, gradients(0.25));
		assertThat(version(id)).isEqualTo(5);

		unchanged(id, () -> this.service.get(id));
		unchanged(id, () -> this.service.checkpoint(id));
		unchanged(id, () -> this.service.parameters(id));
		unchanged(id, () -> this.service.list(null, 1000));
	}

	@Test
	void refusedChangesShouldNotCount() {
		String id = this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		assertThat(version(id)).as("created holding parameters: two changes").isEqualTo(2);

		assertThatThrownBy(() -> this.service.step(id, parameters(1), gradients(1)))
			.isInstanceOf(SessionException.class);
		assertThatThrownBy(() -> this.service.step(id, null, Map.of("nope", Tensor.ofFloat64(new int[0], new double[] { 1.0 }))))
			.isInstanceOf(SessionException.class);
		assertThatThrownBy(() -> this.service.updateOptimizer(id, new OptimizerSettings("adamw", null, null,
				null, null, null, null, null, null, null, null, null, null)))
			.isInstanceOf(SessionException.class);
		assertThatThrownBy(() -> this.service.holdParameters(id, Map.of("w", Tensor.ofFloat64(new int[] { 3 }, new double[] { 1, 2, 3 }))))
			.isInstanceOf(SessionException.class);

		assertThat(version(id)).isEqualTo(2);
	}

	@Test
	void resumedSessionShouldStartAtOne() {
		String id = this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		this.service.step(id, null, gradients(1));
		String resumed = this.service.resume(this.service.checkpoint(id)).id();
		assertThat(version(resumed)).isEqualTo(1);
	}

	@Test
	void sessionRestoredFromWhatItPersistedShouldBeTheSameSession() {
		String id = this.service.create(Hyperparameters.defaults(Algorithm.ADAM), Precision.FLOAT64, parameters(1))
			.id();
		this.service.step(id, null, gradients(1));
		this.clock.advance(Duration.ofMinutes(5));
		this.service.step(id, null, gradients(-0.5));
		PersistedSession saved = this.store.apply(id, OptimizerSession::persisted).orElseThrow();
		SessionSnapshot before = this.service.get(id);
		Checkpoint checkpoint = this.service.checkpoint(id);
		this.service.delete(id);

		this.service.restore(saved, 0);

		assertThat(saved.version()).isEqualTo(4);
		assertThat(version(id)).isEqualTo(4);
		SessionSnapshot after = this.service.get(id);
		assertThat(after).usingRecursiveComparison().withEqualsForType(Double::equals, Double.class).isEqualTo(before);
		assertThat(after.lastUsedAt()).isEqualTo(before.createdAt().plus(Duration.ofMinutes(5)));
		Checkpoint restored = this.service.checkpoint(id);
		checkpoint.tensors().forEach((name, tensor) -> {
			assertThat(restored.tensors().get(name).parameter().float64()).isEqualTo(tensor.parameter().float64());
			assertThat(restored.tensors().get(name).firstMoment().float64()).isEqualTo(tensor.firstMoment().float64());
			assertThat(restored.tensors().get(name).secondMoment().float64())
				.isEqualTo(tensor.secondMoment().float64());
		});
	}

	private long version(String id) {
		return this.store.apply(id, OptimizerSession::version).orElseThrow();
	}

	private void unchanged(String id, Supplier<?> read) {
		long before = version(id);
		read.get();
		assertThat(version(id)).isEqualTo(before);
	}

	private static Map<String, Tensor> parameters(double value) {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		parameters.put("w", Tensor.ofFloat64(new int[] { 2 }, new double[] { value, -value }));
		return parameters;
	}

	private static Map<String, Tensor> gradients(double value) {
		return Map.of("dw", Tensor.ofFloat64(new int[] { 2 }, new double[] { value, value / 2 }));
	}

}
