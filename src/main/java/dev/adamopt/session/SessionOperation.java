package dev.adamopt.session;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import dev.adamopt.tensor.Tensor;

/**
 * One operation of one session, which a {@link SessionStore} runs where the session lives. The service's operations
 * are the records below: values that hold no live session, clock or service, so that a store may send them to the
 * node that holds the session (and to its backups); each is one call of the session, so each is serialized by the
 * session and is all or nothing. Their time is decided by the caller ({@code now}), so every copy of a session that
 * runs one ends in the same state.
 *
 * @param <T> the result: a value, never a live session, never {@code null}
 */
@FunctionalInterface
public interface SessionOperation<T> {

	T apply(OptimizerSession session);

	/** Whether it may change the session; one that does not needs no backup to run it. */
	default boolean changes() {
		return true;
	}

	/** The session as it is now. */
	record Snapshot() implements SessionOperation<SessionSnapshot> {

		@Override
		public SessionSnapshot apply(OptimizerSession session) {
			return session.snapshot();
		}

		@Override
		public boolean changes() {
			return false;
		}

	}

	/**
	 * One Adam step ({@link OptimizerSession#step}).
	 * @param parameters {@code null} when the session holds them
	 * @param loss NaN for none
	 * @param key {@code null} for none
	 * @param ifMatch {@code null} for none
	 */
	record Step(Map<String, Tensor> parameters, Map<String, Tensor> gradients, double loss, IdempotencyKey key,
			VersionMatch ifMatch, Instant now) implements SessionOperation<StepResult> {

		@Override
		public StepResult apply(OptimizerSession session) {
			return session.step(this.parameters, this.gradients, this.loss, this.key, this.ifMatch, this.now);
		}

	}

	/** Changes the optimizer between steps ({@link OptimizerSession#updateOptimizer}). */
	record UpdateOptimizer(OptimizerSettings change, VersionMatch ifMatch, Instant now)
			implements SessionOperation<SessionSnapshot> {

		@Override
		public SessionSnapshot apply(OptimizerSession session) {
			return session.updateOptimizer(this.change, this.ifMatch, this.now);
		}

	}

	/** Makes the session hold these parameters ({@link OptimizerSession#holdParameters}). */
	record HoldParameters(Map<String, Tensor> parameters, VersionMatch ifMatch, Instant now)
			implements SessionOperation<SessionSnapshot> {

		@Override
		public SessionSnapshot apply(OptimizerSession session) {
			return session.holdParameters(this.parameters, this.ifMatch, this.now);
		}

	}

	/** The parameters the session holds. */
	record HeldParameters() implements SessionOperation<Map<String, Tensor>> {

		@Override
		public Map<String, Tensor> apply(OptimizerSession session) {
			return session.heldParameters();
		}

		@Override
		public boolean changes() {
			return false;
		}

	}

	/** A consistent copy of the session's state. */
	record TakeCheckpoint() implements SessionOperation<Checkpoint> {

		@Override
		public Checkpoint apply(OptimizerSession session) {
			return session.checkpoint();
		}

		@Override
		public boolean changes() {
			return false;
		}

	}

	/** The step history after step {@code since}. */
	record History(long since) implements SessionOperation<List<StepHistory.Entry>> {

		@Override
		public List<StepHistory.Entry> apply(OptimizerSession session) {
			return session.history(this.since);
		}

		@Override
		public boolean changes() {
			return false;
		}

	}

	/**
	 * Closes the session for its deletion once {@code ifMatch} ({@code null}: any) accepts its version; the store
	 * then removes it.
	 */
	record CloseIfMatch(VersionMatch ifMatch) implements SessionOperation<Boolean> {

		@Override
		public Boolean apply(OptimizerSession session) {
			session.closeIfMatch(this.ifMatch);
			return Boolean.TRUE;
		}

	}

}
