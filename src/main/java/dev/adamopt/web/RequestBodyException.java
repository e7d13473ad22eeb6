package dev.adamopt.web;

import java.io.IOException;

/**
 * A request body refused while it was being read: too large ({@code adam.limits.max-request-size}) or too slow
 * ({@code adam.limits.request-body-timeout}). An {@link IOException}, so that the codecs reading the body pass it on
 * as a failed read; {@link ProblemHandler} finds it among the causes.
 */
final class RequestBodyException extends IOException {

	private final ProblemType type;

	RequestBodyException(ProblemType type, String detail) {
		super(detail, null);
		this.type = type;
	}

	ProblemType type() {
		return this.type;
	}

	/** The first {@link RequestBodyException} among {@code failure} and its causes, or {@code null}. */
	static RequestBodyException find(Throwable failure) {
		for (Throwable t = failure; t != null; t = (t.getCause() == t) ? null : t.getCause()) {
			if (t instanceof RequestBodyException refused) {
				return refused;
			}
		}
		return null;
	}

	@Override
	public synchronized Throwable fillInStackTrace() {
		return this; // an answer to the client, not a bug: no stack trace to fill
	}

}
