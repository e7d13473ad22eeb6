package dev.adamopt.session;

/** Gradient clipping before each step, as torch's {@code clip_grad_norm_} or {@code clip_grad_value_}. */
public sealed interface Clipping permits Clipping.ByNorm, Clipping.ByValue {

	/**
	 * {@code torch.nn.utils.clip_grad_norm_(parameters, maxNorm, normType)} over every gradient of the step.
	 * @param maxNorm finite, {@code >= 0}
	 * @param normType {@code p >= 1}, or {@link Double#POSITIVE_INFINITY} for the maximum norm
	 */
	record ByNorm(double maxNorm, double normType) implements Clipping {

		public ByNorm {
			if (!(maxNorm >= 0) || maxNorm == Double.POSITIVE_INFINITY) {
				throw new IllegalArgumentException("clipping.maxNorm must be a finite number >= 0, got " + maxNorm);
			}
			if (!(normType >= 1)) {
				throw new IllegalArgumentException(
						"clipping.normType must be a number >= 1 or \"inf\", got " + normType);
			}
		}

	}

	/**
	 * {@code torch.nn.utils.clip_grad_value_(parameters, maxValue)}: each gradient element clamped to
	 * {@code [-maxValue, maxValue]}.
	 * @param maxValue finite, {@code >= 0}
	 */
	record ByValue(double maxValue) implements Clipping {

		public ByValue {
			if (!(maxValue >= 0) || maxValue == Double.POSITIVE_INFINITY) {
				throw new IllegalArgumentException("clipping.maxValue must be a finite number >= 0, got " + maxValue);
			}
		}

	}

}
