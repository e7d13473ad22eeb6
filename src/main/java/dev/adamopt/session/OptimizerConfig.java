package dev.adamopt.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.training.LearningRateSchedule;
import dev.adamopt.training.TensorGlob;

/**
 * Everything about a session's optimizer except its tensors: torch's {@code optimizer.param_groups} and the state of
 * its learning-rate scheduler, clipping and the non-finite policy. Immutable: a step or PATCH makes the next one
 * before it changes anything, and swaps it in.
 * <p>
 * Learning rates have torch's two meanings: {@link Hyperparameters#learningRate()} of the default group and of each
 * group is torch's {@code param_group['lr']}, the rate the next step uses, which the schedule moves;
 * {@code initialLearningRate} is torch's {@code initial_lr}, set when a schedule is first attached (NaN before),
 * from which closed-form schedules and SequentialLR's milestones start.
 *
 * @param hyperparameters the default group's (tensors no group matches), with its current learning rate
 * @param initialLearningRate the default group's initial learning rate, NaN before any schedule
 * @param groups the parameter groups, in the order a tensor's name is matched against them
 * @param schedule the learning-rate schedule, or {@code null}
 * @param schedulePosition how many applied steps the schedule has moved since it was attached (torch's
 * {@code last_epoch})
 * @param clipping the gradient clipping, or {@code null}
 * @param nonFinite what a step with a non-finite gradient or result does
 */
public record OptimizerConfig(Hyperparameters hyperparameters, double initialLearningRate, List<Group> groups,
		LearningRateSchedule schedule, long schedulePosition, Clipping clipping, NonFinitePolicy nonFinite) {

	/** How many groups a session may have: each costs a glob match per tensor name. */
	public static final int MAX_GROUPS = 64;

	public OptimizerConfig {
		Objects.requireNonNull(hyperparameters, "hyperparameters");
		Objects.requireNonNull(nonFinite, "nonFinite");
		groups = List.copyOf(groups);
		if (groups.size() > MAX_GROUPS) {
			throw new IllegalArgumentException("groups may list at most " + MAX_GROUPS + " groups, got " + groups.size());
		}
		for (Group group : groups) {
			if (group.hyperparameters().algorithm() != hyperparameters.algorithm()
					|| group.hyperparameters().amsgrad() != hyperparameters.amsgrad()
					|| group.hyperparameters().maximize() != hyperparameters.maximize()) {
				throw new IllegalArgumentException("groups share algorithm, amsgrad and maximize with the optimizer");
			}
		}
		if (schedulePosition < 0 || (schedule == null && schedulePosition != 0)) {
			throw new IllegalArgumentException("schedule.position must be >= 0 (and 0 without a schedule), got "
					+ schedulePosition);
		}
	}

	/** A new optimizer: the learning rates given are the initial ones, and a schedule starts at position 0. */
	public static OptimizerConfig create(Hyperparameters hyperparameters, List<Group> groups,
			LearningRateSchedule schedule, Clipping clipping, NonFinitePolicy nonFinite) {
		return new OptimizerConfig(hyperparameters, Double.NaN, groups, null, 0, clipping, nonFinite).attach(schedule);
	}

	/**
	 * A parameter group.
	 * @param match globs of tensor names ({@code *}, {@code ?}, whole name)
	 * @param hyperparameters the group's, with its current learning rate
	 * @param initialLearningRate the group's initial learning rate, NaN before any schedule
	 */
	public record Group(List<String> match, Hyperparameters hyperparameters, double initialLearningRate) {

		/** Long enough for any real pattern, short enough that matching stays cheap. */
		public static final int MAX_PATTERN_LENGTH = 256;

		public Group {
			Objects.requireNonNull(hyperparameters, "hyperparameters");
			match = List.copyOf(match);
			if (match.isEmpty()) {
				throw new IllegalArgumentException("match must list at least one glob of tensor names, e.g. [\"*.bias\"]");
			}
			for (String glob : match) {
				if (glob.isEmpty() || glob.length() > MAX_PATTERN_LENGTH) {
					throw new IllegalArgumentException("match globs must have 1 to " + MAX_PATTERN_LENGTH
							+ " characters, got " + dev.adamopt.kernel.Precision.quoted(glob));
				}
			}
		}

		boolean matches(String name) {
			for (String glob : this.match) {
				if (TensorGlob.matches(glob, name)) {
					return true;
				}
			}
			return false;
		}

		Group withLearningRate(double learningRate) {
			return new Group(this.match, this.hyperparameters.withLearningRate(learningRate), this.initialLearningRate);
		}

	}

	/** The group a tensor of this name joins: the index of the first group with a matching glob, -1 for none. */
	public int groupOf(String name) {
		for (int i = 0; i < this.groups.size(); i++) {
			if (this.groups.get(i).matches(name)) {
				return i;
			}
		}
		return -1;
	}

	/** The hyperparameters a tensor of group {@code group} (-1: the default group) steps with now. */
	public Hyperparameters hyperparameters(int group) {
		return (group < 0) ? this.hyperparameters : this.groups.get(group).hyperparameters();
	}

	/**
	 * This optimizer with {@code next} attached as torch attaches a new scheduler: every group's initial learning
	 * rate is set if it was not ({@code setdefault}), the position restarts at 0 and each group's learning rate
	 * becomes the schedule's at position 0. {@code null} detaches the schedule: learning rates stay where they are.
	 */
	public OptimizerConfig attach(LearningRateSchedule next) {
		if (next == null) {
			return new OptimizerConfig(this.hyperparameters, this.initialLearningRate, this.groups, null, 0,
					this.clipping, this.nonFinite);
		}
		double initial = Double.isNaN(this.initialLearningRate) ? this.hyperparameters.learningRate()
				: this.initialLearningRate;
		List<Group> groups = new ArrayList<>(this.groups.size());
		for (Group group : this.groups) {
			double groupInitial = Double.isNaN(group.initialLearningRate()) ? group.hyperparameters().learningRate()
					: group.initialLearningRate();
			groups.add(new Group(group.match(), group.hyperparameters()
				.withLearningRate(next.learningRate(0, group.hyperparameters().learningRate(), groupInitial)), groupInitial));
		}
		return new OptimizerConfig(
				this.hyperparameters.withLearningRate(next.learningRate(0, this.hyperparameters.learningRate(), initial)),
				initial, groups, next, 0,
				this.clipping, this.nonFinite);
	}

	/** This optimizer after one more applied step: the schedule moves every group's learning rate. */
	public OptimizerConfig advance() {
		if (this.schedule == null) {
			return this;
		}
		long position = this.schedulePosition + 1;
		List<Group> groups = new ArrayList<>(this.groups.size());
		for (Group group : this.groups) {
			groups.add(group.withLearningRate(
					this.schedule.learningRate(position, group.hyperparameters().learningRate(), group.initialLearningRate())));
		}
		return new OptimizerConfig(this.hyperparameters.withLearningRate(
				this.schedule.learningRate(position, this.hyperparameters.learningRate(), this.initialLearningRate)),
				this.initialLearningRate, groups, this.schedule, position, this.clipping, this.nonFinite);
	}

}
