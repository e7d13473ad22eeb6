package dev.adamopt.session;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongPredicate;

import dev.adamopt.kernel.GradientStatistics;
import dev.adamopt.kernel.Precision;
import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.session.SessionSnapshot.TensorSummary;
import dev.adamopt.tensor.Safetensors;
import dev.adamopt.tensor.Tensor;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One optimizer run: hyperparameters, the tensors' state and the step count. Every operation holds the session's
 * lock, so steps on one session are serialized while different sessions run in parallel, and every operation checks
 * all of its input, reserves and allocates all the memory it needs before it changes anything; what it then changes
 * allocates nothing, so a failure (an OutOfMemoryError included) leaves the session exactly as it was.
 */
public final class OptimizerSession {

	/** Long enough for any real name, short enough that names cannot be used to fill memory. */
	static final int MAX_NAME_LENGTH = 256;

	/** How many keys of older steps a session remembers, to tell a late retry (409) from a new step. */
	static final int OLDER_KEYS = 16;

	/** What remembering keys costs a session, counted once it gets its first key. */
	static final long KEY_HISTORY_BYTES = OLDER_KEYS * 2 * Long.BYTES + 128;

	private final String id;

	private final Precision precision;

	private final Instant createdAt;

	private final SessionCapacity capacity;

	/** The name of the API key that created the session; {@code null} when the service has no keys. */
	private final String owner;

	/** Where the session reserves its memory: its owner's quota (within the service's budget), or the service's. */
	private final MemoryBudget budget;

	private final ReentrantLock lock = new ReentrantLock();

	/** The optimizer's settings, groups and schedule position: replaced whole, never changed in place. */
	private OptimizerConfig config;

	/** Steps skipped under nonFinite "skip". */
	private long skippedSteps;

	private final StepHistory history;

	/** In the order of the first step; empty until the first step or the first parameters fix them. */
	private Map<String, TensorState> tensors = Map.of();

	private boolean holdsParameters;

	private long step;

	private Instant lastUsedAt;

	/** Bytes of the budget this session holds. */
	private long bytes;

	/** Changes with every change: the session's ETag. */
	private long version = 1;

	/** The latest step that came with an idempotency key: enough to answer it again. */
	private KeyedStep latest;

	/** Hashes of the keys of the keyed steps before {@link #latest}, and their steps: a ring, newest last. */
	private long[] olderKeys;

	private long[] olderSteps;

	private int olderCount;

	/** Entries of other parts kept in the session's file (the key it was created with), by name. */
	private Map<String, String> kept = Map.of();

	/** Set once the session has left its store: it then refuses every operation. */
	private boolean closed;

	/** Set once the session's place in its capacity was given back (see {@link SessionCapacity#release}). */
	private final AtomicBoolean released = new AtomicBoolean();

	/** Test seam around the apply phase of a step; does nothing in production. */
	ApplyPhaseObserver observer = ApplyPhaseObserver.NONE;

	/**
	 * Makes a session of {@code owner} ({@code null}: none) and reserves its overhead in the budget; the caller has
	 * admitted it.
	 */
	OptimizerSession(String id, String owner, OptimizerConfig config, Precision precision, Instant now,
			SessionCapacity capacity) {
		this(id, owner, config, precision, now, now, capacity);
	}

	private OptimizerSession(String id, String owner, OptimizerConfig config, Precision precision, Instant createdAt,
			Instant lastUsedAt, SessionCapacity capacity) {
		this.id = Objects.requireNonNull(id, "id");
		this.config = Objects.requireNonNull(config, "config");
		this.history = new StepHistory(capacity.historySize());
		this.precision = Objects.requireNonNull(precision, "precision");
		this.capacity = capacity;
		this.owner = owner;
		this.budget = capacity.budgetOf(owner);
		this.budget.reserve(SessionCapacity.SESSION_OVERHEAD_BYTES, "a new session");
		this.bytes = SessionCapacity.SESSION_OVERHEAD_BYTES;
		this.createdAt = createdAt;
		this.lastUsedAt = lastUsedAt;
		// the owner is kept in the session's file, so that a restart gives the session back to its key
		this.kept = (owner != null) ? Map.of(OWNER_ENTRY, owner) : Map.of();
	}

	public String id() {
		return this.id;
	}

