package dev.adamopt.session;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.adamopt.session.OptimizerSettings.ScheduleSettings;
import dev.adamopt.training.LearningRateSchedule;

/**
 * Schedules between their wire form (type and torch's parameters in camelCase, torch's defaults) and the kernel's
 * records. A parameter of another type is refused rather than ignored, so a typo never goes unnoticed.
 */
final class ScheduleMapping {

	private ScheduleMapping() {
	}

	private static final Map<String, List<String>> PARAMETERS = new LinkedHashMap<>();

	static {
		PARAMETERS.put("step", List.of("stepSize", "gamma"));
		PARAMETERS.put("multiStep", List.of("milestones", "gamma"));
		PARAMETERS.put("exponential", List.of("gamma"));
		PARAMETERS.put("cosine", List.of("tMax", "etaMin"));
		PARAMETERS.put("cosineWarmRestarts", List.of("t0", "tMult", "etaMin"));
		PARAMETERS.put("linear", List.of("startFactor", "endFactor", "totalIters"));
		PARAMETERS.put("sequential", List.of("schedules", "milestones"));
		PARAMETERS.put("none", List.of());
	}

	static ScheduleSettings settings(LearningRateSchedule schedule, Long position) {
		if (schedule instanceof LearningRateSchedule.Step s) {
			return new ScheduleSettings("step", (long) s.stepSize(), s.gamma(), null, null, null, null, null, null, null,
					null, null, position);
		}
		if (schedule instanceof LearningRateSchedule.MultiStep s) {
			List<Long> milestones = new ArrayList<>();
			for (int milestone : s.milestones()) {
				milestones.add((long) milestone);
			}
			return new ScheduleSettings("multiStep", null, s.gamma(), milestones, null, null, null, null, null, null,
					null, null, position);
		}
		if (schedule instanceof LearningRateSchedule.Exponential s) {
			return new ScheduleSettings("exponential", null, s.gamma(), null, null, null, null, null, null, null, null,
					null, position);
		}
		if (schedule instanceof LearningRateSchedule.Cosine s) {
			return new ScheduleSettings("cosine", null, null, null, s.tMax(), s.etaMin(), null, null, null, null, null,
					null, position);
		}
		if (schedule instanceof LearningRateSchedule.CosineWarmRestarts s) {
			return new ScheduleSettings("cosineWarmRestarts", null, null, null, null, s.etaMin(), s.t0(), s.tMult(),
					null, null, null, null, position);
		}
		if (schedule instanceof LearningRateSchedule.Linear s) {
			return new ScheduleSettings("linear", null, null, null, null, null, null, null, s.startFactor(),
					s.endFactor(), s.totalIters(), null, position);
		}
		LearningRateSchedule.Sequential s = (LearningRateSchedule.Sequential) schedule;
		List<ScheduleSettings> schedules = new ArrayList<>();
		for (LearningRateSchedule each : s.schedules()) {
			schedules.add(settings(each, null));
		}
		List<Long> milestones = new ArrayList<>();
		for (long milestone : s.milestones()) {
			milestones.add(milestone);
		}
		return new ScheduleSettings("sequential", null, null, milestones, null, null, null, null, null, null, null,
				schedules, position);
	}

