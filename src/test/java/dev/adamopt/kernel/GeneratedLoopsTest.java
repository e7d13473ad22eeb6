package dev.adamopt.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The step's sixteen loop variants in {@link AdamKernel} (clamped or scaled, L2 or decoupled decay, with or without
 * amsgrad, float64 and float32) are written from one template here, so that the twins cannot drift apart: the
 * source between the markers must be exactly what {@link #loops()} writes. To change a loop, change the template and
 * paste what {@code main} prints between the markers.
 */
class GeneratedLoopsTest {

	private static final Path SOURCE = Path.of("src/main/java/dev/adamopt/kernel/AdamKernel.java");

	private static final String START = "clip_grad_value_'s clamp.\n";

	private static final String END = "\t// Generated loops end";

	@Test
	void theKernelsLoopsShouldBeExactlyWhatTheTemplateWrites() throws IOException {
		String source = Files.readString(SOURCE);
		int start = source.indexOf(START);
		int end = source.indexOf(END);
		assertThat(start).as("the start marker in " + SOURCE).isPositive();
		assertThat(end).as("the end marker in " + SOURCE).isGreaterThan(start);
		assertThat(source.substring(start + START.length(), end)).isEqualTo(loops());
	}

	public static void main(String[] args) {
		System.out.print(loops());
	}

	/** Every variant, float64 first, each method preceded by an empty line and followed by one before the marker. */
	static String loops() {
		StringBuilder out = new StringBuilder();
		for (boolean float64 : new boolean[] { true, false }) {
			for (boolean clamped : new boolean[] { true, false }) {
				for (boolean l2 : new boolean[] { true, false }) {
					for (boolean amsgrad : new boolean[] { true, false }) {
						out.append('\n').append(loop(float64, clamped, l2, amsgrad));
					}
				}
			}
		}
		return out.append('\n').toString();
	}

	private static String loop(boolean float64, boolean clamped, boolean l2, boolean amsgrad) {
		String t = float64 ? "double" : "float";
		String name = (clamped ? "clamped" : "scaled") + (l2 ? "L2" : "Decay") + (amsgrad ? "Amsgrad" : "")
				+ (float64 ? "Float64" : "Float32");
		String gradient = clamped ? "Math.min(Math.max(grad[i] * scale, -clip), clip)" : "grad[i]";
		String sign = clamped ? "gradSign" : "signedScale";
		StringBuilder body = new StringBuilder();
		String indent = float64 ? "\t\t\t" : "\t\t\t\t";
		java.util.function.Consumer<String> line = text -> body.append(indent).append(text).append('\n');
		line.accept(t + " p0 = param[i];");
		if (l2) {
			line.accept(t + " p = p0;");
			line.accept(t + " g = Math.fma(p, l2, " + gradient + " * " + sign + ");");
		}
		else {
			line.accept(t + " p = p0 * decay;");
			line.accept(t + " g = " + gradient + " * " + sign + ";");
		}
		line.accept(t + " m = Math.fma(g, oneMinusBeta1, firstMoment[i] * beta1);");
		line.accept(t + " v = Math.fma(oneMinusBeta2 * g, g, secondMoment[i] * beta2);");
		if (amsgrad) {
			line.accept(t + " vMax = Math.max(maxSecondMoment[i], v);");
		}
		line.accept("firstMoment[i] = m;");
		line.accept("secondMoment[i] = v;");
		if (amsgrad) {
			line.accept("maxSecondMoment[i] = vMax;");
		}
		line.accept(t + " pNew = p + (negStepSize * m) / (" + (float64 ? "Math.sqrt" : "(float) Math.sqrt") + "("
				+ (amsgrad ? "vMax" : "v") + ") / biasCorrection2Sqrt + eps);");
		line.accept("param[i] = pNew;");
		line.accept(t + " d = pNew - p0;");
		line.accept("sum += d * d;");
		String signature = "\tprivate static double " + name + "(" + t + "[] param, " + t + "[] grad, " + t
				+ "[] firstMoment,\n\t\t\t" + t + "[] secondMoment, " + t + "[] maxSecondMoment, int n, " + t + " "
				+ sign + ", " + t + " l2, " + t + " decay,\n\t\t\t" + t + " beta1, " + t + " beta2, " + t
				+ " oneMinusBeta1, " + t + " oneMinusBeta2, " + t + " negStepSize,\n\t\t\t" + t
				+ " biasCorrection2Sqrt, " + t + " eps, " + t + " scale, " + t + " clip) {\n";
		if (float64) {
			return signature + "\t\tdouble sum = 0;\n\t\tfor (int i = 0; i < n; i++) {\n" + body
					+ "\t\t}\n\t\treturn sum;\n\t}\n";
		}
		return signature + "\t\tdouble total = 0;\n\t\tfor (int base = 0; base < n; base += UPDATE_NORM_BLOCK) {\n"
				+ "\t\t\tint end = Math.min(n, base + UPDATE_NORM_BLOCK);\n\t\t\tfloat sum = 0;\n"
				+ "\t\t\tfor (int i = base; i < end; i++) {\n" + body
				+ "\t\t\t}\n\t\t\ttotal += sum;\n\t\t}\n\t\treturn total;\n\t}\n";
	}

}
