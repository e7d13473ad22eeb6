package dev.adamopt.training;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link LearningRateSchedule} against torch 1.13's {@code lr_scheduler}, bit for bit: every file of
 * {@code src/test/resources/reference/schedules}, written by {@code src/test/python/generate_lr_references.py} (format
 * in its docstring). Each file is replayed the way a session drives a schedule: one call per group per scheduler step
 * with the group's lr from the previous call (or as a client assigned it), the position counted from the attach (0 at
 * the attach), and the group's first initial lr kept across attaches.
 */
class LearningRateScheduleTorchTest {

	static List<Object[]> files() {
		return ScheduleJson.files("reference/schedules");
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("files")
	void everyGroupsLearningRateShouldBeTorchsToTheLastBit(String file, JsonNode root) {
		double[] initial = doubles(root.get("initialLearningRates"));
		double[] lr = initial.clone();
		LearningRateSchedule schedule = null;
		long position = 0;
		int checked = 0;
		List<String> mismatches = new ArrayList<>();
		for (JsonNode event : root.get("events")) {
			if (event.has("attach")) {
				schedule = ScheduleJson.parse(event.get("attach"));
				position = 0;
				checked += advance(schedule, position, lr, initial, doubles(event.get("learningRates")), mismatches);
			}
			else if (event.has("steps")) {
				for (JsonNode expected : event.get("steps")) {
					position++;
					checked += advance(schedule, position, lr, initial, doubles(expected), mismatches);
				}
			}
			else {
				lr = doubles(event.get("assign"));
			}
		}
		assertThat(mismatches).as("%s: %d learning rates checked", file, checked).isEmpty();
		assertThat(checked).isGreaterThanOrEqualTo(20 * initial.length);
	}

	private static int advance(LearningRateSchedule schedule, long position, double[] lr, double[] initial,
			double[] expected, List<String> mismatches) {
		assertThat(expected).hasSameSizeAs(lr);
		for (int group = 0; group < lr.length; group++) {
			double previous = lr[group];
			lr[group] = schedule.learningRate(position, previous, initial[group]);
			if (Double.doubleToRawLongBits(lr[group]) != Double.doubleToRawLongBits(expected[group])) {
				mismatches.add(schedule.type() + " position " + position + " group " + group + ": expected "
						+ ScheduleJson.hex(expected[group]) + ", got " + ScheduleJson.hex(lr[group]));
				lr[group] = expected[group]; // report each divergence once, not its consequences
			}
		}
		return lr.length;
	}

	private static double[] doubles(JsonNode array) {
		double[] values = new double[array.size()];
		for (int i = 0; i < values.length; i++) {
			values[i] = array.get(i).doubleValue();
		}
		return values;
	}

}
