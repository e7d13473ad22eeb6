package dev.adamopt.web;

import java.util.function.Supplier;

import dev.adamopt.session.StepResult;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * {@code adam.steps}: how many steps and how long the session took for each (after the body was decoded), by outcome:
 * {@code applied}, {@code replayed} (a retry answered again) or {@code refused} (a problem; {@code adam.problems}
 * says which).
 */
final class StepMetrics {

	private final Timer applied;

	private final Timer replayed;

	private final Timer refused;

	StepMetrics(MeterRegistry meters) {
		this.applied = timer(meters, "applied");
		this.replayed = timer(meters, "replayed");
		this.refused = timer(meters, "refused");
	}

	private static Timer timer(MeterRegistry registry, String outcome) {
		return Timer.builder("adam.steps")
			.description("Steps taken by sessions, and how long each took")
			.tag("outcome", outcome)
			.register(registry);
	}

	StepResult record(Supplier<StepResult> step) {
		long start = System.nanoTime();
		try {
			StepResult result = step.get();
			(result.replayed() ? this.replayed : this.applied).record(System.nanoTime() - start,
					java.util.concurrent.TimeUnit.NANOSECONDS);
			return result;
		}
		catch (RuntimeException | Error ex) {
			this.refused.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
			throw ex;
		}
	}

}
