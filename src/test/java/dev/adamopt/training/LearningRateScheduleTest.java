package dev.adamopt.training;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import dev.adamopt.training.LearningRateSchedule.Cosine;
import dev.adamopt.training.LearningRateSchedule.CosineWarmRestarts;
import dev.adamopt.training.LearningRateSchedule.Exponential;
import dev.adamopt.training.LearningRateSchedule.Linear;
import dev.adamopt.training.LearningRateSchedule.MultiStep;
import dev.adamopt.training.LearningRateSchedule.Sequential;
import dev.adamopt.training.LearningRateSchedule.Step;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The contract of {@link LearningRateSchedule} beyond torch's numbers: random access, big positions, value records. */
class LearningRateScheduleTest {

	@Test
	void aLearningRateShouldDependOnlyOnPositionPreviousAndInitialSoAnyOrderGivesTorchsValues() {
		// Every torch case, each step computed alone from torch's lr before it, the positions shuffled.
		Random random = new Random(7);
		int checked = 0;
		for (Object[] file : ScheduleJson.files("reference/schedules")) {
			JsonNode root = (JsonNode) file[1];
			JsonNode initialNode = root.get("initialLearningRates");
			List<double[]> calls = new ArrayList<>(); // {segment, position, group, previous, expected}
			List<LearningRateSchedule> segments = new ArrayList<>();
			double[] lr = new double[initialNode.size()];
			for (int g = 0; g < lr.length; g++) {
				lr[g] = initialNode.get(g).doubleValue();
			}
			long position = 0;
			for (JsonNode event : root.get("events")) {
				List<JsonNode> rows = new ArrayList<>();
				if (event.has("attach")) {
					segments.add(ScheduleJson.parse(event.get("attach")));
					position = -1;
					rows.add(event.get("learningRates"));
				}
				else if (event.has("steps")) {
					event.get("steps").values().forEach(rows::add);
				}
				else {
					for (int g = 0; g < lr.length; g++) {
						lr[g] = event.get("assign").get(g).doubleValue();
					}
				}
				for (JsonNode row : rows) {
					position++;
					for (int g = 0; g < lr.length; g++) {
						double expected = row.get(g).doubleValue();
						calls.add(new double[] { segments.size() - 1, position, g, lr[g], expected });
						lr[g] = expected;
					}
				}
			}
			Collections.shuffle(calls, random);
			for (double[] call : calls) {
				LearningRateSchedule schedule = segments.get((int) call[0]);
				double initial = initialNode.get((int) call[2]).doubleValue();
				double actual = schedule.learningRate((long) call[1], call[3], initial);
				assertThat(actual).as("%s, %s at position %d, group %d", file[0], schedule.type(), (long) call[1],
						(int) call[2]).isEqualTo(call[4]);
				checked++;
			}
		}
		assertThat(checked).isGreaterThan(10_000);
	}

	@Test
	void warmRestartsShouldFindTheCycleOfAHugePositionWithoutReplayingIt() {
		CosineWarmRestarts doubling = new CosineWarmRestarts(1, 2, 0.0);
		long cycleStart = (1L << 62) - 1; // cycles 1, 2, 4, ...: the cycle of length 2^62 starts here
		assertThat(doubling.learningRate(cycleStart, 123.0, 0.1)).as("a restart: the initial lr").isEqualTo(0.1);
		assertThat(doubling.learningRate(cycleStart - 1, 123.0, 0.1)).as("the last position of the cycle before")
			.isCloseTo(0.0, within(1e-19));
		assertThat(doubling.learningRate(cycleStart + (1L << 61), 123.0, 0.1)).as("half way: cos(pi/2)")
			.isCloseTo(0.05, within(1e-17));
	}

