package dev.adamopt.web;

import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Collectors;

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
		for (Precision precision : Precision.values()) {
			if (precision.wireName().equals(name)) {
				return precision;
			}
		}
		throw new SessionException(Reason.INVALID_SETTING, "precision must be one of "
				+ names(Precision.values(), Precision::wireName) + ", got '" + ProblemResponses.abbreviate(name) + "'");
	}

	/** The wire names of an enum's values, as a detail lists them: {@code adam, adamw}. */
	static <E> String names(E[] values, Function<E, String> wireName) {
		return Arrays.stream(values).map(wireName).collect(Collectors.joining(", "));
	}

}
