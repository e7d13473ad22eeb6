package dev.adamopt.training;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link LearningRateSchedule} against the shared torch training trajectories in
 * {@code src/test/resources/reference/training} (format in the README there): the lr of the default group used in
 * every applied step is the schedule's lr after as many scheduler steps as applied steps before it, from the
 * optimizer's top-level learning rate, bit for bit. Skipped steps do not advance the schedule.
 */
class LearningRateScheduleTrainingReferenceTest {

	static List<Object[]> scheduled() {
		return ScheduleJson.files("reference/training").stream()
			.filter((file) -> ((JsonNode) file[1]).get("optimizer").has("schedule"))
			.toList();
	}

	@Test
	void everyScheduleTypeShouldHaveASharedTrajectory() {
		List<String> types = new ArrayList<>();
		for (Object[] file : scheduled()) {
			LearningRateSchedule schedule = ScheduleJson.parse(((JsonNode) file[1]).get("optimizer").get("schedule"));
			types.add(schedule.type());
			if (schedule instanceof LearningRateSchedule.Sequential sequential) {
				sequential.schedules().forEach((inner) -> types.add(inner.type()));
			}
		}
		assertThat(types).contains("step", "multiStep", "exponential", "cosine", "cosineWarmRestarts", "linear",
				"sequential");
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("scheduled")
	void theDefaultGroupsLearningRateShouldBeTorchsInEveryAppliedStep(String file, JsonNode root) {
		LearningRateSchedule schedule = ScheduleJson.parse(root.get("optimizer").get("schedule"));
		double initial = root.get("optimizer").get("learningRate").doubleValue();
		double lr = initial;
		long position = 0;
		int step = 0;
		int applied = 0;
		List<String> mismatches = new ArrayList<>();
		for (JsonNode expected : root.get("steps")) {
			step++;
			if (expected.get("skipped").booleanValue()) {
				assertThat(expected.has("expectedLearningRate")).as("step %d is skipped", step).isFalse();
				continue;
			}
			lr = schedule.learningRate(position, lr, initial);
			double torch = expected.get("expectedLearningRate").doubleValue();
			if (Double.doubleToRawLongBits(lr) != Double.doubleToRawLongBits(torch)) {
				mismatches.add("step " + step + " (position " + position + "): expected " + ScheduleJson.hex(torch)
						+ ", got " + ScheduleJson.hex(lr));
			}
			position++;
			applied++;
		}
		assertThat(mismatches).isEmpty();
		assertThat(applied).isGreaterThanOrEqualTo(7);
	}

}
