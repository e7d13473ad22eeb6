package dev.adamopt.session;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.session.SessionSnapshot.TensorSummary;
import dev.adamopt.tensor.Safetensors;
import dev.adamopt.tensor.Tensor;

/**
 * One optimizer run: hyperparameters, the tensors' state and the step count. Every operation holds the session's
 * lock, so steps on one session are serialized while different sessions run in parallel, and every operation checks
 * all of its input before it changes anything.
 */
public final class OptimizerSession {

	/** Long enough for any real name, short enough that names cannot be used to fill memory. */
	static final int MAX_NAME_LENGTH = 256;

	private final String id;

	private final Precision precision;

	private final Instant createdAt;

	private final ReentrantLock lock = new ReentrantLock();

	private Hyperparameters hyperparameters;

	/** In the order of the first step; empty until the first step or the first parameters fix them. */
	private final Map<String, TensorState> tensors = new LinkedHashMap<>();

	private boolean holdsParameters;

	private long step;

	private Instant lastUsedAt;

	/** Counts the changes: creation makes it 1, every step, PATCH or PUT of parameters adds one. */
	private long version;

	OptimizerSession(String id, Hyperparameters hyperparameters, Precision precision, Instant now) {
		this(id, hyperparameters, precision, now, now);
		this.version = 1;
	}

	private OptimizerSession(String id, Hyperparameters hyperparameters, Precision precision, Instant createdAt,
			Instant lastUsedAt) {
		this.id = Objects.requireNonNull(id, "id");
		this.hyperparameters = Objects.requireNonNull(hyperparameters, "hyperparameters");
		this.precision = Objects.requireNonNull(precision, "precision");
		this.createdAt = createdAt;
		this.lastUsedAt = lastUsedAt;
	}

	public String id() {
		return this.id;
	}

