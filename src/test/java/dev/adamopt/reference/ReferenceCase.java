package dev.adamopt.reference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.core.json.JsonWriteFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One torch trajectory from {@code src/test/resources/reference} (format in the README there) or from its
 * {@code training} subdirectory (the training features: schedules, clipping, groups, non-finite steps; format in
 * {@code training/README.md}): a run's optimizer, precision, initial parameters and, per step, the gradients and the
 * expected parameters and state, plus for training cases whether the step was skipped, the learning rate it used and
 * torch's total gradient norm.
 *
 * @param file the file name, e.g. {@code amsgrad.json}
 * @param root the whole document
 */
public record ReferenceCase(String file, JsonNode root) {

	/** The classpath directory that holds the cases. */
	public static final String DIRECTORY = "reference";

	/** The classpath directory that holds the training-feature cases. */
	public static final String TRAINING_DIRECTORY = "reference/training";

	/** Plain Jackson 3: doubles parsed correctly rounded, so every reference number arrives bit for bit. */
	public static final JsonMapper JSON = JsonMapper.builder().build();

	/**
	 * JSON as Python's {@code json} module reads and writes it: besides RFC 8259, the bare tokens {@code NaN},
	 * {@code Infinity} and {@code -Infinity} (the non-finite gradients of the {@code nonFinite} cases). The files are
	 * read with it; request bodies that carry such gradients are written with it (plain Jackson would write them as
	 * strings). Answers of the service are read with the strict {@link #JSON}.
	 */
	public static final JsonMapper PYTHON_JSON = JsonMapper.builder()
		.enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
		.disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
		.build();

	/** Every {@code *.json} in the classpath directory {@value #DIRECTORY}, sorted by file name. */
	public static List<ReferenceCase> all() {
		return all(DIRECTORY);
	}

	/** Every training-feature case, in {@value #TRAINING_DIRECTORY}, sorted by file name. */
	public static List<ReferenceCase> training() {
		return all(TRAINING_DIRECTORY);
	}

