package dev.adamopt.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import dev.adamopt.training.LearningRateSchedule.Cosine;
import dev.adamopt.training.LearningRateSchedule.CosineWarmRestarts;
import dev.adamopt.training.LearningRateSchedule.Exponential;
import dev.adamopt.training.LearningRateSchedule.Linear;
import dev.adamopt.training.LearningRateSchedule.MultiStep;
import dev.adamopt.training.LearningRateSchedule.Sequential;
import dev.adamopt.training.LearningRateSchedule.Step;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Test support: the wire format of a schedule ({@code src/test/resources/reference/training/README.md}) read into
 * {@link LearningRateSchedule}, absent keys taking torch's defaults through the records' factories and constants; and
 * the reference files on the classpath.
 */
final class ScheduleJson {

	/** Lenient about NaN and Infinity tokens (Python's json writes them); doubles parsed correctly rounded. */
	static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

	private ScheduleJson() {
	}

	static LearningRateSchedule parse(JsonNode node) {
		String type = node.get("type").stringValue();
		return switch (type) {
			case "step" -> node.has("gamma") ? new Step(node.get("stepSize").intValue(), number(node, "gamma"))
					: Step.of(node.get("stepSize").intValue());
			case "multiStep" -> {
				int[] milestones = new int[node.get("milestones").size()];
				for (int i = 0; i < milestones.length; i++) {
					milestones[i] = node.get("milestones").get(i).intValue();
				}
				yield node.has("gamma") ? new MultiStep(milestones, number(node, "gamma")) : MultiStep.of(milestones);
			}
			case "exponential" -> new Exponential(number(node, "gamma"));
			case "cosine" -> node.has("etaMin") ? new Cosine(node.get("tMax").longValue(), number(node, "etaMin"))
					: Cosine.of(node.get("tMax").longValue());
			case "cosineWarmRestarts" -> new CosineWarmRestarts(node.get("t0").longValue(),
					node.has("tMult") ? node.get("tMult").longValue() : CosineWarmRestarts.DEFAULT_T_MULT,
					node.has("etaMin") ? number(node, "etaMin") : CosineWarmRestarts.DEFAULT_ETA_MIN);
			case "linear" -> new Linear(
					node.has("startFactor") ? number(node, "startFactor") : Linear.DEFAULT_START_FACTOR,
					node.has("endFactor") ? number(node, "endFactor") : Linear.DEFAULT_END_FACTOR,
					node.has("totalIters") ? node.get("totalIters").longValue() : Linear.DEFAULT_TOTAL_ITERS);
			case "sequential" -> {
				List<LearningRateSchedule> schedules = new ArrayList<>();
				node.get("schedules").values().forEach((inner) -> schedules.add(parse(inner)));
				long[] milestones = new long[node.get("milestones").size()];
				for (int i = 0; i < milestones.length; i++) {
					milestones[i] = node.get("milestones").get(i).longValue();
				}
				yield new Sequential(schedules, milestones);
			}
			default -> throw new IllegalArgumentException("unknown schedule type " + type);
		};
	}

	private static double number(JsonNode node, String field) {
		return node.get(field).doubleValue();
	}

	/** Every {@code *.json} of a classpath directory, sorted by name, as {file name, document}. */
	static List<Object[]> files(String directory) {
		URL url = ScheduleJson.class.getClassLoader().getResource(directory);
		if (url == null) {
			throw new IllegalStateException("no '" + directory + "' directory on the test classpath");
		}
		List<Object[]> files = new ArrayList<>();
		try (Stream<Path> paths = Files.list(Path.of(url.toURI()))) {
			for (Path file : paths.filter((f) -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
				files.add(new Object[] { file.getFileName().toString(), JSON.readTree(Files.readString(file)) });
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (URISyntaxException ex) {
			throw new IllegalStateException(ex);
		}
		return files;
	}

	/** The bits of a double in hex, for mismatch messages. */
	static String hex(double value) {
		return Double.toHexString(value) + " (" + value + ")";
	}

}
