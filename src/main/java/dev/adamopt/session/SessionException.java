package dev.adamopt.session;

/**
 * A request the session cannot carry out; nothing was changed. The {@link Reason} tells the web layer which problem
 * type to answer with, the message tells the caller what to fix.
 */
public final class SessionException extends RuntimeException {

	public enum Reason {

		/** No session has this id (never had, deleted or expired). */
		SESSION_NOT_FOUND,

		/** A hyperparameter, precision or other setting is out of range or unknown. */
		INVALID_SETTING,

		/** Tensors that do not fit the session: unknown or missing names, other shapes, values float32 cannot hold. */
		TENSOR_MISMATCH,

		/** A tensor that holds NaN or infinities where only finite numbers make sense (parameters). */
		INVALID_TENSOR,

		/** A gradient holds NaN or an infinity under nonFinite "error". */
		NON_FINITE_GRADIENT,

		/** A step whose result would hold NaN or an infinity, under nonFinite "error". */
		NON_FINITE_RESULT,

		/** A setting that cannot change once the session exists (algorithm, amsgrad). */
		IMMUTABLE_SETTING,

		/** A checkpoint that is not self-consistent. */
		INVALID_CHECKPOINT,

		/** The parameters were asked for, but the session does not hold them. */
		PARAMETERS_NOT_HELD,

		/** The service holds as many sessions as it may. */
		TOO_MANY_SESSIONS,

		/** More tensors than one session may have. */
		TOO_MANY_TENSORS,

		/** An idempotency key sent again with another request. */
		IDEMPOTENCY_KEY_REUSED,

		/** The idempotency key of a step older than the session's latest. */
		IDEMPOTENCY_KEY_OUTDATED,

		/** An If-Match that names another version of the session. */
		PRECONDITION_FAILED,

		/**
		 * With every-step persistence, the session's file could not be written: a new session was not created; a
		 * change to a session was made in memory and is written later (the message says which).
		 */
		NOT_PERSISTED,

		/**
		 * A cluster's store could not carry out the operation: members are leaving or joining, or too few are left
		 * (the message says whether the operation may have been applied).
		 */
		CLUSTER_UNAVAILABLE

	}

	private final Reason reason;

	public SessionException(Reason reason, String message) {
		super(message, null, false, false);
		this.reason = reason;
	}

	public Reason reason() {
		return this.reason;
	}

}
