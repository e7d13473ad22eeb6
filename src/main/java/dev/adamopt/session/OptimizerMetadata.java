package dev.adamopt.session;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.session.SessionException.Reason;

/**
 * Hyperparameters as a checkpoint's {@code __metadata__.optimizer} JSON holds them, under the API's names (the same
 * JSON as the API's {@code optimizer} object): every field is written; a field left out when read takes torch's
 * default for the algorithm.
 */
record OptimizerMetadata(String algorithm, Double learningRate, Double beta1, Double beta2, Double epsilon,
		Double weightDecay, Boolean amsgrad, Boolean maximize) {

	/** No field given: torch's Adam defaults. */
	static final OptimizerMetadata DEFAULTS = new OptimizerMetadata(null, null, null, null, null, null, null, null);

	static OptimizerMetadata of(Hyperparameters h) {
		return new OptimizerMetadata(h.algorithm().wireName(), h.learningRate(), h.beta1(), h.beta2(), h.epsilon(),
				h.weightDecay(), h.amsgrad(), h.maximize());
	}

	/** The hyperparameters: given fields over torch's defaults for the algorithm ({@code adam} when left out). */
	Hyperparameters resolve() {
		try {
			Algorithm resolved = (this.algorithm != null) ? Algorithm.fromWireName(this.algorithm) : Algorithm.ADAM;
			Hyperparameters base = Hyperparameters.defaults(resolved);
			return new Hyperparameters(resolved, or(this.learningRate, base.learningRate()), or(this.beta1, base.beta1()),
					or(this.beta2, base.beta2()), or(this.epsilon, base.epsilon()),
					or(this.weightDecay, base.weightDecay()), or(this.amsgrad, base.amsgrad()),
					or(this.maximize, base.maximize()));
		}
		catch (IllegalArgumentException ex) {
			throw new SessionException(Reason.INVALID_SETTING, "optimizer." + ex.getMessage());
		}
	}

	private static <T> T or(T value, T fallback) {
		return (value != null) ? value : fallback;
	}

}
