package dev.adamopt.session;

import java.time.Instant;
import java.util.List;

import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;

/**
 * A consistent view of a session, taken under its lock.
 *
 * @param bytes the memory the session holds, counted against the service's budget
 * @param version changes with every change of the session (step, PATCH, PUT of parameters): its ETag
 */
public record SessionSnapshot(String id, long step, Hyperparameters hyperparameters, Precision precision,
		boolean holdsParameters, List<TensorSummary> tensors, Instant createdAt, Instant lastUsedAt, long bytes,
		long version) {

	/** A tensor's name, shape and own step count. */
	public record TensorSummary(String name, int[] shape, long step) {

	}

}
