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

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One torch trajectory from {@code src/test/resources/reference} (format in the README there): a run's optimizer,
 * precision, initial parameters and, per step, the gradients and the expected parameters and state.
 *
 * @param file the file name, e.g. {@code amsgrad.json}
 * @param root the whole document
 */
public record ReferenceCase(String file, JsonNode root) {

	/** The classpath directory that holds the cases. */
	public static final String DIRECTORY = "reference";

	/** Plain Jackson 3: doubles parsed correctly rounded, so every reference number arrives bit for bit. */
	public static final JsonMapper JSON = JsonMapper.builder().build();

	/** Every {@code *.json} in the classpath directory {@value #DIRECTORY}, sorted by file name. */
	public static List<ReferenceCase> all() {
		URL url = ReferenceCase.class.getClassLoader().getResource(DIRECTORY);
		if (url == null) {
			throw new IllegalStateException("no '" + DIRECTORY + "' directory on the test classpath");
		}
		try {
			URI uri = url.toURI();
			if ("jar".equals(uri.getScheme())) {
				try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
					return load(jar.getPath(DIRECTORY));
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
				cases.add(new ReferenceCase(name, JSON.readTree(Files.readString(file))));
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
					step.get("expectedState")));
		}
		return steps;
	}

	@Override
	public String toString() {
		return this.file;
	}

	/**
	 * One step of a trajectory.
	 *
	 * @param number 1-based
	 * @param gradients {name: tensor}; a tensor missing here had no gradient this step
	 * @param expectedParameters {name: tensor} for every tensor after the step
	 * @param expectedState {name: {step, firstMoment, secondMoment, maxSecondMoment?}} for every tensor that has had
	 * a gradient so far
	 */
	public record Step(int number, JsonNode gradients, JsonNode expectedParameters, JsonNode expectedState) {

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
