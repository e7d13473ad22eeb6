package dev.adamopt.session;

import java.util.Map;

import dev.adamopt.tensor.Tensor;

/**
 * The answer to one step.
 *
 * @param step the session's step count after this step
 * @param parameters every tensor's parameter after the step, in the session's order
 */
public record StepResult(long step, Map<String, Tensor> parameters) {

}
