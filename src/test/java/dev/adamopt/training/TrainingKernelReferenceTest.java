package dev.adamopt.training;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.adamopt.kernel.AdamKernel;
import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.GradientStatistics;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.reference.BitExactComparison;
import dev.adamopt.reference.ReferenceCase;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Every torch training trajectory of {@code reference/training} through the kernels alone, no session: the
 * schedule ({@link LearningRateSchedule}), the groups ({@link TensorGlob}), the gradient statistics and clipping
 * coefficient ({@link GradientStatistics}) and the clipped step ({@link AdamKernel}), composed here as torch's loop
 * composes them: {@code clip_grad_*_}, {@code optimizer.step()}, {@code scheduler.step()}; a step with a non-finite
 * gradient changes nothing. Parameters and moments within the references' tolerances, learning rates and clipping
 * norms within 1e-12 relative (float32: 1e-5).
 */
class TrainingKernelReferenceTest {

	static Stream<Arguments> cases() {
		List<Object[]> files = ScheduleJson.files("reference/training");
		assertThat(files).hasSizeGreaterThanOrEqualTo(15);
		return files.stream().map(f -> Arguments.of(f[0], f[1]));
	}

	/** One tensor's state, float64 or float32 (the arrays of the other precision are null). */
	private static final class State {

		double[] p64, m64, v64, w64;

		float[] p32, m32, v32, w32;

		long step;

