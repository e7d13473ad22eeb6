package dev.adamopt.kernel;

import java.util.Objects;

/**
 * Adam's hyperparameters with torch's meaning, defaults and valid ranges. Validates itself: an instance is always
 * usable by {@link AdamKernel}.
 *
 * @param algorithm Adam (L2 weight decay) or AdamW (decoupled weight decay)
 * @param learningRate step size, {@code >= 0}
 * @param beta1 decay rate of the first moment, in {@code [0, 1)}
 * @param beta2 decay rate of the second moment, in {@code [0, 1)}
 * @param epsilon added to the denominator, {@code >= 0}
 * @param weightDecay {@code >= 0}
 * @param amsgrad use the running maximum of the second moment
 * @param maximize ascend instead of descend
 */
public record Hyperparameters(Algorithm algorithm, double learningRate, double beta1, double beta2, double epsilon,
		double weightDecay, boolean amsgrad, boolean maximize) {

	public static final double DEFAULT_LEARNING_RATE = 1e-3;

	public static final double DEFAULT_BETA1 = 0.9;

	public static final double DEFAULT_BETA2 = 0.999;

	public static final double DEFAULT_EPSILON = 1e-8;

	public Hyperparameters {
		Objects.requireNonNull(algorithm, "algorithm must not be null");
		requireAtLeastZero("learningRate", learningRate);
		requireBeta("beta1", beta1);
		requireBeta("beta2", beta2);
		requireAtLeastZero("epsilon", epsilon);
		requireAtLeastZero("weightDecay", weightDecay);
	}

	/** torch's defaults for the algorithm. */
	public static Hyperparameters defaults(Algorithm algorithm) {
		return new Hyperparameters(algorithm, DEFAULT_LEARNING_RATE, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPSILON,
				algorithm.defaultWeightDecay(), false, false);
	}

	/** These hyperparameters with another learning rate ({@code this} when it is the same). */
	public Hyperparameters withLearningRate(double learningRate) {
		return (learningRate == this.learningRate) ? this : new Hyperparameters(this.algorithm, learningRate, this.beta1,
				this.beta2, this.epsilon, this.weightDecay, this.amsgrad, this.maximize);
	}

	/** These hyperparameters with {@code maximize} set ({@code this} when it is the same). */
	public Hyperparameters withMaximize(boolean maximize) {
		return (maximize == this.maximize) ? this : new Hyperparameters(this.algorithm, this.learningRate, this.beta1,
				this.beta2, this.epsilon, this.weightDecay, this.amsgrad, maximize);
	}

	private static void requireAtLeastZero(String name, double value) {
		if (!(value >= 0) || value == Double.POSITIVE_INFINITY) {
			throw new IllegalArgumentException(name + " must be a finite number >= 0, got " + value);
		}
	}

	private static void requireBeta(String name, double value) {
		if (!(value >= 0 && value < 1)) {
			throw new IllegalArgumentException(name + " must be in [0, 1), got " + value);
		}
	}

}
