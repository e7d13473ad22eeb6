package dev.adamopt.session;

import java.util.Map;

import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;

/**
 * Everything needed to resume a session bit for bit.
 *
 * @param optimizer the optimizer's settings, groups, learning rates and schedule position
 * @param precision the precision of the state
 * @param step the number of step calls so far
 * @param skippedSteps the steps skipped under nonFinite "skip"
 * @param holdsParameters whether the session holds the parameters
 * @param tensors each tensor's state, in the session's order
 */
public record Checkpoint(OptimizerConfig optimizer, Precision precision, long step, long skippedSteps,
		boolean holdsParameters, Map<String, TensorCheckpoint> tensors) {

	/** A checkpoint of an optimizer with plain hyperparameters (no schedule, clipping or groups), nothing skipped. */
	public Checkpoint(Hyperparameters hyperparameters, Precision precision, long step, boolean holdsParameters,
			Map<String, TensorCheckpoint> tensors) {
		this(OptimizerConfig.create(hyperparameters, java.util.List.of(), null, null, NonFinitePolicy.ERROR), precision,
				step, 0, holdsParameters, tensors);
	}

}