		int group = -1;

	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void everyTrainingCaseShouldFollowTorchThroughTheKernelsAlone(String file, JsonNode reference) {
		boolean float32 = "float32".equals(reference.path("precision").asString("float64"));
		JsonNode o = reference.get("optimizer");
		Algorithm algorithm = Algorithm.fromWireName(o.get("algorithm").asString());
		boolean amsgrad = o.get("amsgrad").asBoolean();
		boolean maximize = o.get("maximize").asBoolean();
		// group g >= 0: optimizer.groups[g]; the default group last, at index groups
		List<JsonNode> groupNodes = new ArrayList<>();
		o.path("groups").forEach(groupNodes::add);
		int groups = groupNodes.size();
		double[] lr = new double[groups + 1];
		Hyperparameters[] base = new Hyperparameters[groups + 1];
		base[groups] = new Hyperparameters(algorithm, o.get("learningRate").asDouble(), o.get("beta1").asDouble(),
				o.get("beta2").asDouble(), o.get("epsilon").asDouble(), o.get("weightDecay").asDouble(), amsgrad,
				maximize);
		for (int g = 0; g < groups; g++) {
			JsonNode n = groupNodes.get(g);
			Hyperparameters d = base[groups];
			base[g] = new Hyperparameters(algorithm, n.path("learningRate").asDouble(d.learningRate()),
					n.path("beta1").asDouble(d.beta1()), n.path("beta2").asDouble(d.beta2()),
					n.path("epsilon").asDouble(d.epsilon()), n.path("weightDecay").asDouble(d.weightDecay()), amsgrad,
					maximize);
		}
		for (int g = 0; g <= groups; g++) {
			lr[g] = base[g].learningRate();
		}
		double[] initial = lr.clone();
		LearningRateSchedule schedule = o.has("schedule") ? ScheduleJson.parse(o.get("schedule")) : null;
		long position = 0;
		if (schedule != null) {
			for (int g = 0; g <= groups; g++) {
				lr[g] = schedule.learningRate(0, lr[g], initial[g]);
			}
		}
		JsonNode clipping = o.path("clipping");
		double normType = clipping.has("maxNorm") ? normType(clipping.path("normType")) : 2.0;
		Map<String, State> states = new LinkedHashMap<>();
		boolean anyDefault = false;
		for (Map.Entry<String, JsonNode> entry : reference.get("initialParameters").properties()) {
			State s = new State();
			double[] values = ReferenceCase.flatten(entry.getValue());
			if (float32) {
				s.p32 = new float[values.length];
				for (int i = 0; i < values.length; i++) {
					s.p32[i] = (float) values[i];
				}
				s.m32 = new float[values.length];
				s.v32 = new float[values.length];
				s.w32 = amsgrad ? new float[values.length] : null;
			}
			else {
				s.p64 = values;
				s.m64 = new double[values.length];
				s.v64 = new double[values.length];
				s.w64 = amsgrad ? new double[values.length] : null;
			}
			for (int g = 0; g < groups && s.group < 0; g++) {
				for (JsonNode glob : groupNodes.get(g).get("match")) {
					if (TensorGlob.matches(glob.asString(), entry.getKey())) {
						s.group = g;
						break;
					}
				}
			}
			anyDefault |= s.group < 0;
			states.put(entry.getKey(), s);
		}
		int reported = anyDefault ? groups : states.values().iterator().next().group;
		int t = 0;
		for (JsonNode step : reference.get("steps")) {
			String where = file + " step " + (++t);
			// the gradients as the step uses them, and their statistics
			Map<String, Object> gradients = new LinkedHashMap<>();
			GradientStatistics.Accumulator norms = new GradientStatistics.Accumulator(float32, normType);
			double[] out = new double[3];
			Map<String, Double> maxAbs = new LinkedHashMap<>();
			boolean finite = true;
			for (Map.Entry<String, JsonNode> entry : step.get("gradients").properties()) {
				double[] values = ReferenceCase.flatten(entry.getValue());
				if (float32) {
					float[] g = new float[values.length];
					for (int i = 0; i < values.length; i++) {
						g[i] = (float) values[i];
					}
					GradientStatistics.gradientStatisticsFloat32(g, normType, out);
					gradients.put(entry.getKey(), g);
				}
				else {
					GradientStatistics.gradientStatisticsFloat64(values, normType, out);
					gradients.put(entry.getKey(), values);
				}
				norms.add(out);
				maxAbs.put(entry.getKey(), out[1]);
				finite &= Double.isFinite(out[1]);
			}
			boolean skipped = step.path("skipped").asBoolean(false);
			assertThat(!finite).as(where + " skipped").isEqualTo(skipped);
			if (!skipped) {
				double scale = 1.0;
				double clipValue = Double.POSITIVE_INFINITY;
				if (clipping.has("maxNorm")) {
					assertRelative(norms.totalNorm(), step.get("expectedGradNorm").asDouble(), float32 ? 1e-5 : 1e-12,
							where + " totalNorm");
					scale = norms.clipCoefficient(clipping.get("maxNorm").asDouble());
				}
				else if (clipping.has("maxValue")) {
					clipValue = clipping.get("maxValue").asDouble();
				}
				assertRelative(lr[reported], step.get("expectedLearningRate").asDouble(), 1e-12,
						where + " learningRate");
				for (Map.Entry<String, Object> entry : gradients.entrySet()) {
					State s = states.get(entry.getKey());
					int g = (s.group < 0) ? groups : s.group;
					Hyperparameters h = base[g].withLearningRate(lr[g]);
					s.step++;
					if (float32) {
						AdamKernel.stepFloat32(s.p32, (float[]) entry.getValue(), s.m32, s.v32, s.w32, s.step, h, scale,
								clipValue);
					}
					else {
						AdamKernel.stepFloat64(s.p64, (double[]) entry.getValue(), s.m64, s.v64, s.w64, s.step, h,
								scale, clipValue);
					}
				}
				if (schedule != null) {
					position++;
					for (int g = 0; g <= groups; g++) {
						lr[g] = schedule.learningRate(position, lr[g], initial[g]);
					}
				}
			}
			for (Map.Entry<String, JsonNode> entry : step.get("expectedParameters").properties()) {
				State s = states.get(entry.getKey());
				assertClose(float32 ? widen(s.p32) : s.p64, ReferenceCase.flatten(entry.getValue()), float32,
						where + " parameter " + entry.getKey());
			}
			for (Map.Entry<String, JsonNode> entry : step.get("expectedState").properties()) {
				State s = states.get(entry.getKey());
				assertThat(s.step).as(where + " step of " + entry.getKey()).isEqualTo(entry.getValue().get("step").asLong());
				assertClose(float32 ? widen(s.m32) : s.m64, ReferenceCase.flatten(entry.getValue().get("firstMoment")), float32,
						where + " firstMoment of " + entry.getKey());
				assertClose(float32 ? widen(s.v32) : s.v64, ReferenceCase.flatten(entry.getValue().get("secondMoment")), float32,
						where + " secondMoment of " + entry.getKey());
			}
		}
	}

	private static double normType(JsonNode node) {
		if (node.isMissingNode()) {
			return 2.0;
		}
		return node.isString() ? Double.POSITIVE_INFINITY : node.asDouble();
	}

	private static double[] widen(float[] values) {
		double[] widened = new double[values.length];
		for (int i = 0; i < values.length; i++) {
			widened[i] = values[i];
		}
		return widened;
	}

	private static void assertRelative(double actual, double expected, double tolerance, String what) {
		if (!(Math.abs(actual - expected) <= tolerance * Math.abs(expected))) {
			fail(what + ": expected " + expected + ", got " + actual);
		}
	}

	private static void assertClose(double[] actual, double[] expected, boolean float32, String what) {
		assertThat(actual).as(what + " size").hasSize(expected.length);
		for (int i = 0; i < expected.length; i++) {
			if (!BitExactComparison.withinTolerance(expected[i], actual[i], float32)) {
				fail(what + " at flat index " + i + ": expected " + expected[i] + ", got " + actual[i]);
			}
		}
	}

}