	/** The capacity the session was admitted in, which it gives its place back to. */
	SessionCapacity capacity() {
		return this.capacity;
	}

	/** The name of the API key that created the session; {@code null} when it has no owner. Never changes. */
	String owner() {
		return this.owner;
	}

	/** The session's place in the order of creation; never changes. */
	SessionStore.Key key() {
		return new SessionStore.Key(this.createdAt, this.id);
	}

	SessionSnapshot snapshot() {
		this.lock.lock();
		try {
			checkOpen();
			List<TensorSummary> summaries = new ArrayList<>(this.tensors.size());
			for (TensorState state : this.tensors.values()) {
				summaries.add(new TensorSummary(state.name, state.shape(), state.step, state.group));
			}
			return new SessionSnapshot(this.id, this.step, this.config, this.precision, this.holdsParameters,
					List.copyOf(summaries), this.createdAt, this.lastUsedAt, this.bytes, this.version,
					this.skippedSteps);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Makes the session hold these parameters, keeping the moments; fixes the tensors if nothing has yet, else they
	 * must be exactly the session's tensors in their shapes.
	 */
	SessionSnapshot holdParameters(Map<String, Tensor> parameters, LongPredicate ifMatch, Instant now) {
		this.lock.lock();
		try {
			checkOpen();
			checkVersion(ifMatch);
			Reservation reservation = new Reservation();
			try {
				boolean create = this.tensors.isEmpty();
				checkFinite(parameters, "parameter");
				long needed = create ? planTensors(parameters, "parameters") : 0;
				long released = 0;
				if (!create) {
					checkCovers(parameters, "parameters");
				}
				for (Map.Entry<String, Tensor> entry : parameters.entrySet()) {
					long parameterBytes = TensorState.parameterBytes(entry.getValue().shape(), this.precision);
					needed += parameterBytes;
					if (!create && this.tensors.get(entry.getKey()).holdsParameter()) {
						released += parameterBytes;
					}
				}
				// the new parameters are held beside the old ones until they replace them
				reservation.reserve(needed, "holding " + parameters.size() + " parameters");
				Map<String, TensorState> created = create ? createTensors(parameters) : null;
				Map<String, TensorState> states = create ? created : this.tensors;
				List<Runnable> holds = new ArrayList<>(states.size());
				states.forEach((name, state) -> holds.add(state.prepareHold(parameters.get(name))));
				// the latest keyed step of a session that holds its parameters answers with them: it keeps the
				// arrays they replace (no copy) so that a retry still gets that step's answer
				KeyedStep keep = null;
				if (this.latest != null && this.latest.answer == null && this.holdsParameters) {
					Map<String, Tensor> answer = new LinkedHashMap<>();
					this.tensors.forEach((name, state) -> answer.put(name, state.heldParameterShared()));
					keep = new KeyedStep(this.latest.key, this.latest.hash, this.latest.digest, this.latest.step, answer,
							released, this.latest.statistics);
				}
				// nothing below allocates or fails
				if (created != null) {
					this.tensors = created;
				}
				for (int i = 0; i < holds.size(); i++) {
					holds.get(i).run();
				}
				this.holdsParameters = true;
				this.lastUsedAt = now;
				this.version++;
				this.bytes += reservation.commit() - released;
				if (keep != null) {
					this.latest = keep;
					this.bytes += released;
				}
				else {
					this.budget.release(released);
				}
			}
			finally {
				reservation.cancel();
			}
			return snapshot();
		}
		finally {
			this.lock.unlock();
		}
	}

	StepResult step(Map<String, Tensor> parameters, Map<String, Tensor> gradients, IdempotencyKey key,
			LongPredicate ifMatch, Instant now) {
		return step(parameters, gradients, Double.NaN, key, ifMatch, now);
	}

	/**
	 * One step: clips the gradients, applies Adam to every tensor with a gradient with its group's hyperparameters,
	 * moves the schedule and records the step in the history; or, under nonFinite "skip", changes nothing but the
	 * count of skipped steps and the history when a gradient or a result would not be finite.
	 * @param loss the loss the client reports for this step (recorded, not used); NaN for none
	 */
	StepResult step(Map<String, Tensor> parameters, Map<String, Tensor> gradients, double loss, IdempotencyKey key,
			LongPredicate ifMatch, Instant now) {
		this.lock.lock();
		try {
			long started = System.nanoTime();
			checkOpen();
			if (key != null) {
				StepResult replay = replay(key);
				if (replay != null) {
					return replay;
				}
			}
			checkVersion(ifMatch);
			Reservation reservation = new Reservation();
			try {
				// Phase 1: check, convert and allocate everything; nothing changes if any of it fails.
				OptimizerConfig config = this.config;
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
						throw new SessionException(Reason.TENSOR_MISMATCH, "'parameters' is required: this session "
								+ "does not hold its parameters, so each step sends every tensor with its current value");
					}
					if (this.tensors.isEmpty()) {
						reservation.reserve(planTensors(parameters, "parameters"),
								"the optimizer state of " + parameters.size() + " tensors");
						created = createTensors(parameters);
						states = created;
					}
					else {
						checkCovers(parameters, "parameters");
					}
					checkFinite(parameters, "parameter");
				}
				Map<String, Tensor> resolved = resolveGradients(gradients, states);
				TensorState.Update[] updates = new TensorState.Update[states.size()];
				TensorState[] order = new TensorState[states.size()];
				Map<String, Tensor> answer = new LinkedHashMap<>();
				int n = 0;
				for (TensorState state : states.values()) {
					Tensor parameter = (parameters != null) ? parameters.get(state.name) : null;
					TensorState.Update update = state.prepare(parameter, resolved.get(state.name));
					order[n] = state;
					updates[n++] = update;
					answer.put(state.name, update.answer());
				}
				// the gradients' statistics: one read of each, before any of them is used
				Clipping clipping = config.clipping();
				// clipping by value needs each gradient's exact largest magnitude (whether it clips), which the
				// statistics give for the infinity norm; otherwise they give a bound of it, enough for StateBounds
				double normType = (clipping instanceof Clipping.ByNorm byNorm) ? byNorm.normType()
						: (clipping instanceof Clipping.ByValue) ? Double.POSITIVE_INFINITY : 2.0;
				GradientStatistics.Accumulator norms = new GradientStatistics.Accumulator(
						this.precision == Precision.FLOAT32, normType);
				double[] statistics = new double[3];
				double[] maxAbs = new double[n];
				int badGradient = -1;
				for (int i = 0; i < n; i++) {
					if (updates[i].hasGradient()) {
						updates[i].gradientStatistics(normType, statistics);
						norms.add(statistics);
						maxAbs[i] = statistics[1];
						if (badGradient < 0 && !Double.isFinite(statistics[1])) {
							badGradient = i;
						}
					}
				}
				double gradNorm = norms.l2Norm();
				double totalNorm = Double.NaN;
				double gradScale = 1.0;
				double clipValue = Double.POSITIVE_INFINITY;
				boolean clipped = false;
				boolean skip = false;
				if (badGradient >= 0) {
					TensorState.Update bad = updates[badGradient];
					int index = bad.firstNonFiniteGradient();
					if (config.nonFinite() == NonFinitePolicy.ERROR) {
						double sent = resolved.get(order[badGradient].name).get(index);
						throw new SessionException(Reason.NON_FINITE_GRADIENT, "gradient '" + order[badGradient].name
								+ "' holds " + sent + " at flat index " + index
								+ (Double.isFinite(sent) ? " (beyond float32's range of this float32 session)" : "")
								+ ": send finite "
								+ "gradients, or create the session with \"nonFinite\": \"skip\" to skip such steps "
								+ "(nothing was changed)");
					}
					skip = true;
				}
				else {
					if (clipping instanceof Clipping.ByNorm byNorm) {
						totalNorm = norms.totalNorm();
						gradScale = norms.clipCoefficient(byNorm.maxNorm());
						clipped = gradScale < 1.0;
					}
					else if (clipping instanceof Clipping.ByValue byValue) {
						clipValue = byValue.maxValue();
						for (int i = 0; i < n; i++) {
							clipped |= maxAbs[i] > clipValue;
						}
					}
					for (int i = 0; i < n && !skip; i++) {
						int index = updates[i].firstNonFiniteResult(config.hyperparameters(order[i].group), gradScale,
								clipValue, maxAbs[i]);
						if (index >= 0) {
							if (config.nonFinite() == NonFinitePolicy.ERROR) {
								throw new SessionException(Reason.NON_FINITE_RESULT, "this step would make the "
										+ "parameter or the moments of '" + order[i].name + "' NaN or infinite at flat "
										+ "index " + index + " (the gradient there is " + updates[i].gradient(index)
										+ "): lower the learning rate, clip the gradients, or create the session "
										+ "with \"nonFinite\": \"skip\" (nothing was changed)");
							}
							skip = true;
						}
					}
				}
				OptimizerConfig next = skip ? config : advanced(config);
				StepStatistics stepStatistics = new StepStatistics(
						config.hyperparameters(reportedGroup(order)).learningRate(), gradNorm, totalNorm, 0, clipped,
						skip);
				long resultStep = skip ? this.step : this.step + 1;
				StepHistory.Columns room = null;
				long roomBytes = this.history.roomBytes();
				if (roomBytes > 0) {
					reservation.reserve(roomBytes, "the session's step history");
					room = this.history.prepareRoom();
				}
				KeyedStep keyed = null;
				if (key != null) {
					// a session that holds its parameters answers a retry with them; a client-held one keeps the
					// answer's arrays (the request's own, no copy), counted in the budget
					long answerBytes = 0;
					if (!this.holdsParameters) {
						for (Tensor tensor : answer.values()) {
							answerBytes += Tensor.estimatedBytes(tensor.size(), tensor.isFloat32());
						}
					}
					reservation.reserve(answerBytes + ((this.olderKeys == null) ? KEY_HISTORY_BYTES : 0),
							"remembering the step's answer for its idempotency key");
					keyed = new KeyedStep(key.key(), key.hash(), key.digest(), resultStep,
							this.holdsParameters ? null : answer, answerBytes, stepStatistics);
					if (this.olderKeys == null) {
						this.olderKeys = new long[OLDER_KEYS];
						this.olderSteps = new long[OLDER_KEYS];
					}
				}
				StepResult result = new StepResult(resultStep, answer, this.version + 1, false, stepStatistics);
				this.observer.beforeApply();
				// Phase 2: apply; nothing here allocates or can fail.
				double changed = 0;
				if (skip) {
					for (int i = 0; i < updates.length; i++) {
						updates[i].answerUnchanged();
					}
					this.skippedSteps++;
				}
				else {
					if (created != null) {
						this.tensors = created;
					}
					for (int i = 0; i < updates.length; i++) {
						changed += updates[i].apply(config.hyperparameters(order[i].group), gradScale, clipValue,
								maxAbs[i]);
					}
					this.step++;
					this.config = next;
				}
				double updateNorm = Math.sqrt(changed);
				stepStatistics.updateNorm = updateNorm;
				this.lastUsedAt = now;
				this.version++;
				this.bytes += reservation.commit();
				if (this.latest != null) {
					// the previous keyed step becomes an older one: its key is remembered (unless it was a store's
					// guard, not the client's), its answer given back
					if (!IdempotencyKey.isGuard(this.latest.key)) {
						this.olderKeys[this.olderCount % OLDER_KEYS] = this.latest.hash;
						this.olderSteps[this.olderCount % OLDER_KEYS] = this.latest.step;
						this.olderCount++;
					}
					this.bytes -= this.latest.answerBytes;
					this.budget.release(this.latest.answerBytes);
					this.latest = null;
				}
				this.latest = keyed;
				if (room != null) {
					this.bytes -= this.history.bytes();
					this.budget.release(this.history.bytes());
				}
				this.history.record(room, resultStep, now.getEpochSecond() * 1_000_000 + now.getNano() / 1000,
						stepStatistics.learningRate, gradNorm, updateNorm, loss, clipped, skip,
						(System.nanoTime() - started) / 1000);
				this.observer.afterApply();
				return result;
			}
			finally {
				reservation.cancel();
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * The group whose learning rate a step reports: the default group when it has a tensor, else the first
	 * tensor's (torch's {@code param_groups[0]}, which training loops log, when the groups follow the tensors).
	 */
	private static int reportedGroup(TensorState[] tensors) {
		for (TensorState tensor : tensors) {
			if (tensor.group < 0) {
				return -1;
			}
		}
		return (tensors.length > 0) ? tensors[0].group : -1;
	}

	/** The optimizer after this step: the schedule moves the learning rates (checked before anything changes). */
	private static OptimizerConfig advanced(OptimizerConfig config) {
		try {
			return config.advance();
		}
		catch (IllegalArgumentException ex) {
			throw new SessionException(Reason.INVALID_SETTING, "the schedule cannot move on from the learning rates "
					+ "it has: " + ex.getMessage() + "; PATCH the learningRate or the schedule (nothing was changed)");
		}
	}

	/** The history's entries after step {@code since}, oldest first. */
	List<StepHistory.Entry> history(long since) {
		this.lock.lock();
		try {
			checkOpen();
			return this.history.since(since);
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Refuses tensors that hold NaN or infinities where only finite numbers make sense (400). */
	private static void checkFinite(Map<String, Tensor> tensors, String role) {
		for (Map.Entry<String, Tensor> entry : tensors.entrySet()) {
			int index = entry.getValue().firstNonFinite();
			if (index >= 0) {
				throw new SessionException(Reason.INVALID_TENSOR, role + " '" + abbreviate(entry.getKey())
						+ "' holds " + entry.getValue().get(index) + " at flat index " + index + ": " + role
						+ "s must be finite numbers");
			}
		}
	}

	/** Changes the optimizer as torch changes a running one (see {@link OptimizerSettings#patch}). */
	SessionSnapshot updateOptimizer(OptimizerSettings change, LongPredicate ifMatch, Instant now) {
		this.lock.lock();
		try {
			checkOpen();
			checkVersion(ifMatch);
			this.config = change.patch(this.config, !this.tensors.isEmpty());
			this.lastUsedAt = now;
			this.version++;
			return snapshot();
		}
		finally {
			this.lock.unlock();
		}
	}

	/** A consistent copy of the whole state, taken under the lock and charged to the request's memory. */
	Checkpoint checkpoint() {
		this.lock.lock();
		try {
			checkOpen();
			Map<String, TensorCheckpoint> states = new LinkedHashMap<>();
			this.tensors.forEach((name, state) -> states.put(name, state.checkpoint()));
			return new Checkpoint(this.config, this.precision, this.step, this.skippedSteps, this.holdsParameters,
					states);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Everything the session's file holds, taken under the lock: one copy of the state, charged to the request's
	 * memory like a checkpoint's (where no request is open, as on the writer's thread, it is not charged).
	 */
	PersistedSession persisted() {
		this.lock.lock();
		try {
			Map<String, String> entries = new LinkedHashMap<>(this.kept);
			if (this.latest != null || this.olderCount > 0) {
				entries.put(IDEMPOTENCY_ENTRY, idempotencyJson());
			}

			// the remembered answer's arrays are never changed once answered: shared, not copied
			Map<String, Tensor> answer = (this.latest != null && this.latest.answer != null) ? this.latest.answer
					: Map.of();
			return new PersistedSession(this.id, this.createdAt, this.lastUsedAt, this.version, checkpoint(),
					new PersistedSession.Metadata(PersistedSession.Metadata.CURRENT, entries), answer,
					this.history.toTensor());
		}
		finally {
			this.lock.unlock();
		}
	}

	Map<String, Tensor> heldParameters() {
		this.lock.lock();
		try {
			checkOpen();
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

	/**
	 * Called when the session leaves its store: after any operation in flight, it gives its memory back and refuses
	 * every later operation. A second call does nothing.
	 */
	void close() {
		this.lock.lock();
		try {
			if (!this.closed) {
				this.closed = true;
				this.budget.release(this.bytes);
				this.bytes = 0;
				this.tensors = Map.of();
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * The answer to a retry of the latest keyed step, {@code null} for a key the session has not seen; refuses a key
	 * sent again with another body, or the key of an older step.
	 */
	private StepResult replay(IdempotencyKey key) {
		KeyedStep latest = this.latest;
		if (latest != null && latest.key.equals(key.key())) {
			if (latest.digest != key.digest()) {
				throw new SessionException(Reason.IDEMPOTENCY_KEY_REUSED, "Idempotency-Key '"
						+ abbreviate(key.key()) + "' was sent with step " + latest.step + " and another body: a retry "
						+ "must send the same body, and a new step a new key");
			}
			Map<String, Tensor> answer = latest.answer;
			if (answer == null) {
				answer = new LinkedHashMap<>();
				for (TensorState state : this.tensors.values()) {
					answer.put(state.name, state.heldParameter());
				}
			}
			// a store's guard is not the client's key: to the client its step was applied once, not answered again
			return new StepResult(latest.step, answer, this.version, !IdempotencyKey.isGuard(latest.key),
					latest.statistics);
		}
		long hash = key.hash();
		for (int i = Math.max(0, this.olderCount - OLDER_KEYS); i < this.olderCount; i++) {
			if (this.olderKeys[i % OLDER_KEYS] == hash) {
				throw new SessionException(Reason.IDEMPOTENCY_KEY_OUTDATED, "Idempotency-Key '" + abbreviate(key.key())
						+ "' belongs to step " + this.olderSteps[i % OLDER_KEYS] + ", which was applied; the session "
						+ "is at step " + this.step + " now, and only its latest step can be answered again");
			}
		}
		return null;
	}

	/** Refuses with 412 unless {@code ifMatch} (absent: anything) accepts the session's version. */
	private void checkVersion(LongPredicate ifMatch) {
		if (ifMatch != null && !ifMatch.test(this.version)) {
			throw new SessionException(Reason.PRECONDITION_FAILED, "the session has changed: it is at version "
					+ this.version + " (ETag \"" + this.version + "\", step " + this.step + "); read it again and "
					+ "send that ETag in If-Match");
		}
	}

	/**
	 * Closes the session for its deletion once {@code ifMatch} accepts its version: no change can come between the
	 * check and the deletion. The caller then removes it from the store, without holding its lock (the store's
	 * removal takes other locks, such as its file's, that are taken before a session's lock elsewhere).
	 */
	void closeIfMatch(LongPredicate ifMatch) {
		this.lock.lock();
		try {
			checkOpen();
			checkVersion(ifMatch);
			close();
		}
		finally {
			this.lock.unlock();
		}
	}

	long version() {
		this.lock.lock();
		try {
			return this.version;
		}
		finally {
			this.lock.unlock();
		}
	}

	private void checkOpen() {
		if (this.closed) {
			throw SessionService.notFound(this.id);
		}
	}

	/** Whether this call is the first to give the session's place back; see {@link SessionCapacity#release}. */
	boolean markReleased() {
		return this.released.compareAndSet(false, true);
	}

	/**
	 * A new session carrying a checked checkpoint's state; its memory is reserved first (and given back if the
	 * checkpoint turns out not to fit).
	 */
	static OptimizerSession restore(String id, String owner, Checkpoint checkpoint, Instant now,
			SessionCapacity capacity) {
		return restore(id, owner, checkpoint, now, now, capacity);
	}

	/**
	 * The session a session file holds, as it was: the same id, times, version and state; its memory is reserved
	 * first.
	 * @param versionGap added to the version written, so that no version of a state lost in a crash is given again
	 */
	static OptimizerSession restore(PersistedSession saved, long versionGap, SessionCapacity capacity) {
		OptimizerSession session = restore(saved.id(), owner(saved), saved.checkpoint(), saved.createdAt(),
				saved.lastUsedAt(), capacity);
		session.version = saved.version() + versionGap;
		Map<String, String> kept = new LinkedHashMap<>(saved.metadata().entries());
		kept.remove(IDEMPOTENCY_ENTRY);
		session.kept = Map.copyOf(kept);
		Tensor history = saved.history();
		if (history != null) {
			try {
				session.restoreHistory(history);
			}
			catch (RuntimeException | Error ex) {
				session.close();
				throw ex;
			}
		}
		String keys = saved.metadata().entries().get(IDEMPOTENCY_ENTRY);
		if (keys != null) {
			try {
				session.restoreKeys(keys, saved.answer());
			}
			catch (RuntimeException | Error ex) {
				session.close();
				throw ex;
			}
		}
		return session;
	}

	/**
	 * Keeps an entry of another part in the session's file (not a change of the session: its version stays); a
	 * restored session keeps the entries its file had.
	 */
	Void keep(String name, String entry) {
		this.lock.lock();
		try {
			Map<String, String> entries = new LinkedHashMap<>(this.kept);
			entries.put(name, entry);
			this.kept = Map.copyOf(entries);
			return null;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** The entry of another part kept in the session's file ({@link #keep}), {@code null} if none. */
	String kept(String name) {
		return this.kept.get(name);
	}

	/** The session file's entry for the idempotency record. */
	static final String IDEMPOTENCY_ENTRY = "idempotency";

	/** The session file's entry for the owner: the name of the API key that created the session. */
	static final String OWNER_ENTRY = "owner";

	/** The owner a session file names ({@code null}: none). */
	static String owner(PersistedSession saved) {
		return saved.metadata().entries().get(OWNER_ENTRY);
	}



	private static final JsonMapper RECORD_MAPPER = JsonMapper.builder().build();

	/**
	 * The idempotency record as the session file keeps it: {@code {"latest": {"key", "digest", "step", "answer":
	 * "held" | "saved"}, "older": [{"hash", "step"}, ...]}}, older keys oldest first; a saved answer's tensors travel
	 * beside it in the file.
	 */
	private String idempotencyJson() {
		ObjectNode record = RECORD_MAPPER.createObjectNode();
		if (this.latest != null) {
			ObjectNode latest = record.putObject("latest");
			latest.put("key", this.latest.key);
			latest.put("digest", this.latest.digest);
			latest.put("step", this.latest.step);
			latest.put("answer", (this.latest.answer == null) ? "held" : "saved");
			if (this.latest.statistics != null) {
				latest.set("statistics", this.latest.statistics.toJson());
			}
		}
		ArrayNode older = record.putArray("older");
		for (int i = Math.max(0, this.olderCount - OLDER_KEYS); i < this.olderCount; i++) {
			older.addObject().put("hash", this.olderKeys[i % OLDER_KEYS]).put("step", this.olderSteps[i % OLDER_KEYS]);
		}
		return RECORD_MAPPER.writeValueAsString(record);
	}

	/** Sets the idempotency record from its file entry, reserving what it holds. */
	private void restoreKeys(String json, Map<String, Tensor> answer) {
		JsonNode record;
		try {
			record = RECORD_MAPPER.readTree(json);
		}
		catch (JacksonException ex) {
			throw invalidRecord("it is not JSON");
		}
		JsonNode latest = record.path("latest");
		KeyedStep keyed = null;
		long answerBytes = 0;
		if (!latest.isMissingNode()) {
			if (!latest.path("key").isString() || !latest.path("digest").isIntegralNumber()
					|| !latest.path("step").isIntegralNumber() || !latest.path("answer").isString()) {
				throw invalidRecord("'latest' needs key, digest, step and answer");
			}
			boolean saved = latest.get("answer").asString().equals("saved");
			if (saved == answer.isEmpty()) {
				throw invalidRecord("its answer is '" + latest.get("answer").asString() + "' but the file "
						+ (answer.isEmpty() ? "holds none" : "holds one"));
			}
			for (Tensor tensor : answer.values()) {
				answerBytes += Tensor.estimatedBytes(tensor.size(), tensor.isFloat32());
			}
			IdempotencyKey key = new IdempotencyKey(latest.get("key").asString(), latest.get("digest").asLong());
			keyed = new KeyedStep(key.key(), key.hash(), key.digest(), latest.get("step").asLong(),
					saved ? answer : null, answerBytes, StepStatistics.fromJson(latest.path("statistics")));
		}
		this.budget.reserve(answerBytes + KEY_HISTORY_BYTES, "the session's idempotency record");
		this.bytes += answerBytes + KEY_HISTORY_BYTES;
		this.latest = keyed;
		this.olderKeys = new long[OLDER_KEYS];
		this.olderSteps = new long[OLDER_KEYS];
		for (JsonNode older : record.path("older")) {
			this.olderKeys[this.olderCount % OLDER_KEYS] = older.path("hash").asLong();
			this.olderSteps[this.olderCount % OLDER_KEYS] = older.path("step").asLong();
			this.olderCount++;
		}
	}

	/** Sets the history from its file's, reserving what it holds. */
	private void restoreHistory(Tensor tensor) {
		StepHistory restored = new StepHistory(this.capacity.historySize());
		try {
			restored.restore(tensor);
		}
		catch (RuntimeException ex) {
			throw new SessionException(Reason.INVALID_CHECKPOINT, "the session's step history is not valid: "
					+ ex.getMessage());
		}
		this.budget.reserve(restored.bytes(), "the session's step history");
		this.bytes += restored.bytes();
		this.history.restoreFrom(restored);
	}

	private static SessionException invalidRecord(String why) {
		return new SessionException(Reason.INVALID_CHECKPOINT, "the session's idempotency record is not valid: " + why);
	}

	private static OptimizerSession restore(String id, String owner, Checkpoint checkpoint, Instant createdAt,
			Instant lastUsedAt, SessionCapacity capacity) {
		capacity.checkTensorCount(checkpoint.tensors().size(), "state.tensors");
		OptimizerSession session = new OptimizerSession(id, owner, checkpoint.optimizer(), checkpoint.precision(),
				createdAt, lastUsedAt, capacity);
		boolean amsgrad = checkpoint.optimizer().hyperparameters().amsgrad();
		Reservation reservation = session.new Reservation();
		try {
			Map<String, TensorState> states = new LinkedHashMap<>();
			for (Map.Entry<String, TensorCheckpoint> entry : checkpoint.tensors().entrySet()) {
				int[] shape = entry.getValue().firstMoment().shape();
				reservation.reserve(TensorState.stateBytes(shape, checkpoint.precision(), amsgrad)
						+ (checkpoint.holdsParameters() ? TensorState.parameterBytes(shape, checkpoint.precision()) : 0),
						"the checkpoint's state");
				TensorState state = TensorState.create(entry.getKey(), shape, checkpoint.precision(), amsgrad);
				state.group = checkpoint.optimizer().groupOf(entry.getKey());
				state.restore(entry.getValue(), checkpoint.holdsParameters());
				states.put(entry.getKey(), state);
			}
			session.tensors = states;
			session.holdsParameters = checkpoint.holdsParameters();
			session.step = checkpoint.step();
			session.skippedSteps = checkpoint.skippedSteps();
			session.bytes += reservation.commit();
			return session;
		}
		catch (RuntimeException | Error ex) {
			reservation.cancel();
			session.close();
			throw ex;
		}
	}

	/** The latest keyed step; {@code answer} is {@code null} when it is the parameters the session holds. */
	private record KeyedStep(String key, long hash, long digest, long step, Map<String, Tensor> answer,
			long answerBytes, StepStatistics statistics) {

	}

	/** Budget reserved during one operation: committed to the session when it succeeds, given back otherwise. */
	private final class Reservation {

		private long reserved;

		void reserve(long bytes, String what) {
			OptimizerSession.this.budget.reserve(bytes, what);
			this.reserved += bytes;
		}

		/** The bytes now held by the session. */
		long commit() {
			long committed = this.reserved;
			this.reserved = 0;
			return committed;
		}

		void cancel() {
			OptimizerSession.this.budget.release(this.reserved);
			this.reserved = 0;
		}

	}

	/** Observes the apply phase of every step (tests use it to inject faults and to measure allocation). */
	interface ApplyPhaseObserver {

		ApplyPhaseObserver NONE = new ApplyPhaseObserver() {
		};

		default void beforeApply() {
		}

		default void afterApply() {
		}

	}

	/**
	 * Checks that these parameters can fix the session's tensors (names, count); the bytes their optimizer state
	 * takes.
	 */
	private long planTensors(Map<String, Tensor> parameters, String field) {
		if (parameters.isEmpty()) {
			throw new SessionException(Reason.TENSOR_MISMATCH,
					"'" + field + "' must name at least one tensor: it fixes the session's tensors");
		}
		this.capacity.checkTensorCount(parameters.size(), field);
		boolean amsgrad = this.config.hyperparameters().amsgrad();
		long needed = 0;
		for (Map.Entry<String, Tensor> entry : parameters.entrySet()) {
			checkName(entry.getKey());
			needed += TensorState.stateBytes(entry.getValue().shape(), this.precision, amsgrad);
		}
		return needed;
	}

	/** The tensors' zero state, for parameters {@link #planTensors planned} and reserved for. */
	private Map<String, TensorState> createTensors(Map<String, Tensor> parameters) {
		boolean amsgrad = this.config.hyperparameters().amsgrad();
		Map<String, TensorState> created = new LinkedHashMap<>();
		parameters.forEach((name, tensor) -> {
			TensorState state = TensorState.create(name, tensor.shape(), this.precision, amsgrad);
			state.group = this.config.groupOf(name);
			created.put(name, state);
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