	@Test
	void warmRestartsShouldKeepTheExactCycleLengthBeyondTheRangeOfLong() {
		long tMult = 1L << 53;
		CosineWarmRestarts schedule = new CosineWarmRestarts(3, tMult, 0.0);
		long secondCycleEnd = 3 + 3 * tMult; // the third cycle, 3 * 2^106 long, starts here
		assertThat(schedule.learningRate(secondCycleEnd - 1, 1.0, 0.1)).isCloseTo(0.0, within(1e-18));
		assertThat(schedule.learningRate(secondCycleEnd, 1.0, 0.1)).isEqualTo(0.1);
		// A position far into the third cycle: T_cur / T_i is tiny, so the lr stays at its maximum.
		assertThat(schedule.learningRate(Long.MAX_VALUE, 1.0, 0.1)).isEqualTo(0.1);
	}

	@Test
	void aSequentialScheduleShouldHandOverAtEachMilestoneAtAnyDistance() {
		long far = 1L << 50;
		Sequential sequential = new Sequential(List.of(Linear.of(), new Exponential(0.5), Step.of(1)),
				new long[] { 5, far });
		assertThat(sequential.learningRate(far - 1, 0.25, 1.0)).as("exponential, chainable").isEqualTo(0.125);
		assertThat(sequential.learningRate(far, 0.25, 1.0)).as("step restarted: its closed form").isEqualTo(1.0);
		assertThat(sequential.learningRate(far + 1, 0.25, 1.0)).as("step, chainable").isEqualTo(0.025);
		assertThat(sequential.learningRate(0, 0.25, 1.0)).as("position 0 starts from the initial lr")
			.isEqualTo(1.0 / 3);
	}

	@Test
	void theTypeShouldBeTheWireNameTheScheduleWasReadFrom() {
		int checked = 0;
		for (Object[] file : ScheduleJson.files("reference/schedules")) {
			for (JsonNode event : ((JsonNode) file[1]).get("events")) {
				if (event.has("attach")) {
					JsonNode node = event.get("attach");
					LearningRateSchedule schedule = ScheduleJson.parse(node);
					assertThat(schedule.type()).isEqualTo(node.get("type").stringValue());
					if (schedule instanceof Sequential sequential) {
						for (int i = 0; i < sequential.schedules().size(); i++) {
							assertThat(sequential.schedules().get(i).type())
								.isEqualTo(node.get("schedules").get(i).get("type").stringValue());
						}
					}
					checked++;
				}
			}
		}
		assertThat(checked).isGreaterThan(40);
	}

	@Test
	void arraysShouldBeCopiedInAndOutAndComparedByContent() {
		int[] milestones = { 2, 5, 5 };
		MultiStep multiStep = MultiStep.of(milestones);
		milestones[0] = 4;
		assertThat(multiStep.milestones()).containsExactly(2, 5, 5);
		multiStep.milestones()[1] = 9;
		assertThat(multiStep.milestones()).containsExactly(2, 5, 5);
		assertThat(multiStep).isEqualTo(MultiStep.of(2, 5, 5)).hasSameHashCodeAs(MultiStep.of(2, 5, 5));
		assertThat(multiStep).isNotEqualTo(MultiStep.of(2, 5)).isNotEqualTo(new MultiStep(new int[] { 2, 5, 5 }, 0.5));
		assertThat(multiStep).hasToString("MultiStep[milestones=[2, 5, 5], gamma=0.1]");

		long[] positions = { 3, 8 };
		List<LearningRateSchedule> schedules = new ArrayList<>(List.of(Linear.of(), Cosine.of(4), Step.of(2)));
		Sequential sequential = new Sequential(schedules, positions);
		positions[0] = 1;
		schedules.set(0, Step.of(9));
		assertThat(sequential.milestones()).containsExactly(3, 8);
		assertThat(sequential.schedules()).containsExactly(Linear.of(), Cosine.of(4), Step.of(2));
		Sequential same = new Sequential(List.of(Linear.of(), Cosine.of(4), Step.of(2)), new long[] { 3, 8 });
		assertThat(sequential).isEqualTo(same).hasSameHashCodeAs(same);
		assertThat(sequential).isNotEqualTo(
				new Sequential(List.of(Linear.of(), Cosine.of(4), Step.of(2)), new long[] { 3, 9 }));
		assertThat(sequential.toString()).contains("milestones=[3, 8]", "Cosine[tMax=4, etaMin=0.0]");
	}

}
