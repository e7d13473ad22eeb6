package dev.adamopt.session;

import java.time.Instant;
import java.util.List;

import dev.adamopt.kernel.Precision;

/**
 * A consistent view of a session, taken under its lock.
 *
 * @param bytes the memory the session holds, counted against the service's budget
 * @param version changes with every change of the session (step, PATCH, PUT of parameters): its ETag
 * @param optimizer the optimizer's settings, groups and schedule position
 * @param skippedSteps steps skipped under nonFinite "skip"
 */
public record SessionSnapshot(String id, long step, OptimizerConfig optimizer, Precision precision,
		boolean holdsParameters, List<TensorSummary> tensors, Instant createdAt, Instant lastUsedAt, long bytes,
		long version, long skippedSteps) {

	/** A tensor's name, shape, own step count and parameter group (-1: the default group). */
	public record TensorSummary(String name, int[] shape, long step, int group) {

	}

}
