package dev.adamopt.web;

import dev.adamopt.kernel.Precision;
import dev.adamopt.session.SessionException;
import dev.adamopt.session.SessionException.Reason;

/** Wire names of settings that are not hyperparameters. */
final class WireNames {

	private WireNames() {
	}

	static Precision precision(String name) {
		if (name == null) {
			return Precision.FLOAT64;
		}
		try {
			return Precision.fromWireName(name);
		}
		catch (IllegalArgumentException ex) {
			throw new SessionException(Reason.INVALID_SETTING, ex.getMessage());
		}
	}

}
