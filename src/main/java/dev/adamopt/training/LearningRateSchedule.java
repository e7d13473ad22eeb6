package dev.adamopt.training;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;

import dev.adamopt.kernel.GlibcMath;

/**
 * A {@code torch.optim.lr_scheduler} as of torch 1.13, one parameter group at a time, with torch's exact arithmetic.
 * <p>
 * torch steps a scheduler once after every optimizer step; {@code scheduler.step()} computes the new {@code lr} of
 * each group from the group's current {@code lr} (the chainable form: {@code get_lr()}) and writes it into the group.
 * {@link #learningRate} is that computation for one group, given the scheduler's position, so that the caller keeps
 * nothing but the position and the group's lr: the order of floating-point operations is Python's, {@code math.cos}
 * is glibc's ({@link GlibcCos}) and {@code x ** n} is glibc's {@code pow}, so the results are torch's to the last bit.
 * Every other piece of scheduler state ({@code CosineAnnealingWarmRestarts}' {@code T_cur} and {@code T_i}, which
 * schedule of a {@code SequentialLR} is active and its own position) is derived from the position in O(log position)
 * operations at most, so the method may be called at any position in any order (after a restore from a checkpoint,
 * or after a client assigned the group's lr).
 * <p>
 * Behaviours kept from torch: a schedule continues from the lr it is given, so an lr assigned by a client between
 * steps ({@code param_group['lr'] = x}) carries on in the chainable forms (step, multiStep, exponential, cosine,
 * linear), while {@code cosineWarmRestarts} recomputes from the initial lr and ignores it; at a {@code sequential}
 * milestone the next schedule restarts from the initial lr ({@code scheduler.step(0)}: the closed form), ignoring the
 * lr it is given; a {@code sequential} schedule also starts (position 0) from the initial lr, whatever the group's lr
 * was, because torch's {@code SequentialLR} constructor resets every group's lr to its {@code initial_lr}. A scheduler
 * attached to a group that already had one keeps the group's first {@code initial_lr} (torch's {@code setdefault}).
 * <p>
 * Records validate themselves: an invalid parameter throws {@link IllegalArgumentException} whose message starts with
 * the parameter's name, e.g. {@code "tMax must be an integer >= 1 and <= 2^53, got 0"}. Besides torch's own checks,
 * non-finite and negative numbers are refused, and the integers where torch would divide by zero or never move (an
 * integer parameter is at most 2^53, the largest a JSON number carries exactly everywhere).
 */
