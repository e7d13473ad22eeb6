package dev.adamopt.web;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.session.SessionException;
import dev.adamopt.session.SessionException.Reason;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * Adam's hyperparameters on the wire, with torch's names' meaning. In requests every field is optional (a missing one
 * takes torch's default on creation and keeps its value on PATCH); in responses every field is resolved.
 */
@Schema(description = "Adam hyperparameters, as in torch.optim.Adam / AdamW. In requests every field is optional.")
record OptimizerSettings(
		@Schema(description = "adam (L2 weight decay added to the gradient) or adamw (decoupled weight decay). "
				+ "Cannot change after creation.", allowableValues = { "adam", "adamw" },
				example = "adam") String algorithm,
		@Schema(description = "Step size, >= 0. Default 1e-3.", example = "0.001") Double learningRate,
		@Schema(description = "Decay rate of the first moment (the article's v), in [0, 1). Default 0.9.",
				example = "0.9") Double beta1,
		@Schema(description = "Decay rate of the second moment (the article's s), in [0, 1). Default 0.999.",
				example = "0.999") Double beta2,
		@Schema(description = "Added to the denominator for numerical stability, >= 0. Default 1e-8.",
				example = "1e-8") Double epsilon,
		@Schema(description = "Weight decay, >= 0. Default 0 for adam, 0.01 for adamw.",
				example = "0") Double weightDecay,
		@Schema(description = "Use the running maximum of the second moment (AMSGrad). Default false. "
				+ "Cannot change after creation.", example = "false") Boolean amsgrad,
		@Schema(description = "Maximize the objective instead of minimizing it. Default false.",
				example = "false") Boolean maximize) {

	static OptimizerSettings of(Hyperparameters h) {
		return new OptimizerSettings(h.algorithm().wireName(), h.learningRate(), h.beta1(), h.beta2(), h.epsilon(),
				h.weightDecay(), h.amsgrad(), h.maximize());
	}

	/** The hyperparameters of a new session: given fields over torch's defaults for the algorithm. */
	static Hyperparameters resolve(OptimizerSettings settings) {
		if (settings == null) {
			return Hyperparameters.defaults(Algorithm.ADAM);
		}
		Algorithm algorithm = algorithm(settings.algorithm, Algorithm.ADAM);
		return settings.applyTo(Hyperparameters.defaults(algorithm), algorithm);
	}

	/** {@code current} with the fields given here replaced. */
	Hyperparameters applyTo(Hyperparameters current) {
		return applyTo(current, algorithm(this.algorithm, current.algorithm()));
	}

	private Hyperparameters applyTo(Hyperparameters base, Algorithm algorithm) {
		try {
			return new Hyperparameters(algorithm, or(this.learningRate, base.learningRate()), or(this.beta1, base.beta1()),
					or(this.beta2, base.beta2()), or(this.epsilon, base.epsilon()),
					or(this.weightDecay, base.weightDecay()), or(this.amsgrad, base.amsgrad()),
					or(this.maximize, base.maximize()));
		}
		catch (IllegalArgumentException ex) {
			throw new SessionException(Reason.INVALID_SETTING, "optimizer." + ex.getMessage());
		}
	}

	private static Algorithm algorithm(String name, Algorithm fallback) {
		if (name == null) {
			return fallback;
		}
		try {
			return Algorithm.fromWireName(name);
		}
		catch (IllegalArgumentException ex) {
			throw new SessionException(Reason.INVALID_SETTING, "optimizer." + ex.getMessage());
		}
	}

	private static <T> T or(T value, T fallback) {
		return (value != null) ? value : fallback;
	}

}