	/** Every {@code *.json} directly in a classpath directory (not in its subdirectories), sorted by file name. */
	public static List<ReferenceCase> all(String directory) {
		URL url = ReferenceCase.class.getClassLoader().getResource(directory);
		if (url == null) {
			throw new IllegalStateException("no '" + directory + "' directory on the test classpath");
		}
		try {
			URI uri = url.toURI();
			if ("jar".equals(uri.getScheme())) {
				try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
					return load(jar.getPath(directory));
				}
			}
			return load(Path.of(uri));
		}
		catch (URISyntaxException ex) {
			throw new IllegalStateException(ex);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static List<ReferenceCase> load(Path directory) throws IOException {
		List<ReferenceCase> cases = new ArrayList<>();
		try (Stream<Path> files = Files.list(directory)) {
			for (Path file : files.filter((f) -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
				String name = file.getFileName().toString();
				cases.add(new ReferenceCase(name, PYTHON_JSON.readTree(Files.readString(file))));
			}
		}
		return cases;
	}

	public String name() {
		return this.root.get("name").stringValue();
	}

	/** {@code "float64"} or {@code "float32"}. */
	public String precision() {
		return this.root.get("precision").stringValue();
	}

	public boolean isFloat32() {
		return "float32".equals(precision());
	}

	/** The optimizer object, in the API's own field names. */
	public JsonNode optimizer() {
		return this.root.get("optimizer");
	}

	public boolean amsgrad() {
		return optimizer().get("amsgrad").booleanValue();
	}

	/** The optimizer's {@code schedule}, or {@code null} when the learning rate is constant. */
	public JsonNode schedule() {
		return optimizer().get("schedule");
	}

	/** {name: tensor}, every tensor of the run in its order. */
	public JsonNode initialParameters() {
		return this.root.get("initialParameters");
	}

	public List<String> tensorNames() {
		return List.copyOf(initialParameters().propertyNames());
	}

	public List<Step> steps() {
		List<Step> steps = new ArrayList<>();
		int number = 1;
		for (JsonNode step : this.root.get("steps")) {
			steps.add(new Step(number++, step.get("gradients"), step.get("expectedParameters"),
					step.get("expectedState"), skipped(step), number(step, "expectedLearningRate"),
					number(step, "expectedGradNorm")));
		}
		return steps;
	}

	/** A training step's {@code skipped}; {@code false} when absent (the plain cases have no such field). */
	private static boolean skipped(JsonNode step) {
		JsonNode value = step.get("skipped");
		if (value == null) {
			return false;
		}
		if (!value.isBoolean()) {
			throw new IllegalArgumentException("skipped is not a boolean: " + value);
		}
		return value.booleanValue();
	}

	private static Double number(JsonNode step, String field) {
		JsonNode value = step.get(field);
		if (value == null) {
			return null;
		}
		if (!value.isNumber()) {
			throw new IllegalArgumentException(field + " is not a number: " + value);
		}
		return value.doubleValue();
	}

	@Override
	public String toString() {
		return this.file;
	}

	/**
	 * One step of a trajectory.
	 *
	 * @param number 1-based, counting skipped steps too
	 * @param gradients {name: tensor}; a tensor missing here had no gradient this step; may hold NaN and infinities
	 * @param expectedParameters {name: tensor} for every tensor after the step
	 * @param expectedState {name: {step, firstMoment, secondMoment, maxSecondMoment?}} for every tensor that has had
	 * a gradient so far
	 * @param skipped whether the step changed nothing (a non-finite gradient under {@code "nonFinite": "skip"});
	 * {@code false} in the plain cases
	 * @param expectedLearningRate the default group's learning rate the step used; {@code null} when skipped and in
	 * the plain cases
	 * @param expectedGradNorm torch's total norm of the step's gradients before clipping, in the clipping's norm type;
	 * {@code null} unless the case clips by norm
	 */
	public record Step(int number, JsonNode gradients, JsonNode expectedParameters, JsonNode expectedState,
			boolean skipped, Double expectedLearningRate, Double expectedGradNorm) {

	}

	/** A nested-list tensor (a bare number for 0-d) flattened row-major. */
	public static double[] flatten(JsonNode tensor) {
		List<Double> values = new ArrayList<>();
		collect(tensor, values);
		return values.stream().mapToDouble(Double::doubleValue).toArray();
	}

	private static void collect(JsonNode node, List<Double> into) {
		if (node.isNumber()) {
			into.add(node.doubleValue());
		}
		else if (node.isArray()) {
			node.values().forEach((element) -> collect(element, into));
		}
		else {
			throw new IllegalArgumentException("a tensor holds numbers and arrays only, got " + node);
		}
	}

	/** A float32 tensor flattened; every value must be a float32 value widened to double. */
	public static float[] flattenFloat32(JsonNode tensor) {
		double[] values = flatten(tensor);
		float[] floats = new float[values.length];
		for (int i = 0; i < values.length; i++) {
			floats[i] = (float) values[i];
			if (floats[i] != values[i]) {
				throw new IllegalArgumentException("not a float32 value at flat index " + i + ": " + values[i]);
			}
		}
		return floats;
	}

	/** The shape of a nested-list tensor, {@code []} for a bare number; the lists must be rectangular. */
	public static int[] shape(JsonNode tensor) {
		List<Integer> dims = new ArrayList<>();
		JsonNode node = tensor;
		while (node.isArray()) {
			dims.add(node.size());
			if (node.size() == 0) {
				break;
			}
			node = node.get(0);
		}
		int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
		long size = 1;
		for (int dim : shape) {
			size *= dim;
		}
		if (flatten(tensor).length != size) {
			throw new IllegalArgumentException("ragged tensor " + tensor);
		}
		return shape;
	}

}
