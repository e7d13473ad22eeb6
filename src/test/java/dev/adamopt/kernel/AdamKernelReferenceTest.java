package dev.adamopt.kernel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.adamopt.reference.BitExactComparison;
import dev.adamopt.reference.ReferenceCase;
import dev.adamopt.reference.ReferenceCase.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs every torch trajectory in {@code src/test/resources/reference} through {@link AdamKernel} alone, tensor by
 * tensor with each tensor's own step count, and requires every parameter and every state number after every step to
 * have torch's exact bits.
 */
class AdamKernelReferenceTest {

	static List<ReferenceCase> referenceCases() {
		return ReferenceCase.all();
	}

	@Test
	void referenceDirectoryShouldHoldEveryCaseOfTheReadme() {
		List<String> files = referenceCases().stream().map(ReferenceCase::file).toList();
		assertTrue(files.size() >= 11, () -> "expected at least 11 reference cases, found " + files);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("referenceCases")
	void kernelShouldReproduceTorchTrajectoryBitForBit(ReferenceCase reference) {
		Hyperparameters hyperparameters = hyperparameters(reference.optimizer());
		Map<String, KernelTensor> tensors = new LinkedHashMap<>();
		reference.initialParameters()
			.properties()
			.forEach((entry) -> tensors.put(entry.getKey(), KernelTensor.of(reference.isFloat32(), entry.getValue(),
					hyperparameters.amsgrad())));
		BitExactComparison comparison = new BitExactComparison(reference.file(), reference.isFloat32());

		for (Step step : reference.steps()) {
			step.gradients().properties().forEach((entry) -> tensor(tensors, entry.getKey(), step)
				.step(ReferenceCase.flatten(entry.getValue()), hyperparameters));
			assertMatches(reference, step, tensors, comparison);
		}
		comparison.assertBitExact();
	}

	private static void assertMatches(ReferenceCase reference, Step step, Map<String, KernelTensor> tensors,
			BitExactComparison comparison) {
		String at = "step " + step.number() + " ";
		assertEquals(tensors.keySet(), Set.copyOf(step.expectedParameters().propertyNames()),
				() -> reference + " " + at + "expectedParameters names every tensor");
		step.expectedParameters()
			.properties()
			.forEach((entry) -> comparison.checkTensor(at + entry.getKey() + ".parameter", entry.getValue(),
					tensors.get(entry.getKey()).parameter()));
		JsonNode expectedState = step.expectedState();
		tensors.forEach((name, tensor) -> {
			JsonNode expected = expectedState.get(name);
			if (expected == null) {
				assertEquals(0, tensor.step, () -> reference + " " + at + name
						+ " is not in expectedState, so it has never had a gradient");
				return;
			}
			String where = at + name + ".";
			assertEquals(expected.get("step").longValue(), tensor.step, () -> reference + " " + where + "step");
			comparison.checkTensor(where + "firstMoment", expected.get("firstMoment"), tensor.firstMoment());
			comparison.checkTensor(where + "secondMoment", expected.get("secondMoment"), tensor.secondMoment());
			assertEquals(reference.amsgrad(), expected.has("maxSecondMoment"),
					() -> reference + " " + where + "maxSecondMoment is in the reference exactly when amsgrad is on");
			if (reference.amsgrad()) {
				comparison.checkTensor(where + "maxSecondMoment", expected.get("maxSecondMoment"),
						tensor.maxSecondMoment());
			}
		});
	}

	private static KernelTensor tensor(Map<String, KernelTensor> tensors, String name, Step step) {
		KernelTensor tensor = tensors.get(name);
		assertTrue(tensor != null, () -> "step " + step.number() + " has a gradient for unknown tensor " + name);
		return tensor;
	}

	static Hyperparameters hyperparameters(JsonNode optimizer) {
		return new Hyperparameters(Algorithm.fromWireName(optimizer.get("algorithm").stringValue()),
				optimizer.get("learningRate").doubleValue(), optimizer.get("beta1").doubleValue(),
				optimizer.get("beta2").doubleValue(), optimizer.get("epsilon").doubleValue(),
				optimizer.get("weightDecay").doubleValue(), optimizer.get("amsgrad").booleanValue(),
				optimizer.get("maximize").booleanValue());
	}

	/** One tensor's parameter and state as the caller of the kernel owns them, in float64 or float32. */
	private abstract static sealed class KernelTensor permits Float64Tensor, Float32Tensor {

		/** The tensor's own step count: advances only in steps that give it a gradient. */
		long step;

		static KernelTensor of(boolean float32, JsonNode initialParameter, boolean amsgrad) {
			return float32 ? new Float32Tensor(ReferenceCase.flattenFloat32(initialParameter), amsgrad)
					: new Float64Tensor(ReferenceCase.flatten(initialParameter), amsgrad);
		}

		final void step(double[] gradient, Hyperparameters hyperparameters) {
			this.step++;
			apply(gradient, hyperparameters);
		}

		abstract void apply(double[] gradient, Hyperparameters hyperparameters);

		abstract double[] parameter();

		abstract double[] firstMoment();

		abstract double[] secondMoment();

		abstract double[] maxSecondMoment();

	}

	private static final class Float64Tensor extends KernelTensor {

		private final double[] parameter;

		private final double[] firstMoment;

		private final double[] secondMoment;

		private final double[] maxSecondMoment;

		Float64Tensor(double[] parameter, boolean amsgrad) {
			this.parameter = parameter;
			this.firstMoment = new double[parameter.length];
			this.secondMoment = new double[parameter.length];
			this.maxSecondMoment = amsgrad ? new double[parameter.length] : null;
		}

		@Override
		void apply(double[] gradient, Hyperparameters hyperparameters) {
			AdamKernel.stepFloat64(this.parameter, gradient, this.firstMoment, this.secondMoment,
					this.maxSecondMoment, this.step, hyperparameters);
		}

		@Override
		double[] parameter() {
			return this.parameter;
		}

		@Override
		double[] firstMoment() {
			return this.firstMoment;
		}

		@Override
		double[] secondMoment() {
			return this.secondMoment;
		}

		@Override
		double[] maxSecondMoment() {
			return this.maxSecondMoment;
		}

	}

	private static final class Float32Tensor extends KernelTensor {

		private final float[] parameter;

		private final float[] firstMoment;

		private final float[] secondMoment;

		private final float[] maxSecondMoment;

		Float32Tensor(float[] parameter, boolean amsgrad) {
			this.parameter = parameter;
			this.firstMoment = new float[parameter.length];
			this.secondMoment = new float[parameter.length];
			this.maxSecondMoment = amsgrad ? new float[parameter.length] : null;
		}

		@Override
		void apply(double[] gradient, Hyperparameters hyperparameters) {
			AdamKernel.stepFloat32(this.parameter, toFloat32(gradient), this.firstMoment, this.secondMoment,
					this.maxSecondMoment, this.step, hyperparameters);
		}

		private static float[] toFloat32(double[] values) {
			float[] floats = new float[values.length];
			for (int i = 0; i < values.length; i++) {
				floats[i] = (float) values[i];
				assertEquals(values[i], floats[i], 0.0, "float32 reference gradients hold float32 values");
			}
			return floats;
		}

		@Override
		double[] parameter() {
			return widen(this.parameter);
		}

		@Override
		double[] firstMoment() {
			return widen(this.firstMoment);
		}

		@Override
		double[] secondMoment() {
			return widen(this.secondMoment);
		}

		@Override
		double[] maxSecondMoment() {
			return widen(this.maxSecondMoment);
		}

		private static double[] widen(float[] values) {
			double[] doubles = new double[values.length];
			for (int i = 0; i < values.length; i++) {
				doubles[i] = values[i];
			}
			return doubles;
		}

	}

}
