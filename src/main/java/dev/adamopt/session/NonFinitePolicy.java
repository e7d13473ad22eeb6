package dev.adamopt.session;

import java.util.Locale;

/** What a step with a NaN or infinite gradient, or a non-finite result, does. */
public enum NonFinitePolicy {

	/** The step is refused (422) and nothing changes. */
	ERROR,

	/**
	 * The step changes nothing at all (no tensor, moment, step count or schedule position) and answers with the
	 * parameters as they are; the session counts it (optax's {@code apply_if_finite}, AMP's skipped steps).
	 */
	SKIP;

	public String wireName() {
		return name().toLowerCase(Locale.ROOT);
	}

	public static NonFinitePolicy fromWireName(String name) {
		for (NonFinitePolicy policy : values()) {
			if (policy.wireName().equals(name)) {
				return policy;
			}
		}
		throw new IllegalArgumentException("nonFinite must be 'error' or 'skip', got "
				+ dev.adamopt.kernel.Precision.quoted(name));
	}

}
