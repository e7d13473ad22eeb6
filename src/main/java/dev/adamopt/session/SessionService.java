package dev.adamopt.session;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;

import org.springframework.stereotype.Service;

/** Creates, finds, steps and checkpoints optimizer sessions. */
@Service
public class SessionService {

	private final SessionStore store;

	private final Clock clock;

	SessionService(SessionStore store, Clock clock) {
		this.store = store;
		this.clock = clock;
	}

	/**
	 * A new session; with {@code parameters} (may be {@code null}) it holds them and fixes its tensors at once.
	 */
	public SessionSnapshot create(Hyperparameters hyperparameters, Precision precision, Map<String, Tensor> parameters) {
		OptimizerSession session = new OptimizerSession(newId(), hyperparameters, precision, this.clock.instant());
		if (parameters != null) {
			session.holdParameters(parameters, this.clock.instant());
		}
		this.store.add(session);
		return session.snapshot();
	}

	/** A new session that resumes a checkpoint exactly. */
	public SessionSnapshot resume(Checkpoint checkpoint) {
		CheckpointValidator.check(checkpoint);
		OptimizerSession session;
		try {
			session = OptimizerSession.restore(newId(), checkpoint, this.clock.instant());
		}
		catch (SessionException ex) {
			// a value float32 cannot hold is a fault of the checkpoint, not of a step's tensors
			throw new SessionException(Reason.INVALID_CHECKPOINT, ex.getMessage());
		}
		this.store.add(session);
		return session.snapshot();
	}

	/** Puts back a session read from its file as it was: same id, times, version and state. */
	void restore(PersistedSession saved) {
		CheckpointValidator.checkStructure(saved.checkpoint());
		this.store.add(OptimizerSession.restore(saved));
	}

	public SessionSnapshot get(String id) {
		return on(id, OptimizerSession::snapshot);
	}

	/** Every live session, oldest first. */
	public List<SessionSnapshot> list() {
		return this.store.page(null, Integer.MAX_VALUE, OptimizerSession::snapshot);
	}

	public void delete(String id) {
		if (!this.store.remove(id)) {
			throw notFound(id);
		}
	}

	/** Changes hyperparameters between steps; {@code change} gets the current ones and may throw to refuse. */
	public SessionSnapshot updateHyperparameters(String id, UnaryOperator<Hyperparameters> change) {
		return on(id, session -> session.updateHyperparameters(change, this.clock.instant()));
	}

	/**
	 * One Adam step. {@code parameters} is {@code null} when the session holds them; tensors missing from
	 * {@code gradients} stay as they are.
	 */
	public StepResult step(String id, Map<String, Tensor> parameters, Map<String, Tensor> gradients) {
		return on(id, session -> session.step(parameters, gradients, this.clock.instant()));
	}

	/** Makes the session hold these parameters (moments kept); the first ones fix the tensors. */
	public SessionSnapshot holdParameters(String id, Map<String, Tensor> parameters) {
		return on(id, session -> {
			session.holdParameters(parameters, this.clock.instant());
			return session.snapshot();
		});
	}

	/** The parameters the session holds. */
	public Map<String, Tensor> parameters(String id) {
		return on(id, OptimizerSession::heldParameters);
	}

	public Checkpoint checkpoint(String id) {
		return on(id, OptimizerSession::checkpoint);
	}

	/** Runs {@code action} on the session where it lives; 404 when there is none. */
	private <T> T on(String id, Function<OptimizerSession, T> action) {
		return this.store.apply(id, action).orElseThrow(() -> notFound(id));
	}

	private static SessionException notFound(String id) {
		return new SessionException(Reason.SESSION_NOT_FOUND, "no session has id '" + OptimizerSession.abbreviate(id)
				+ "': it never existed, was deleted, or expired after its idle timeout; create one with POST /v1/sessions");
	}

	private static String newId() {
		// UUID.randomUUID draws 122 bits from SecureRandom: unguessable
		return UUID.randomUUID().toString();
	}

}