	/**
	 * The schedule these settings describe, with torch's defaults for parameters left out; {@code null} for type
	 * none. Messages name the field relative to the schedule (the caller prefixes where it is).
	 */
	static LearningRateSchedule schedule(ScheduleSettings s, boolean topLevel) {
		if (s.type() == null) {
			throw new IllegalArgumentException("type is required: one of " + PARAMETERS.keySet());
		}
		List<String> accepted = PARAMETERS.get(s.type());
		if (accepted == null || (!topLevel && (s.type().equals("sequential") || s.type().equals("none")))) {
			throw new IllegalArgumentException("type must be one of " + (topLevel ? PARAMETERS.keySet()
					: List.of("step", "multiStep", "exponential", "cosine", "cosineWarmRestarts", "linear"))
					+ ", got " + dev.adamopt.kernel.Precision.quoted(s.type()));
		}
		Map<String, Object> given = new LinkedHashMap<>();
		given.put("stepSize", s.stepSize());
		given.put("gamma", s.gamma());
		given.put("milestones", s.milestones());
		given.put("tMax", s.tMax());
		given.put("etaMin", s.etaMin());
		given.put("t0", s.t0());
		given.put("tMult", s.tMult());
		given.put("startFactor", s.startFactor());
		given.put("endFactor", s.endFactor());
		given.put("totalIters", s.totalIters());
		given.put("schedules", s.schedules());
		if (!topLevel) {
			given.put("position", s.position());
		}
		given.forEach((name, value) -> {
			if (value != null && !accepted.contains(name)) {
				throw new IllegalArgumentException(name + " is not a parameter of a '" + s.type() + "' schedule, whose "
						+ "parameters are " + accepted);
			}
		});
		switch (s.type()) {
			case "step":
				return new LearningRateSchedule.Step(intValue(required(s.stepSize(), "stepSize", "30"), "stepSize"),
						or(s.gamma(), 0.1));
			case "multiStep": {
				List<Long> milestones = required(s.milestones(), "milestones", "[30, 80]");
				int[] values = new int[milestones.size()];
				for (int i = 0; i < values.length; i++) {
					values[i] = intValue(required(milestones.get(i), "milestones[" + i + "]", "30"), "milestones[" + i + "]");
				}
				return new LearningRateSchedule.MultiStep(values, or(s.gamma(), 0.1));
			}
			case "exponential":
				return new LearningRateSchedule.Exponential(required(s.gamma(), "gamma", "0.95"));
			case "cosine":
				return new LearningRateSchedule.Cosine(required(s.tMax(), "tMax", "100"), or(s.etaMin(), 0.0));
			case "cosineWarmRestarts":
				return new LearningRateSchedule.CosineWarmRestarts(required(s.t0(), "t0", "10"), or(s.tMult(), 1L),
						or(s.etaMin(), 0.0));
			case "linear":
				return new LearningRateSchedule.Linear(or(s.startFactor(), 1.0 / 3), or(s.endFactor(), 1.0),
						or(s.totalIters(), 5L));
			case "sequential": {
				List<ScheduleSettings> given2 = required(s.schedules(), "schedules",
						"[{\"type\": \"linear\"}, {\"type\": \"cosine\", \"tMax\": 100}]");
				List<LearningRateSchedule> schedules = new ArrayList<>();
				for (int i = 0; i < given2.size(); i++) {
					ScheduleSettings each = given2.get(i);
					if (each == null) {
						throw new IllegalArgumentException("schedules[" + i + "] must be an object, not null");
					}
					try {
						schedules.add(schedule(each, false));
					}
					catch (IllegalArgumentException ex) {
						throw new IllegalArgumentException("schedules[" + i + "]." + ex.getMessage());
					}
				}
				List<Long> milestones = required(s.milestones(), "milestones", "[100]");
				long[] values = new long[milestones.size()];
				for (int i = 0; i < values.length; i++) {
					values[i] = required(milestones.get(i), "milestones[" + i + "]", "100");
				}
				return new LearningRateSchedule.Sequential(schedules, values);
			}
			default:
				return null;
		}
	}

	private static <T> T required(T value, String name, String example) {
		if (value == null) {
			throw new IllegalArgumentException(name + " is required, e.g. " + example);
		}
		return value;
	}

	private static int intValue(long value, String name) {
		if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
			throw new IllegalArgumentException(name + " must be at most " + Integer.MAX_VALUE + ", got " + value);
		}
		return (int) value;
	}

	private static <T> T or(T value, T fallback) {
		return (value != null) ? value : fallback;
	}

}