	/**
	 * The number of changes so far: 1 when created or resumed, one more with every step, PATCH and PUT of parameters
	 * (kept across restarts). Equal versions of one session mean equal state.
	 */
	public long version() {
		this.lock.lock();
		try {
			return this.version;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** The session's place in the order of creation; never changes. */
	SessionStore.Key key() {
		return new SessionStore.Key(this.createdAt, this.id);
	}

	SessionSnapshot snapshot() {
		this.lock.lock();
		try {
			List<TensorSummary> summaries = new ArrayList<>(this.tensors.size());
			for (TensorState state : this.tensors.values()) {
				summaries.add(new TensorSummary(state.name, state.shape(), state.step));
			}
			return new SessionSnapshot(this.id, this.step, this.hyperparameters, this.precision, this.holdsParameters,
					List.copyOf(summaries), this.createdAt, this.lastUsedAt);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Makes the session hold these parameters, keeping the moments; fixes the tensors if nothing has yet, else they
	 * must be exactly the session's tensors in their shapes.
	 */
	void holdParameters(Map<String, Tensor> parameters, Instant now) {
		this.lock.lock();
		try {
			Map<String, TensorState> created = createOrCheck(parameters);
			Map<String, TensorState> states = (created != null) ? created : this.tensors;
			List<Runnable> holds = new ArrayList<>(states.size());
			states.forEach((name, state) -> holds.add(state.prepareHold(parameters.get(name))));
			// nothing below can fail
			if (created != null) {
				this.tensors.putAll(created);
			}
			holds.forEach(Runnable::run);
			this.holdsParameters = true;
			this.lastUsedAt = now;
			this.version++;
		}
		finally {
			this.lock.unlock();
		}
	}

	StepResult step(Map<String, Tensor> parameters, Map<String, Tensor> gradients, Instant now) {
		this.lock.lock();
		try {
			// Phase 1: check and convert everything; nothing changes if any of it fails.
			Map<String, TensorState> states = this.tensors;
			Map<String, TensorState> created = null;
			if (this.holdsParameters) {
				if (parameters != null) {
					throw new SessionException(Reason.TENSOR_MISMATCH,
							"this session holds its parameters: leave 'parameters' out and send gradients only");
				}
			}
			else {
				if (parameters == null) {
					throw new SessionException(Reason.TENSOR_MISMATCH, "'parameters' is required: this session does "
							+ "not hold its parameters, so each step sends every tensor with its current value");
				}
				created = createOrCheck(parameters);
				if (created != null) {
					states = created;
				}
			}
			Map<String, Tensor> resolved = resolveGradients(gradients, states);
			boolean amsgrad = this.hyperparameters.amsgrad();
			List<TensorState.Update> updates = new ArrayList<>(states.size());
			for (TensorState state : states.values()) {
				Tensor gradient = resolved.get(state.name);
				Tensor parameter = (parameters != null) ? parameters.get(state.name) : null;
				updates.add(state.prepare(parameter, gradient, amsgrad));
			}
			// Phase 2: apply; nothing here can fail.
			if (created != null) {
				this.tensors.putAll(created);
			}
			Map<String, Tensor> result = new LinkedHashMap<>();
			int i = 0;
			for (TensorState state : states.values()) {
				TensorState.Update update = updates.get(i++);
				update.apply(this.hyperparameters);
				result.put(state.name, update.parameter());
			}
			this.step++;
			this.lastUsedAt = now;
			this.version++;
			return new StepResult(this.step, result);
		}
		finally {
			this.lock.unlock();
		}
	}

	SessionSnapshot updateHyperparameters(UnaryOperator<Hyperparameters> change, Instant now) {
		this.lock.lock();
		try {
			Hyperparameters current = this.hyperparameters;
			Hyperparameters next = change.apply(current);
			if (next.algorithm() != current.algorithm()) {
				throw new SessionException(Reason.IMMUTABLE_SETTING, "algorithm cannot change once a session exists "
						+ "(it is '" + current.algorithm().wireName() + "'): create a new session instead");
			}
			if (next.amsgrad() != current.amsgrad()) {
				throw new SessionException(Reason.IMMUTABLE_SETTING, "amsgrad cannot change once a session exists "
						+ "(it is " + current.amsgrad() + "): create a new session instead");
			}
			this.hyperparameters = next;
			this.lastUsedAt = now;
			this.version++;
		}
		finally {
			this.lock.unlock();
		}
		return snapshot();
	}

	Checkpoint checkpoint() {
		this.lock.lock();
		try {
			boolean amsgrad = this.hyperparameters.amsgrad();
			Map<String, TensorCheckpoint> states = new LinkedHashMap<>();
			this.tensors.forEach((name, state) -> states.put(name, state.checkpoint(amsgrad)));
			return new Checkpoint(this.hyperparameters, this.precision, this.step, this.holdsParameters, states);
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Everything a session file holds, taken under the lock: one copy of the state. */
	PersistedSession persisted() {
		this.lock.lock();
		try {
			return new PersistedSession(this.id, this.createdAt, this.lastUsedAt, this.version, checkpoint(),
					PersistedSession.Metadata.NONE);
		}
		finally {
			this.lock.unlock();
		}
	}

	Map<String, Tensor> heldParameters() {
		this.lock.lock();
		try {
			if (!this.holdsParameters) {
				throw new SessionException(Reason.PARAMETERS_NOT_HELD, "this session does not hold its parameters: "
						+ "the client sends them with each step (PUT them to /v1/sessions/" + this.id
						+ "/parameters to let the session hold them)");
			}
			Map<String, Tensor> result = new LinkedHashMap<>();
			this.tensors.forEach((name, state) -> result.put(name, state.heldParameter()));
			return result;
		}
		finally {
			this.lock.unlock();
		}
	}

	boolean holdsParameters() {
		this.lock.lock();
		try {
			return this.holdsParameters;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** A new session carrying a checked checkpoint's state. */
	static OptimizerSession restore(String id, Checkpoint checkpoint, Instant now) {
		OptimizerSession session = restore(id, checkpoint, now, now);
		session.version = 1;
		return session;
	}

	/** The session a session file holds, as it was: same id, times, version and state. */
	static OptimizerSession restore(PersistedSession saved) {
		OptimizerSession session = restore(saved.id(), saved.checkpoint(), saved.createdAt(), saved.lastUsedAt());
		session.version = saved.version();
		return session;
	}

	private static OptimizerSession restore(String id, Checkpoint checkpoint, Instant createdAt, Instant lastUsedAt) {
		OptimizerSession session = new OptimizerSession(id, checkpoint.hyperparameters(), checkpoint.precision(),
				createdAt, lastUsedAt);
		boolean amsgrad = checkpoint.hyperparameters().amsgrad();
		checkpoint.tensors().forEach((name, saved) -> {
			TensorState state = TensorState.create(name, saved.firstMoment().shape(), checkpoint.precision());
			state.restore(saved, amsgrad, checkpoint.holdsParameters());
			session.tensors.put(name, state);
		});
		session.holdsParameters = checkpoint.holdsParameters();
		session.step = checkpoint.step();
		return session;
	}

	/**
	 * The tensor states these parameters fix when the session has none yet (not yet added); otherwise {@code null},
	 * after checking that the parameters are exactly the session's tensors in their shapes.
	 */
	private Map<String, TensorState> createOrCheck(Map<String, Tensor> parameters) {
		if (this.tensors.isEmpty()) {
			return createTensors(parameters, "parameters");
		}
		checkCovers(parameters, "parameters");
		return null;
	}

	private Map<String, TensorState> createTensors(Map<String, Tensor> parameters, String field) {
		if (parameters.isEmpty()) {
			throw new SessionException(Reason.TENSOR_MISMATCH,
					"'" + field + "' must name at least one tensor: it fixes the session's tensors");
		}
		Map<String, TensorState> created = new LinkedHashMap<>();
		parameters.forEach((name, tensor) -> {
			checkName(name);
			created.put(name, TensorState.create(name, tensor.shape(), this.precision));
		});
		return created;
	}

	static void checkName(String name) {
		if (name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
			throw new SessionException(Reason.TENSOR_MISMATCH,
					"tensor names must have 1 to " + MAX_NAME_LENGTH + " characters, got '" + abbreviate(name) + "'");
		}
		if (name.equals(Safetensors.METADATA)) {
			throw new SessionException(Reason.TENSOR_MISMATCH, "'" + Safetensors.METADATA + "' cannot name a tensor: "
					+ "safetensors files reserve it for their metadata");
		}
	}

	/** Checks that {@code tensors} has exactly the session's tensors, in their shapes. */
	private void checkCovers(Map<String, Tensor> given, String field) {
		for (Map.Entry<String, Tensor> entry : given.entrySet()) {
			TensorState state = this.tensors.get(entry.getKey());
			if (state == null) {
				throw new SessionException(Reason.TENSOR_MISMATCH, "'" + field + "' names '"
						+ abbreviate(entry.getKey()) + "', which is not a tensor of this session; its tensors are "
						+ this.tensors.keySet() + " (fixed by the first step)");
			}
			checkShape(state, entry.getValue(), field + " '" + entry.getKey() + "'");
		}
		for (String name : this.tensors.keySet()) {
			if (!given.containsKey(name)) {
				throw new SessionException(Reason.TENSOR_MISMATCH, "'" + field + "' lacks tensor '" + name
						+ "': send every tensor of this session " + this.tensors.keySet());
			}
		}
	}

	private static void checkShape(TensorState state, Tensor tensor, String what) {
		if (!state.hasShape(tensor)) {
			throw new SessionException(Reason.TENSOR_MISMATCH, what + " has shape "
					+ java.util.Arrays.toString(tensor.shape()) + ", expected " + state.shapeText());
		}
	}

	/**
	 * Maps each gradient to its tensor: by the tensor's name, or by {@code "d" + name} as the article names them
	 * ({@code dW1} for {@code W1}). An exact name wins over the alias.
	 */
	private static Map<String, Tensor> resolveGradients(Map<String, Tensor> gradients, Map<String, TensorState> states) {
		if (gradients == null) {
			throw new SessionException(Reason.TENSOR_MISMATCH,
					"'gradients' is required: send {\"gradients\": {name: tensor}} (an empty object steps nothing)");
		}
		Map<String, Tensor> resolved = new LinkedHashMap<>();
		Map<String, String> givenAs = new LinkedHashMap<>();
		for (Map.Entry<String, Tensor> entry : gradients.entrySet()) {
			String key = entry.getKey();
			String target = states.containsKey(key) ? key
					: (key.startsWith("d") && states.containsKey(key.substring(1))) ? key.substring(1) : null;
			if (target == null) {
				throw new SessionException(Reason.TENSOR_MISMATCH, "gradient '" + abbreviate(key)
						+ "' matches no tensor of this session " + states.keySet()
						+ "; name a gradient like its tensor ('W1') or with a 'd' before it ('dW1')");
			}
			String previous = givenAs.put(target, key);
			if (previous != null) {
				throw new SessionException(Reason.TENSOR_MISMATCH, "tensor '" + target + "' has two gradients, '"
						+ previous + "' and '" + key + "': send one");
			}
			checkShape(states.get(target), entry.getValue(), "gradient '" + key + "'");
			resolved.put(target, entry.getValue());
		}
		return resolved;
	}

	static String abbreviate(String text) {
		return (text.length() <= 64) ? text : text.substring(0, 61) + "...";
	}

}
