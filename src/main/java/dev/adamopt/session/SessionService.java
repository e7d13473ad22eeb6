package dev.adamopt.session;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
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

	/** The capacity new and restored sessions are built in (see the constructor). */
	private final SessionCapacity capacity;

	private final CreateKeys createKeys;

	/**
	 * @param capacity the limits this node admits its sessions under; in a store {@linkplain
	 * SessionStore#sharedWithOtherNodes() shared with other nodes} the node that owns a session admits it under its
	 * own, and this node only builds it ({@link SessionCapacity#forwarded()})
	 */
	SessionService(SessionStore store, Clock clock, SessionCapacity capacity, CreateKeys createKeys) {
		this.store = store;
		this.clock = clock;
		this.capacity = store.sharedWithOtherNodes() ? capacity.forwarded() : capacity;
		this.createKeys = createKeys;
	}

	/**
	 * A session made by {@code POST /v1/sessions}.
	 *
	 * @param session the session as it was created
	 * @param replayed whether this answers a retry (the session was created before, with the same key and body)
	 */
	public record Created(SessionSnapshot session, boolean replayed) {

	}

	/**
	 * Creates once per idempotency key of the caller ({@code null}: no key): a retry with the same key and body
	 * answers the session the first request created, as it was then. {@code create} makes the caller's session.
	 */
	public Created createOnce(Caller caller, IdempotencyKey key, Supplier<SessionSnapshot> create) {
		if (key == null) {
			return new Created(create.get(), false);
		}
		return this.createKeys.createOnce(caller, key, () -> {
			// the session keeps its key in its file from the start: a retry after a restart still finds it
			this.creationKey.set(key);
			try {
				return create.get();
			}
			finally {
				this.creationKey.remove();
			}
		});
	}

	/** The idempotency key of the create running on this thread, if any; see {@link #createOnce}. */
	private final ThreadLocal<IdempotencyKey> creationKey = new ThreadLocal<>();

	/**
	 * A new session of the caller; with {@code parameters} (may be {@code null}) it holds them and fixes its tensors
	 * at once.
	 */
	public SessionSnapshot create(Caller caller, OptimizerConfig optimizer, Precision precision,
			Map<String, Tensor> parameters) {
		String owner = caller.owner();
		return admit(owner, () -> {
			OptimizerSession session = new OptimizerSession(newId(), owner, optimizer, precision, this.clock.instant(),
					this.capacity);
			if (parameters != null) {
				try {
					session.holdParameters(parameters, null, this.clock.instant());
				}
				catch (RuntimeException | Error ex) {
					session.close();
					throw ex;
				}
			}
			return session;
		});
	}

	/** A new session of the caller that resumes a checkpoint exactly. */
	public SessionSnapshot resume(Caller caller, Checkpoint checkpoint) {
		CheckpointValidator.check(checkpoint);
		String owner = caller.owner();
		return admit(owner, () -> {
			try {
				return OptimizerSession.restore(newId(), owner, checkpoint, this.clock.instant(), this.capacity);
			}
			catch (SessionException ex) {
				if (ex.reason() != Reason.TENSOR_MISMATCH) {
					throw ex;
				}
				// a value float32 cannot hold is a fault of the checkpoint, not of a step's tensors
				throw new SessionException(Reason.INVALID_CHECKPOINT, ex.getMessage());
			}
		});
	}

	/**
	 * Counts a new session of {@code owner} against the limits, builds it and adds it to the store; counts it out if
	 * that fails.
	 */
	private SessionSnapshot admit(String owner, Supplier<OptimizerSession> build) {
		return admit(owner, build, false);
	}

	/** @param restored whether it is put back from its file ({@link SessionStore#restore}) */
	private SessionSnapshot admit(String owner, Supplier<OptimizerSession> build, boolean restored) {
		this.capacity.admit(owner);
		OptimizerSession session;
		try {
			session = build.get();
		}
		catch (RuntimeException | Error ex) {
			this.capacity.leave(owner);
			throw ex;
		}
		SessionSnapshot snapshot;
		try {
			IdempotencyKey key = this.creationKey.get();
			if (key != null) {
				session.keep(CreateKeys.ENTRY, CreateKeys.json(key, session.snapshot()));
			}
			// taken before the store has it: a store on other nodes gives this copy back once it has its own
			snapshot = session.snapshot();
			if (restored) {
				this.store.restore(session);
			}
			else {
				this.store.add(session);
			}
		}
		catch (RuntimeException | Error ex) {
			// e.g. its file could not be written (every-step persistence)
			this.capacity.release(session);
			throw ex;
		}
		return snapshot;
	}

	/**
	 * Puts back a session read from its file as it was (same id, owner, times and state), counted like any new
	 * session.
	 * @param versionGap added to its version (see {@link OptimizerSession#restore(PersistedSession, long,
	 * SessionCapacity)})
	 */
	void restore(PersistedSession saved, long versionGap) {
		CheckpointValidator.checkStructure(saved.checkpoint());
		String owner = OptimizerSession.owner(saved);
		SessionSnapshot restored = admit(owner, () -> OptimizerSession.restore(saved, versionGap, this.capacity), true);
		String createKey = saved.metadata().entries().get(CreateKeys.ENTRY);
		if (createKey != null) {
			try {
				this.createKeys.restore(restored.id(), owner, createKey);
			}
			catch (SessionException ex) {
				this.store.remove(restored.id());
				throw ex;
			}
		}
	}

	public SessionSnapshot get(Caller caller, String id) {
		return on(caller, id, new SessionOperation.Snapshot());
	}

	/**
	 * Up to {@code limit} of the caller's live sessions, oldest first, after the session at {@code after} (from the
	 * first when {@code null}); listing does not count as a use.
	 */
	public List<SessionSnapshot> list(Caller caller, SessionStore.Key after, int limit) {
		return this.store.page(after, limit, caller, new SessionOperation.Snapshot());
	}

	/** Deletes a session once {@code ifMatch} ({@code null}: any) accepts its version. */
	public void delete(Caller caller, String id, VersionMatch ifMatch) {
		on(caller, id, new SessionOperation.CloseIfMatch(ifMatch));
		this.store.remove(id);
	}

	/**
	 * Changes the optimizer between steps, as torch changes a running one ({@link OptimizerSettings#patch});
	 * {@code ifMatch} ({@code null}: any) must accept the session's version.
	 */
	public SessionSnapshot updateOptimizer(Caller caller, String id, OptimizerSettings change, VersionMatch ifMatch) {
		return on(caller, id, new SessionOperation.UpdateOptimizer(change, ifMatch, this.clock.instant()));
	}

	/**
	 * One Adam step. {@code parameters} is {@code null} when the session holds them; tensors missing from
	 * {@code gradients} stay as they are. With a {@code key} a retry is answered again instead of applied;
	 * {@code ifMatch} ({@code null}: any) must accept the session's version; {@code loss} is what the client reports
	 * (NaN: none).
	 */
	public StepResult step(Caller caller, String id, Map<String, Tensor> parameters, Map<String, Tensor> gradients,
			double loss, IdempotencyKey key, VersionMatch ifMatch) {
		return on(caller, id,
				new SessionOperation.Step(parameters, gradients, loss, key, ifMatch, this.clock.instant()));
	}

	/** The session's step history after step {@code since} ({@code Long.MIN_VALUE}: all kept), oldest first. */
	public List<StepHistory.Entry> history(Caller caller, String id, long since) {
		return on(caller, id, new SessionOperation.History(since));
	}

	/**
	 * Makes the session hold these parameters (moments kept); the first ones fix the tensors. {@code ifMatch}
	 * ({@code null}: any) must accept the session's version.
	 */
	public SessionSnapshot holdParameters(Caller caller, String id, Map<String, Tensor> parameters,
			VersionMatch ifMatch) {
		return on(caller, id, new SessionOperation.HoldParameters(parameters, ifMatch, this.clock.instant()));
	}

	/** The parameters the session holds. */
	public Map<String, Tensor> parameters(Caller caller, String id) {
		return on(caller, id, new SessionOperation.HeldParameters());
	}

	public Checkpoint checkpoint(Caller caller, String id) {
		return on(caller, id, new SessionOperation.TakeCheckpoint());
	}

	/**
	 * Runs {@code action} on the caller's session where it lives; 404 when there is none, another key's session
	 * included (the same answer, word for word, as for an id that never existed).
	 */
	private <T> T on(Caller caller, String id, SessionOperation<T> operation) {
		return this.store.apply(id, caller, operation).orElseThrow(() -> notFound(id));
	}

	// As the operations above for anyone (a service without API keys): this package's tools and tests.

	Created createOnce(IdempotencyKey key, Supplier<SessionSnapshot> create) {
		return createOnce(Caller.anyone(), key, create);
	}

	/** A new session with plain Adam hyperparameters (no schedule, clipping or groups). */
	SessionSnapshot create(Hyperparameters hyperparameters, Precision precision, Map<String, Tensor> parameters) {
		return create(OptimizerConfig.create(hyperparameters, List.of(), null, null, NonFinitePolicy.ERROR), precision,
				parameters);
	}

	SessionSnapshot create(OptimizerConfig optimizer, Precision precision, Map<String, Tensor> parameters) {
		return create(Caller.anyone(), optimizer, precision, parameters);
	}

	SessionSnapshot resume(Checkpoint checkpoint) {
		return resume(Caller.anyone(), checkpoint);
	}

	SessionSnapshot get(String id) {
		return get(Caller.anyone(), id);
	}

	List<SessionSnapshot> list(SessionStore.Key after, int limit) {
		return list(Caller.anyone(), after, limit);
	}

	void delete(String id) {
		delete(Caller.anyone(), id, null);
	}

	void delete(String id, VersionMatch ifMatch) {
		delete(Caller.anyone(), id, ifMatch);
	}

	SessionSnapshot updateOptimizer(String id, OptimizerSettings change) {
		return updateOptimizer(Caller.anyone(), id, change, null);
	}

	SessionSnapshot updateOptimizer(String id, OptimizerSettings change, VersionMatch ifMatch) {
		return updateOptimizer(Caller.anyone(), id, change, ifMatch);
	}

	StepResult step(String id, Map<String, Tensor> parameters, Map<String, Tensor> gradients) {
		return step(id, parameters, gradients, null, null);
	}

	StepResult step(String id, Map<String, Tensor> parameters, Map<String, Tensor> gradients, IdempotencyKey key,
			VersionMatch ifMatch) {
		return step(id, parameters, gradients, Double.NaN, key, ifMatch);
	}

	StepResult step(String id, Map<String, Tensor> parameters, Map<String, Tensor> gradients, double loss,
			IdempotencyKey key, VersionMatch ifMatch) {
		return step(Caller.anyone(), id, parameters, gradients, loss, key, ifMatch);
	}

	List<StepHistory.Entry> history(String id, long since) {
		return history(Caller.anyone(), id, since);
	}

	SessionSnapshot holdParameters(String id, Map<String, Tensor> parameters) {
		return holdParameters(Caller.anyone(), id, parameters, null);
	}

	SessionSnapshot holdParameters(String id, Map<String, Tensor> parameters, VersionMatch ifMatch) {
		return holdParameters(Caller.anyone(), id, parameters, ifMatch);
	}

	Map<String, Tensor> parameters(String id) {
		return parameters(Caller.anyone(), id);
	}

	Checkpoint checkpoint(String id) {
		return checkpoint(Caller.anyone(), id);
	}

	static SessionException notFound(String id) {
		return new SessionException(Reason.SESSION_NOT_FOUND, "no session has id '" + OptimizerSession.abbreviate(id)
				+ "': it never existed, was deleted, or expired after its idle timeout; create one with POST /v1/sessions");
	}

	private static String newId() {
		// UUID.randomUUID draws 122 bits from SecureRandom: unguessable
		return UUID.randomUUID().toString();
	}

}
