package dev.adamopt.session;

import java.util.Map;

import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;

/**
 * Everything needed to resume a session bit for bit.
 *
 * @param hyperparameters the hyperparameters in force
 * @param precision the precision of the state
 * @param step the number of step calls so far
 * @param holdsParameters whether the session holds the parameters
 * @param tensors each tensor's state, in the session's order
 */
public record Checkpoint(Hyperparameters hyperparameters, Precision precision, long step, boolean holdsParameters,
		Map<String, TensorCheckpoint> tensors) {

}