public sealed interface LearningRateSchedule permits LearningRateSchedule.Step, LearningRateSchedule.MultiStep,
		LearningRateSchedule.Exponential, LearningRateSchedule.Cosine, LearningRateSchedule.CosineWarmRestarts,
		LearningRateSchedule.Linear, LearningRateSchedule.Sequential {

	/** The largest integer parameter: 2^53. */
	long MAX_INTEGER = 1L << 53;

	/**
	 * torch's wire name: {@code "step"}, {@code "multiStep"}, {@code "exponential"}, {@code "cosine"},
	 * {@code "cosineWarmRestarts"}, {@code "linear"}, {@code "sequential"}.
	 */
	String type();

	/**
	 * torch's {@code group['lr']} right after the scheduler's {@code step()} call that brings its {@code last_epoch}
	 * to {@code position} (position 0 is the {@code step()} torch makes when the scheduler is constructed), for one
	 * param group.
	 * @param position the scheduler's position, {@code >= 0}
	 * @param previous the group's lr before that call (torch's {@code group['lr']}; the chainable forms start from it)
	 * @param initial the group's {@code initial_lr} (torch's {@code base_lrs} entry; the closed forms start from it)
	 * @return the group's new lr; with {@code gamma > 1} it may overflow to infinity (where torch's {@code **} would
	 * raise {@code OverflowError})
	 * @throws IllegalArgumentException if position is negative
	 */
	double learningRate(long position, double previous, double initial);

	/**
	 * {@code StepLR(optimizer, step_size, gamma=0.1)}: the lr is multiplied by {@code gamma} at every position that is
	 * a positive multiple of {@code stepSize}.
	 * @param stepSize torch's {@code step_size}, {@code >= 1}
	 * @param gamma finite, {@code >= 0} (torch allows {@code > 1}: a growing lr); {@link #of} takes torch's default
	 * {@value #DEFAULT_GAMMA}
	 */
	record Step(int stepSize, double gamma) implements LearningRateSchedule {

		public static final double DEFAULT_GAMMA = 0.1;

		public Step {
			requireInteger("stepSize", stepSize, 1, Integer.MAX_VALUE);
			requireFiniteNonNegative("gamma", gamma);
		}

		/** With torch's default gamma {@value #DEFAULT_GAMMA}. */
		public static Step of(int stepSize) {
			return new Step(stepSize, DEFAULT_GAMMA);
		}

		@Override
		public String type() {
			return "step";
		}

		@Override
		public double learningRate(long position, double previous, double initial) {
			requirePosition(position);
			if (position == 0 || position % this.stepSize != 0) {
				return previous;
			}
			return previous * this.gamma;
		}

		double closedForm(long epoch, double initial) {
			return initial * pythonPower(this.gamma, epoch / this.stepSize);
		}

	}

	/**
	 * {@code MultiStepLR(optimizer, milestones, gamma=0.1)}: the lr is multiplied by {@code gamma} at every milestone;
	 * a milestone given k times multiplies by {@code gamma ** k} (torch keeps the milestones in a {@code Counter}).
	 * @param milestones positions {@code >= 0} in non-decreasing order (torch: "must be increasing"), repeats allowed;
	 * may be empty (a constant lr); a milestone 0 applies at construction, as in torch
	 * @param gamma finite, {@code >= 0}; {@link #of} takes torch's default {@value #DEFAULT_GAMMA}
	 */
	record MultiStep(int[] milestones, double gamma) implements LearningRateSchedule {

		public static final double DEFAULT_GAMMA = 0.1;

		public MultiStep {
			if (milestones == null) {
				throw new IllegalArgumentException("milestones must be an array of integers, got null");
			}
			milestones = milestones.clone();
			for (int i = 0; i < milestones.length; i++) {
				if (milestones[i] < 0) {
					throw new IllegalArgumentException(
							"milestones must be integers >= 0, got " + milestones[i] + " at index " + i);
				}
				if (i > 0 && milestones[i] < milestones[i - 1]) {
					throw new IllegalArgumentException("milestones must be in non-decreasing order, got "
							+ milestones[i] + " after " + milestones[i - 1] + " at index " + i);
				}
			}
			requireFiniteNonNegative("gamma", gamma);
		}

		/** With torch's default gamma {@value #DEFAULT_GAMMA}. */
		public static MultiStep of(int... milestones) {
			return new MultiStep(milestones, DEFAULT_GAMMA);
		}

		/** A copy, in the order given. */
		@Override
		public int[] milestones() {
			return this.milestones.clone();
		}

		@Override
		public String type() {
			return "multiStep";
		}

		@Override
		public double learningRate(long position, double previous, double initial) {
			requirePosition(position);
			int count = countAtMost(position) - countAtMost(position - 1);
			if (count == 0) {
				return previous;
			}
			return previous * pythonPower(this.gamma, count);
		}

		double closedForm(long epoch, double initial) {
			return initial * pythonPower(this.gamma, countAtMost(epoch));
		}

		/** How many milestones are {@code <= position}: Python's {@code bisect_right}. */
		private int countAtMost(long position) {
			int low = 0;
			int high = this.milestones.length;
			while (low < high) {
				int middle = (low + high) >>> 1;
				if (this.milestones[middle] <= position) {
					low = middle + 1;
				}
				else {
					high = middle;
				}
			}
			return low;
		}

		@Override
		public boolean equals(Object other) {
			return other instanceof MultiStep that && Arrays.equals(this.milestones, that.milestones)
					&& Double.compare(this.gamma, that.gamma) == 0;
		}

		@Override
		public int hashCode() {
			return 31 * Arrays.hashCode(this.milestones) + Double.hashCode(this.gamma);
		}

		@Override
		public String toString() {
			return "MultiStep[milestones=" + Arrays.toString(this.milestones) + ", gamma=" + this.gamma + "]";
		}

	}

	/**
	 * {@code ExponentialLR(optimizer, gamma)}: the lr is multiplied by {@code gamma} at every position but 0.
	 * @param gamma finite, {@code >= 0}; required, as in torch
	 */
	record Exponential(double gamma) implements LearningRateSchedule {

		public Exponential {
			requireFiniteNonNegative("gamma", gamma);
		}

		@Override
		public String type() {
			return "exponential";
		}

		@Override
		public double learningRate(long position, double previous, double initial) {
			requirePosition(position);
			if (position == 0) {
				return previous;
			}
			return previous * this.gamma;
		}

		double closedForm(long epoch, double initial) {
			return initial * pythonPower(this.gamma, epoch);
		}

	}

	/**
	 * {@code CosineAnnealingLR(optimizer, T_max, eta_min=0)} in torch's recursive form: from the initial lr down to
	 * {@code etaMin} over {@code tMax} positions and, as torch does when stepped further, back up over the next
	 * {@code tMax}, and so on.
	 * @param tMax torch's {@code T_max}, {@code >= 1}
	 * @param etaMin torch's {@code eta_min}, finite, {@code >= 0}; {@link #of} takes torch's default 0
	 */
	record Cosine(long tMax, double etaMin) implements LearningRateSchedule {

		public static final double DEFAULT_ETA_MIN = 0.0;

		public Cosine {
			requireInteger("tMax", tMax, 1, MAX_INTEGER);
			requireFiniteNonNegative("etaMin", etaMin);
		}

		/** With torch's default etaMin 0. */
		public static Cosine of(long tMax) {
			return new Cosine(tMax, DEFAULT_ETA_MIN);
		}

		@Override
		public String type() {
			return "cosine";
		}

		/**
		 * torch's {@code get_lr()}; its branch for {@code _step_count == 1 and last_epoch > 0} is only reached by a
		 * scheduler constructed with {@code last_epoch >= 0}, which the service never does.
		 */
		@Override
		public double learningRate(long position, double previous, double initial) {
			requirePosition(position);
			if (position == 0) {
				return previous;
			}
			if (Math.floorMod(position - 1 - this.tMax, 2 * this.tMax) == 0) {
				return previous + (initial - this.etaMin) * (1 - GlibcCos.cos(Math.PI / this.tMax)) / 2;
			}
			return (1 + GlibcCos.cos(Math.PI * position / this.tMax))
					/ (1 + GlibcCos.cos(Math.PI * (position - 1) / this.tMax)) * (previous - this.etaMin)
					+ this.etaMin;
		}

		double closedForm(long epoch, double initial) {
			return this.etaMin + (initial - this.etaMin) * (1 + GlibcCos.cos(Math.PI * epoch / this.tMax)) / 2;
		}

	}

	/**
	 * {@code CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0)}: cosine annealing from the initial lr
	 * towards {@code etaMin} over {@code t0} positions, then a restart at the initial lr for a cycle {@code tMult}
	 * times as long, and so on. Always computed from the initial lr (torch's {@code get_lr()} has no chainable form).
	 * @param t0 torch's {@code T_0}, {@code >= 1}
	 * @param tMult torch's {@code T_mult}, {@code >= 1}; {@link #of} takes torch's default 1
	 * @param etaMin torch's {@code eta_min}, finite, {@code >= 0}; {@link #of} takes torch's default 0
	 */
	record CosineWarmRestarts(long t0, long tMult, double etaMin) implements LearningRateSchedule {

		public static final long DEFAULT_T_MULT = 1;

		public static final double DEFAULT_ETA_MIN = 0.0;

		public CosineWarmRestarts {
			requireInteger("t0", t0, 1, MAX_INTEGER);
			requireInteger("tMult", tMult, 1, MAX_INTEGER);
			requireFiniteNonNegative("etaMin", etaMin);
		}

		/** With torch's defaults tMult 1 and etaMin 0. */
		public static CosineWarmRestarts of(long t0) {
			return new CosineWarmRestarts(t0, DEFAULT_T_MULT, DEFAULT_ETA_MIN);
		}

		@Override
		public String type() {
			return "cosineWarmRestarts";
		}

		/**
		 * torch's {@code step()}: {@code T_cur} counts up from 0 and restarts when it reaches {@code T_i}, which then
		 * grows by {@code tMult}; here both come from the position, one loop turn per restart (at most 63 when
		 * {@code tMult > 1}).
		 */
		@Override
		public double learningRate(long position, double previous, double initial) {
			requirePosition(position);
			long current;
			double cycle;
			if (this.tMult == 1) {
				current = position % this.t0;
				cycle = this.t0;
			}
			else {
				current = position;
				long length = this.t0;
				while (current >= length) {
					current -= length;
					long high = Math.multiplyHigh(length, this.tMult);
					long next = length * this.tMult;
					if (high != 0 || next < 0) {
						// Longer than any position: this is the last cycle. Python's ints do not overflow.
						length = -1;
						break;
					}
					length = next;
				}
				cycle = (length > 0) ? length : cycleLengthBeyondLong(position);
			}
			return this.etaMin + (initial - this.etaMin) * (1 + GlibcCos.cos(Math.PI * current / cycle)) / 2;
		}

		/** The current cycle's exact length rounded to a double, when it exceeds a long (only for huge positions). */
		private double cycleLengthBeyondLong(long position) {
			BigInteger length = BigInteger.valueOf(this.t0);
			BigInteger multiplier = BigInteger.valueOf(this.tMult);
			BigInteger current = BigInteger.valueOf(position);
			while (current.compareTo(length) >= 0) {
				current = current.subtract(length);
				length = length.multiply(multiplier);
			}
			return length.doubleValue();
		}

	}

	/**
	 * {@code LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5)}: the lr is multiplied by
	 * {@code startFactor} at position 0 and then changed linearly, in torch's recursive form, to {@code endFactor}
	 * times the initial lr at position {@code totalIters}, and kept there.
	 * @param startFactor in (0, 1] (torch 1.13 accepts 0 but then divides by zero at position 1)
	 * @param endFactor in [0, 1]
	 * @param totalIters torch's {@code total_iters}, {@code >= 1}
	 */
	record Linear(double startFactor, double endFactor, long totalIters) implements LearningRateSchedule {

		/** torch's default: Python's {@code 1.0 / 3}. */
		public static final double DEFAULT_START_FACTOR = 1.0 / 3;

		public static final double DEFAULT_END_FACTOR = 1.0;

		public static final long DEFAULT_TOTAL_ITERS = 5;

		public Linear {
			if (!(startFactor > 0 && startFactor <= 1)) {
				throw new IllegalArgumentException("startFactor must be a number in (0, 1], got " + startFactor);
			}
			if (!(endFactor >= 0 && endFactor <= 1)) {
				throw new IllegalArgumentException("endFactor must be a number in [0, 1], got " + endFactor);
			}
			requireInteger("totalIters", totalIters, 1, MAX_INTEGER);
		}

		/** With torch's defaults: startFactor 1/3, endFactor 1, totalIters 5. */
		public static Linear of() {
			return new Linear(DEFAULT_START_FACTOR, DEFAULT_END_FACTOR, DEFAULT_TOTAL_ITERS);
		}

		@Override
		public String type() {
			return "linear";
		}

		@Override
		public double learningRate(long position, double previous, double initial) {
			requirePosition(position);
			if (position == 0) {
				return previous * this.startFactor;
			}
			if (position > this.totalIters) {
				return previous;
			}
			return previous * (1. + (this.endFactor - this.startFactor) / (this.totalIters * this.startFactor
					+ (position - 1) * (this.endFactor - this.startFactor)));
		}

		double closedForm(long epoch, double initial) {
			return initial * (this.startFactor
					+ (this.endFactor - this.startFactor) * Math.min(this.totalIters, epoch) / this.totalIters);
		}

	}

	/**
	 * {@code SequentialLR(optimizer, schedulers, milestones)}: {@code schedules.get(0)} up to the first milestone,
	 * then each next schedule from its own position 0 at its milestone, where torch restarts it with
	 * {@code scheduler.step(0)}: its closed form from the initial lr ({@code cosineWarmRestarts}: its first cycle).
	 * Position 0 starts from the initial lr, as torch's constructor resets the groups' lr.
	 * @param schedules one or more schedules, none of them sequential
	 * @param milestones positions {@code >= 1}, strictly increasing, one fewer than the schedules
	 */
	record Sequential(List<LearningRateSchedule> schedules, long[] milestones) implements LearningRateSchedule {

		public Sequential {
			if (schedules == null || schedules.isEmpty()) {
				throw new IllegalArgumentException("schedules must hold at least one schedule, got "
						+ (schedules == null ? "null" : "none"));
			}
			for (int i = 0; i < schedules.size(); i++) {
				LearningRateSchedule schedule = schedules.get(i);
				if (schedule == null) {
					throw new IllegalArgumentException("schedules must not hold null, got null at index " + i);
				}
				if (schedule instanceof Sequential) {
					throw new IllegalArgumentException(
							"schedules must not hold a sequential schedule, got one at index " + i);
				}
			}
			schedules = List.copyOf(schedules);
			if (milestones == null) {
				throw new IllegalArgumentException("milestones must be an array of integers, got null");
			}
			milestones = milestones.clone();
			if (milestones.length != schedules.size() - 1) {
				throw new IllegalArgumentException("milestones must hold one fewer position than there are schedules ("
						+ (schedules.size() - 1) + "), got " + milestones.length);
			}
			for (int i = 0; i < milestones.length; i++) {
				if (milestones[i] < 1 || milestones[i] > MAX_INTEGER) {
					throw new IllegalArgumentException("milestones must be integers >= 1 and <= 2^53, got "
							+ milestones[i] + " at index " + i);
				}
				if (i > 0 && milestones[i] <= milestones[i - 1]) {
					throw new IllegalArgumentException("milestones must be strictly increasing, got " + milestones[i]
							+ " after " + milestones[i - 1] + " at index " + i);
				}
			}
		}

		/** A copy. */
		@Override
		public long[] milestones() {
			return this.milestones.clone();
		}

		@Override
		public String type() {
			return "sequential";
		}

		@Override
		public double learningRate(long position, double previous, double initial) {
			requirePosition(position);
			if (position == 0) {
				return this.schedules.get(0).learningRate(0, initial, initial);
			}
			// Python's bisect_right(milestones, position): the active schedule.
			int low = 0;
			int high = this.milestones.length;
			while (low < high) {
				int middle = (low + high) >>> 1;
				if (this.milestones[middle] <= position) {
					low = middle + 1;
				}
				else {
					high = middle;
				}
			}
			LearningRateSchedule active = this.schedules.get(low);
			if (low == 0) {
				return active.learningRate(position, previous, initial);
			}
			long start = this.milestones[low - 1];
			if (start == position) {
				return restarted(active, initial);
			}
			return active.learningRate(position - start, previous, initial);
		}

		@Override
		public boolean equals(Object other) {
			return other instanceof Sequential that && this.schedules.equals(that.schedules)
					&& Arrays.equals(this.milestones, that.milestones);
		}

		@Override
		public int hashCode() {
			return 31 * this.schedules.hashCode() + Arrays.hashCode(this.milestones);
		}

		@Override
		public String toString() {
			return "Sequential[schedules=" + this.schedules + ", milestones=" + Arrays.toString(this.milestones) + "]";
		}

	}

	/** torch's {@code scheduler.step(0)}: the closed form at epoch 0 where the class has one, else its own step. */
	private static double restarted(LearningRateSchedule schedule, double initial) {
		if (schedule instanceof Step step) {
			return step.closedForm(0, initial);
		}
		if (schedule instanceof MultiStep multiStep) {
			return multiStep.closedForm(0, initial);
		}
		if (schedule instanceof Exponential exponential) {
			return exponential.closedForm(0, initial);
		}
		if (schedule instanceof Cosine cosine) {
			return cosine.closedForm(0, initial);
		}
		if (schedule instanceof Linear linear) {
			return linear.closedForm(0, initial);
		}
		if (schedule instanceof CosineWarmRestarts warmRestarts) {
			// No closed form: its step(0) sets T_cur = 0, T_i = T_0, which is position 0.
			return warmRestarts.learningRate(0, initial, initial);
		}
		throw new IllegalStateException("a sequential schedule inside a sequential schedule: " + schedule);
	}

	/**
	 * Python's {@code base ** n} for a float base {@code >= 0} and an int {@code n >= 0}: 1 for {@code n == 0} (before
	 * the platform's pow, as CPython does), else glibc's {@code pow}.
	 */
	private static double pythonPower(double base, long n) {
		return (n == 0) ? 1.0 : GlibcMath.pow(base, n);
	}

	private static void requirePosition(long position) {
		if (position < 0) {
			throw new IllegalArgumentException("position must be >= 0, got " + position);
		}
	}

	private static void requireInteger(String name, long value, long min, long max) {
		if (value < min || value > max) {
			throw new IllegalArgumentException(name + " must be an integer >= " + min + " and <= "
					+ (max == MAX_INTEGER ? "2^53" : Long.toString(max)) + ", got " + value);
		}
	}

	private static void requireFiniteNonNegative(String name, double value) {
		if (!(value >= 0 && value < Double.POSITIVE_INFINITY)) {
			throw new IllegalArgumentException(name + " must be a finite number >= 0, got " + value);
		}
	}

}
