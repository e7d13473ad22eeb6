package dev.adamopt.session;

import java.util.Map;

import dev.adamopt.tensor.Tensor;

/**
 * The answer to one step.
 *
 * @param step the session's step count after this step
 * @param parameters every tensor's parameter after the step, in the session's order
 * @param version the session's version after this step (its ETag)
 * @param replayed whether this answers a retry of the step (nothing was applied)
 * @param statistics what the step did (learning rate, norms, clipped, skipped); {@code null} only for the retry of a
 * step remembered by a file written before statistics existed
 */
public record StepResult(long step, Map<String, Tensor> parameters, long version, boolean replayed,
		StepStatistics statistics) {

}
