package dev.adamopt.session;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.training.LearningRateSchedule;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The optimizer as JSON, in the API ({@code optimizer} of a session, a create, a PATCH, a checkpoint) and in a
 * safetensors checkpoint's {@code __metadata__}: one format, read and written here. In requests every field is
 * optional (a missing one takes torch's default on creation and keeps its value on PATCH); in answers every field is
 * resolved.
 */
@Schema(name = "OptimizerSettings",
		description = "Adam's hyperparameters as in torch.optim.Adam / AdamW, with torch's learning-rate schedules, "
				+ "gradient clipping and parameter groups. In requests every field is optional.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OptimizerSettings(
		@Schema(description = "adam (L2 weight decay added to the gradient) or adamw (decoupled weight decay). "
				+ "Cannot change after creation.", allowableValues = { "adam", "adamw" },
				example = "adam") String algorithm,
		@Schema(description = "The default group's learning rate, >= 0. Default 1e-3. On creation the initial rate; "
				+ "in a session it is torch's param_group['lr']: the rate the next step uses, moved by the schedule. "
				+ "A PATCH sets it as assigning param_group['lr'] does (a schedule goes on from it).",
				example = "0.001") Double learningRate,
		@Schema(description = "Decay rate of the first moment (the article's v), in [0, 1). Default 0.9.",
				example = "0.9") Double beta1,
		@Schema(description = "Decay rate of the second moment (the article's s), in [0, 1). Default 0.999.",
				example = "0.999") Double beta2,
		@Schema(description = "Added to the denominator for numerical stability, >= 0. Default 1e-8.",
				example = "1e-8") Double epsilon,
		@Schema(description = "Weight decay, >= 0. Default 0 for adam, 0.01 for adamw.",
				example = "0") Double weightDecay,
		@Schema(description = "Use the running maximum of the second moment (AMSGrad). Default false. "
				+ "Cannot change after creation.", example = "false") Boolean amsgrad,
		@Schema(description = "Maximize the objective instead of minimizing it. Default false.",
				example = "false") Boolean maximize,
		// not readOnly: generated clients leave readOnly fields out of what they send, and a checkpoint sent back
		// to resume must carry it
		@Schema(description = "Set by the service (not in a create or PATCH): torch's initial_lr of the default "
				+ "group, from which closed-form schedules and SequentialLR's milestones start; absent until a "
				+ "schedule is attached. A checkpoint carries it back as it came.",
				example = "0.001") Double initialLearningRate,
		@Schema(description = "A learning-rate schedule (torch.optim.lr_scheduler), stepped once after every "
				+ "applied step. {\"type\": \"none\"} in a PATCH removes it.") ScheduleSettings schedule,
		@Schema(description = "Gradient clipping before each step: by norm (clip_grad_norm_) or by value "
				+ "(clip_grad_value_). {} in a PATCH removes it.") ClippingSettings clipping,
		@ArraySchema(schema = @Schema(implementation = GroupSettings.class),
				arraySchema = @Schema(description = "torch's param groups: a tensor joins the first group with a "
						+ "matching glob; the others form the default group with the top-level values. A group's "
						+ "values left out take the top-level ones when it is created.")) List<GroupSettings> groups,
		@Schema(description = "What a step with a NaN or infinite gradient (or result) does: error (422, nothing "
				+ "changes) or skip (nothing changes, 200 with skipped: true). Default error.",
				allowableValues = { "error", "skip" }, example = "error") String nonFinite) {

	/** The settings of {@code config}, every field resolved. */
	public static OptimizerSettings of(OptimizerConfig config) {
		Hyperparameters h = config.hyperparameters();
		List<GroupSettings> groups = null;
		if (!config.groups().isEmpty()) {
			groups = new ArrayList<>();
			for (OptimizerConfig.Group group : config.groups()) {
				Hyperparameters g = group.hyperparameters();
				groups.add(new GroupSettings(group.match(), g.learningRate(), g.beta1(), g.beta2(), g.epsilon(),
						g.weightDecay(), nanToNull(group.initialLearningRate())));
			}
		}
		return new OptimizerSettings(h.algorithm().wireName(), h.learningRate(), h.beta1(), h.beta2(), h.epsilon(),
				h.weightDecay(), h.amsgrad(), h.maximize(), nanToNull(config.initialLearningRate()),
				(config.schedule() != null) ? ScheduleSettings.of(config.schedule(), config.schedulePosition()) : null,
				ClippingSettings.of(config.clipping()), groups, config.nonFinite().wireName());
	}

	/** The optimizer of a new session: given fields over torch's defaults; learning rates are the initial ones. */
	public static OptimizerConfig resolve(OptimizerSettings settings) {
		if (settings == null) {
			return OptimizerConfig.create(Hyperparameters.defaults(Algorithm.ADAM), List.of(), null, null,
					NonFinitePolicy.ERROR);
		}
		return settings.toNewConfig();
	}

	private OptimizerConfig toNewConfig() {
		kept("initialLearningRate", this.initialLearningRate);
		if (this.groups != null) {
			for (int i = 0; i < this.groups.size(); i++) {
				kept("groups[" + i + "].initialLearningRate", element(this.groups, i, "groups").initialLearningRate());
			}
		}
		if (this.schedule != null) {
			kept("schedule.position", this.schedule.position());
		}
		Algorithm algorithm = algorithm(this.algorithm, Algorithm.ADAM);
		Hyperparameters h = applyTo(Hyperparameters.defaults(algorithm), algorithm);
		return valid("optimizer.", () -> OptimizerConfig.create(h, groups(h, false), scheduleOrNull(),
				(this.clipping != null) ? this.clipping.toClipping() : null, nonFinite(NonFinitePolicy.ERROR)));
	}

	/**
	 * The optimizer a checkpoint carries, exactly: current and initial learning rates and the schedule's position
	 * as written.
	 */
	public OptimizerConfig toCheckpointConfig() {
		Algorithm algorithm = algorithm(this.algorithm, Algorithm.ADAM);
		Hyperparameters h = applyTo(Hyperparameters.defaults(algorithm), algorithm);
		List<OptimizerConfig.Group> groups = groups(h, true);
		LearningRateSchedule schedule = scheduleOrNull();
		long position = (this.schedule != null && this.schedule.position() != null) ? this.schedule.position() : 0;
		return valid("optimizer.", () -> new OptimizerConfig(h, initial(this.initialLearningRate,
				"initialLearningRate"), groups, schedule, (schedule != null) ? position : 0,
				(this.clipping != null) ? this.clipping.toClipping() : null, nonFinite(NonFinitePolicy.ERROR)));
	}

	/**
	 * {@code current} with the fields given here changed, as torch changes a running optimizer: a learning rate is
	 * assigned to {@code param_group['lr']}, a schedule is attached anew (from the current rates, position 0), the
	 * groups' values change (their {@code match} only while no tensor is fixed).
	 */
	public OptimizerConfig patch(OptimizerConfig current, boolean tensorsFixed) {
		kept("initialLearningRate", this.initialLearningRate);
		Hyperparameters old = current.hyperparameters();
		Algorithm algorithm = algorithm(this.algorithm, old.algorithm());
		if (algorithm != old.algorithm()) {
			throw new SessionException(Reason.IMMUTABLE_SETTING, "algorithm cannot change once a session exists "
					+ "(it is '" + old.algorithm().wireName() + "'): create a new session instead");
		}
		if (this.amsgrad != null && this.amsgrad != old.amsgrad()) {
			throw new SessionException(Reason.IMMUTABLE_SETTING, "amsgrad cannot change once a session exists "
					+ "(it is " + old.amsgrad() + "): create a new session instead");
		}
		Hyperparameters h = applyTo(old, algorithm);
		List<OptimizerConfig.Group> groups = current.groups();
		if (this.groups != null) {
			groups = patchGroups(current, h, tensorsFixed);
		}
		else if (h.maximize() != old.maximize()) {
			// maximize belongs to every group, as to torch's optimizer defaults
			List<OptimizerConfig.Group> flipped = new ArrayList<>();
			for (OptimizerConfig.Group group : groups) {
				flipped.add(new OptimizerConfig.Group(group.match(),
						group.hyperparameters().withMaximize(h.maximize()), group.initialLearningRate()));
			}
			groups = flipped;
		}
		List<OptimizerConfig.Group> patchedGroups = groups;
		OptimizerConfig next = valid("optimizer.", () -> new OptimizerConfig(h, current.initialLearningRate(),
				patchedGroups, current.schedule(), current.schedulePosition(),
				(this.clipping != null) ? this.clipping.toClipping() : current.clipping(),
				nonFinite(current.nonFinite())));
		if (this.schedule != null) {
			kept("schedule.position", this.schedule.position());
			LearningRateSchedule schedule = scheduleOrNull();
			OptimizerConfig attached = next;
			next = valid("optimizer.", () -> attached.attach(schedule));
		}
		return next;
	}

	private List<OptimizerConfig.Group> patchGroups(OptimizerConfig current, Hyperparameters h, boolean tensorsFixed) {
		List<OptimizerConfig.Group> existing = current.groups();
		if (tensorsFixed && this.groups.size() != existing.size()) {
			throw new SessionException(Reason.IMMUTABLE_SETTING, "optimizer.groups must list the session's "
					+ existing.size() + " groups, in order: the tensors are fixed and each belongs to its group; "
					+ "change the values inside them (leave out match, or send it unchanged)");
		}
		List<OptimizerConfig.Group> groups = new ArrayList<>();
		for (int i = 0; i < this.groups.size(); i++) {
			GroupSettings group = element(this.groups, i, "groups");
			String field = "groups[" + i + "].";
			kept(field + "initialLearningRate", group.initialLearningRate());
			OptimizerConfig.Group before = (i < existing.size()) ? existing.get(i) : null;
			if (tensorsFixed && group.match() != null && !group.match().equals(before.match())) {
				throw new SessionException(Reason.IMMUTABLE_SETTING, "optimizer." + field + "match cannot change "
						+ "once the session's tensors are fixed (it is " + before.match() + "): leave it out to "
						+ "change the group's values");
			}
			if (before == null || (!tensorsFixed && group.match() != null)) {
				// a new group (no tensors yet): its values left out take the top-level ones, as on creation
				Hyperparameters g = group.applyTo(h, field);
				int index = i;
				groups.add(valid("optimizer." + field, () -> new OptimizerConfig.Group(matchOf(group, index), g,
						(before != null) ? before.initialLearningRate() : Double.NaN)));
			}
			else {
				Hyperparameters g = group.applyTo(before.hyperparameters().withMaximize(h.maximize()), field);
				groups.add(new OptimizerConfig.Group(before.match(), g, before.initialLearningRate()));
			}
		}
		return groups;
	}

	/**
	 * The groups given here over {@code h}: on creation their initial learning rates are not set yet, in a
	 * checkpoint they are as written.
	 */
	private List<OptimizerConfig.Group> groups(Hyperparameters h, boolean checkpoint) {
		List<OptimizerConfig.Group> groups = new ArrayList<>();
		if (this.groups != null) {
			for (int i = 0; i < this.groups.size(); i++) {
				GroupSettings group = element(this.groups, i, "groups");
				String field = "groups[" + i + "].";
				Hyperparameters g = group.applyTo(h, field);
				int index = i;
				groups.add(valid("optimizer." + field, () -> new OptimizerConfig.Group(matchOf(group, index), g,
						checkpoint ? initial(group.initialLearningRate(), field + "initialLearningRate") : Double.NaN)));
			}
		}
		return groups;
	}

	private static List<String> matchOf(GroupSettings group, int index) {
		if (group.match() == null) {
			throw new IllegalArgumentException("match is required: the globs of the tensor names in group " + index
					+ ", e.g. [\"*.bias\"]");
		}
		for (int i = 0; i < group.match().size(); i++) {
			if (group.match().get(i) == null) {
				throw new IllegalArgumentException("match[" + i + "] must be a string, not null");
			}
		}
		return group.match();
	}

	private LearningRateSchedule scheduleOrNull() {
		return (this.schedule != null) ? valid("optimizer.schedule.", this.schedule::toSchedule) : null;
	}

	private NonFinitePolicy nonFinite(NonFinitePolicy fallback) {
		return (this.nonFinite != null) ? valid("optimizer.", () -> NonFinitePolicy.fromWireName(this.nonFinite))
				: fallback;
	}

	private Hyperparameters applyTo(Hyperparameters base, Algorithm algorithm) {
		return valid("optimizer.", () -> new Hyperparameters(algorithm, or(this.learningRate, base.learningRate()),
				or(this.beta1, base.beta1()), or(this.beta2, base.beta2()), or(this.epsilon, base.epsilon()),
				or(this.weightDecay, base.weightDecay()), or(this.amsgrad, base.amsgrad()),
				or(this.maximize, base.maximize())));
	}

	private static Algorithm algorithm(String name, Algorithm fallback) {
		return (name != null) ? valid("optimizer.", () -> Algorithm.fromWireName(name)) : fallback;
	}

	/** Fields the service keeps: a create or PATCH may not set them. */
	private static void kept(String field, Object value) {
		if (value != null) {
			throw new SessionException(Reason.INVALID_SETTING, "optimizer." + field + " is kept by the session "
					+ "(it comes back in answers and checkpoints): leave it out, or resume a checkpoint with "
					+ "{\"state\": ...}");
		}
	}

	private static double initial(Double value, String field) {
		if (value == null) {
			return Double.NaN;
		}
		if (!(value >= 0) || value == Double.POSITIVE_INFINITY) {
			throw new IllegalArgumentException(field + " must be a finite number >= 0, got " + value);
		}
		return value;
	}

	private static Double nanToNull(double value) {
		return Double.isNaN(value) ? null : value;
	}

	static <T> T element(List<T> list, int index, String field) {
		T value = list.get(index);
		if (value == null) {
			throw new SessionException(Reason.INVALID_SETTING, "optimizer." + field + "[" + index
					+ "] must be an object, not null");
		}
		return value;
	}

	/** Runs a domain constructor; its IllegalArgumentException becomes a 400 naming the field under {@code prefix}. */
	static <T> T valid(String prefix, java.util.function.Supplier<T> make) {
		try {
			return make.get();
		}
		catch (IllegalArgumentException ex) {
			String message = ex.getMessage();
			throw new SessionException(Reason.INVALID_SETTING,
					(message != null && message.startsWith("optimizer.")) ? message : prefix + message);
		}
	}

	static <T> T or(T value, T fallback) {
		return (value != null) ? value : fallback;
	}

	/** A parameter group on the wire. */
	@Schema(description = "A parameter group: the tensors whose names match, with their own hyperparameters.")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	public record GroupSettings(
			@ArraySchema(schema = @Schema(example = "*.bias"), arraySchema = @Schema(description = "Globs of tensor "
					+ "names: * any characters, ? one character, the whole name. Required on creation; cannot "
					+ "change once the tensors are fixed.", example = "[\"*.bias\", \"norm*\"]")) List<String> match,
			@Schema(description = "The group's learning rate (as the top-level one).", example = "0.001") Double learningRate,
			@Schema(description = "The group's beta1.", example = "0.9") Double beta1,
			@Schema(description = "The group's beta2.", example = "0.999") Double beta2,
			@Schema(description = "The group's epsilon.", example = "1e-8") Double epsilon,
			@Schema(description = "The group's weight decay; 0 for no decay on biases and norms.",
					example = "0") Double weightDecay,
			@Schema(description = "Set by the service (not in a create or PATCH): the group's initial_lr. A checkpoint "
					+ "carries it back as it came.",
					example = "0.001") Double initialLearningRate) {

		Hyperparameters applyTo(Hyperparameters base, String field) {
			return valid("optimizer." + field, () -> new Hyperparameters(base.algorithm(),
					or(this.learningRate, base.learningRate()), or(this.beta1, base.beta1()),
					or(this.beta2, base.beta2()), or(this.epsilon, base.epsilon()),
					or(this.weightDecay, base.weightDecay()), base.amsgrad(), base.maximize()));
		}

	}

	/** Clipping on the wire: {@code {maxNorm, normType}} or {@code {maxValue}}; {@code {}} is none. */
	@Schema(description = "Gradient clipping, over the gradients as sent (before maximize and L2 weight decay): "
			+ "{\"maxNorm\": x, \"normType\": 2} (clip_grad_norm_: every gradient of the step is multiplied by "
			+ "min(1, maxNorm / (totalNorm + 1e-6))) or {\"maxValue\": x} (clip_grad_value_).")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	public record ClippingSettings(
			@Schema(description = "Clip by norm: the largest total norm, >= 0.", example = "1.0") Double maxNorm,
			@Schema(description = "The norm's p: a number >= 1, or \"inf\" for the largest magnitude. Default 2.",
					oneOf = { Double.class, String.class }, example = "2") Object normType,
			@Schema(description = "Clip by value: each gradient element is clamped to [-maxValue, maxValue].",
					example = "0.5") Double maxValue) {

		static ClippingSettings of(Clipping clipping) {
			if (clipping instanceof Clipping.ByNorm byNorm) {
				return new ClippingSettings(byNorm.maxNorm(),
						(byNorm.normType() == Double.POSITIVE_INFINITY) ? "inf" : (Object) byNorm.normType(), null);
			}
			if (clipping instanceof Clipping.ByValue byValue) {
				return new ClippingSettings(null, null, byValue.maxValue());
			}
			return null;
		}

		/** The clipping; {@code null} for {@code {}} (none). */
		Clipping toClipping() {
			if (this.maxNorm != null && this.maxValue != null) {
				throw new SessionException(Reason.INVALID_SETTING, "optimizer.clipping takes maxNorm (with normType) "
						+ "or maxValue, not both: torch clips by norm or by value");
			}
			if (this.maxValue != null) {
				if (this.normType != null) {
					throw new SessionException(Reason.INVALID_SETTING,
							"optimizer.clipping.normType goes with maxNorm, not with maxValue");
				}
				return valid("optimizer.", () -> new Clipping.ByValue(this.maxValue));
			}
			if (this.maxNorm == null) {
				if (this.normType != null) {
					throw new SessionException(Reason.INVALID_SETTING,
							"optimizer.clipping.normType needs maxNorm: send {\"maxNorm\": 1.0, \"normType\": 2}");
				}
				return null;
			}
			return valid("optimizer.", () -> new Clipping.ByNorm(this.maxNorm, normType(this.normType)));
		}

		private static double normType(Object value) {
			if (value == null) {
				return 2.0;
			}
			if (value instanceof Number number) {
				return number.doubleValue();
			}
			if (value instanceof String text && (text.equals("inf") || text.equals("Infinity"))) {
				return Double.POSITIVE_INFINITY;
			}
			throw new IllegalArgumentException("clipping.normType must be a number >= 1 or \"inf\", got "
					+ ((value instanceof String text) ? dev.adamopt.kernel.Precision.quoted(text) : value));
		}

	}

	/** A schedule on the wire: its torch type and that type's parameters, in camelCase. */
	@Schema(description = "A learning-rate schedule, as torch.optim.lr_scheduler computes it (chainable form). "
			+ "type step: stepSize, gamma (0.1) - StepLR; multiStep: milestones, gamma (0.1) - MultiStepLR; "
			+ "exponential: gamma - ExponentialLR; cosine: tMax, etaMin (0) - CosineAnnealingLR; "
			+ "cosineWarmRestarts: t0, tMult (1), etaMin (0) - CosineAnnealingWarmRestarts; linear: startFactor "
			+ "(1/3), endFactor (1.0), totalIters (5) - LinearLR; sequential: schedules, milestones - SequentialLR; "
			+ "none (PATCH only): no schedule.",
			example = "{\"type\": \"sequential\", \"milestones\": [100], \"schedules\": [{\"type\": \"linear\", "
					+ "\"startFactor\": 0.01, \"totalIters\": 100}, {\"type\": \"cosine\", \"tMax\": 900}]}")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	public record ScheduleSettings(
			@Schema(description = "The schedule's type.", requiredMode = Schema.RequiredMode.REQUIRED,
					allowableValues = { "step", "multiStep", "exponential", "cosine", "cosineWarmRestarts", "linear",
							"sequential", "none" }, example = "cosine") String type,
			@Schema(description = "step: steps between decays (torch's step_size), >= 1.", example = "30") Long stepSize,
			@Schema(description = "step, multiStep, exponential: the decay factor.", example = "0.1") Double gamma,
			@ArraySchema(schema = @Schema(example = "30"), arraySchema = @Schema(description = "multiStep: the steps "
					+ "at which the rate decays; sequential: the steps at which the next schedule starts.")) List<Long> milestones,
			@Schema(description = "cosine: steps to the minimum (torch's T_max), >= 1.", example = "100") Long tMax,
			@Schema(description = "cosine, cosineWarmRestarts: the minimum rate (torch's eta_min).",
					example = "0") Double etaMin,
			@Schema(description = "cosineWarmRestarts: steps to the first restart (torch's T_0), >= 1.",
					example = "10") Long t0,
			@Schema(description = "cosineWarmRestarts: growth of the period after each restart (torch's T_mult), >= 1.",
					example = "2") Long tMult,
			@Schema(description = "linear: the factor at the start, in (0, 1].", example = "0.1") Double startFactor,
			@Schema(description = "linear: the factor at the end, in [0, 1].", example = "1.0") Double endFactor,
			@Schema(description = "linear: steps from start to end factor, >= 1.", example = "5") Long totalIters,
			@ArraySchema(schema = @Schema(implementation = ScheduleSettings.class),
					arraySchema = @Schema(description = "sequential: the schedules, one more than milestones.",
							example = "[{\"type\": \"linear\", \"startFactor\": 0.1, \"totalIters\": 5}, "
									+ "{\"type\": \"cosine\", \"tMax\": 95}]"))
			List<ScheduleSettings> schedules,
			@Schema(description = "Set by the service (not in a create or PATCH): applied steps since the schedule "
					+ "was attached (torch's last_epoch). A checkpoint carries it back as it came.",
					example = "0") Long position) {

		static ScheduleSettings of(LearningRateSchedule schedule, Long position) {
			return ScheduleMapping.settings(schedule, position);
		}

		/** The schedule; {@code null} for type none. */
		LearningRateSchedule toSchedule() {
			return ScheduleMapping.schedule(this, true);
		}

	}

}
