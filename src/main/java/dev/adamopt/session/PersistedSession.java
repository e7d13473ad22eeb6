package dev.adamopt.session;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

import dev.adamopt.tensor.Tensor;

/**
 * What a session file holds: the session's checkpoint and what makes it the same session after a restart.
 *
 * @param id the session's id
 * @param createdAt when it was created
 * @param lastUsedAt when it was last changed
 * @param version its {@link OptimizerSession#version() version} when this was taken
 * @param checkpoint its state
 * @param metadata what other parts of the service keep with a session across restarts
 * @param answer the answer of the latest keyed step when the session does not answer it with the parameters it holds
 * (a client-held session's, or one whose held parameters were replaced since); empty otherwise
 * @param history the session's step history ({@link StepHistory#toTensor()}), {@code null} when it has none
 */
record PersistedSession(String id, Instant createdAt, Instant lastUsedAt, long version, Checkpoint checkpoint,
		Metadata metadata, Map<String, Tensor> answer, Tensor history) {

	/** A session without a remembered answer or a history. */
	PersistedSession(String id, Instant createdAt, Instant lastUsedAt, long version, Checkpoint checkpoint,
			Metadata metadata) {
		this(id, createdAt, lastUsedAt, version, checkpoint, metadata, Map.of(), null);
	}

	/** A session without a history. */
	PersistedSession(String id, Instant createdAt, Instant lastUsedAt, long version, Checkpoint checkpoint,
			Metadata metadata, Map<String, Tensor> answer) {
		this(id, createdAt, lastUsedAt, version, checkpoint, metadata, answer, null);
	}

	PersistedSession {
		Objects.requireNonNull(id, "id");
		Objects.requireNonNull(createdAt, "createdAt");
		Objects.requireNonNull(lastUsedAt, "lastUsedAt");
		Objects.requireNonNull(checkpoint, "checkpoint");
		Objects.requireNonNull(metadata, "metadata");
		Objects.requireNonNull(answer, "answer");
	}

	/**
	 * Room in the session file for what later parts keep with a session (an idempotency record, an owner): named
	 * string entries, each owned by one part, which keeps its own value's format. A reader ignores names it does not
	 * know.
	 *
	 * @param version the version of this map's scheme: {@link #CURRENT} when written by this code
	 * @param entries by name
	 */
	record Metadata(int version, Map<String, String> entries) {

		/** The scheme this code writes. */
		static final int CURRENT = 1;

		/** Nothing kept. */
		static final Metadata NONE = new Metadata(CURRENT, Map.of());

		Metadata {
			entries = Map.copyOf(entries);
		}

	}

}
