package dev.adamopt.session;

import dev.adamopt.tensor.Tensor;

/**
 * One tensor's optimizer state in a checkpoint.
 *
 * @param step the tensor's own step count
 * @param firstMoment torch's {@code exp_avg}
 * @param secondMoment torch's {@code exp_avg_sq}
 * @param maxSecondMoment torch's {@code max_exp_avg_sq}; only with amsgrad, else {@code null}
 * @param parameter the parameter; only when the session holds it, else {@code null}
 */
public record TensorCheckpoint(long step, Tensor firstMoment, Tensor secondMoment, Tensor maxSecondMoment,
		Tensor parameter) {

}
