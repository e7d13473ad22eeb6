package dev.adamopt;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.nio.charset.StandardCharsets;

import dev.adamopt.tensor.SafetensorsBytes;
import dev.adamopt.tensor.Tensor;
import dev.adamopt.tensor.SafetensorsBytes.Builder;
import dev.adamopt.tensor.SafetensorsBytes.Entry;
import dev.adamopt.tensor.SafetensorsBytes.Malformed;
import dev.adamopt.tensor.SafetensorsBytes.Parsed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Safetensors wherever tensors travel, over real HTTP: every shared torch reference case through binary steps (client-
 * and service-held parameters, mixed media types, binary checkpoints resumed midway), F16/BF16 gradients, the
 * parameters resource, every class of malformed file, and a large tensor.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class SafetensorsHttpTest {

	private static final String OCTET = "application/octet-stream";

	private static final String JSON_TYPE = "application/json";

	private static final String PROBLEM = "application/problem+json";

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

	private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	@LocalServerPort
	private int port;

	// ---- (a) every reference case through safetensors ----------------------------------------------------------

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void binaryStepsWithClientHeldParametersShouldReproduceEveryReferenceCaseBitForBitInTheDtypeSent(Case c) {
		String id = createSession(c);
		Map<String, T> parameters = c.initialParameters();
		for (int i = 0; i < c.steps().size(); i++) {
			JsonNode step = c.steps().get(i);
			HttpResponse<byte[]> response = send("POST", steps(id), OCTET, OCTET,
					stepFile(parameters, gradients(step), c.dtype()));

			assertThat(response.statusCode()).as(c + " step " + (i + 1)).isEqualTo(200);
			assertThat(contentType(response)).isEqualTo(OCTET);
			assertThat(response.headers().firstValueAsLong("Content-Length")).hasValue(response.body().length);
			Parsed answer = SafetensorsBytes.parse(response.body());
			assertThat(answer.metadata()).containsEntry("step", Integer.toString(i + 1));
			parameters = assertParameters(c + " step " + (i + 1), answer, c.dtype(), step.get("expectedParameters"));
		}
	}

	@Test
	void float32ParametersInAFloat64SessionShouldComeBackAsFloat32NarrowedFromTheFloat64Step() {
		Case c = findCase("adam-default");
		String binary = createSession(c.optimizer(), "float64");
		String json = createSession(c.optimizer(), "float64");
		Map<String, T> parameters = new LinkedHashMap<>();
		c.initialParameters().forEach((name, t) -> parameters.put(name, t.roundedToFloat()));
		for (JsonNode step : c.steps()) {
			Map<String, T> gradients = gradients(step);
			Parsed answer = SafetensorsBytes
				.parse(ok(send("POST", steps(binary), OCTET, OCTET, stepFile(parameters, "F32", gradients, "F64"))).body());
			// the same values, widened, through JSON in the same kind of session
			JsonNode reference = JSON.readTree(ok(send("POST", steps(json), JSON_TYPE, JSON_TYPE,
					jsonBytes(stepJson(parameters, step.get("gradients"))))).body());
			for (String name : parameters.keySet()) {
				Entry entry = answer.tensors().get(name);
				assertThat(entry.dtype()).as(name).isEqualTo("F32");
				assertThat(entry.shape()).isEqualTo(parameters.get(name).shape());
				T wide = T.of(reference.get("parameters").get(name));
				assertThat(floatBits(entry.f32())).as(name).isEqualTo(floatBits(wide.roundedToFloat().floats()));
				parameters.put(name, new T(entry.shape(), widen(entry.f32())));
			}
		}
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void binaryGradientsWithServiceHeldParametersPutAsSafetensorsShouldReproduceEveryReferenceCaseBitForBit(Case c) {
		String id = createSession(c);
		HttpResponse<byte[]> put = send("PUT", parametersPath(id), OCTET, JSON_TYPE,
				parameterFile(c.initialParameters(), c.dtype()));
		assertThat(put.statusCode()).as(new String(put.body())).isEqualTo(204);
		assertThat(JSON.readTree(ok(send("GET", "/v1/sessions/" + id, null, JSON_TYPE, null)).body())
			.get("holdsParameters")
			.asBoolean()).isTrue();
		assertParameters(c + " after PUT", SafetensorsBytes.parse(ok(send("GET", parametersPath(id), null, OCTET, null)).body()),
				c.dtype(), toJson(c.initialParameters()));

		byte[] last = null;
		for (int i = 0; i < c.steps().size(); i++) {
			JsonNode step = c.steps().get(i);
			HttpResponse<byte[]> response = ok(send("POST", steps(id), OCTET, OCTET,
					stepFile(Map.of(), gradients(step), c.dtype())));
			assertThat(contentType(response)).isEqualTo(OCTET);
			Parsed answer = SafetensorsBytes.parse(response.body());
			assertThat(answer.metadata()).containsEntry("step", Integer.toString(i + 1));
			assertParameters(c + " step " + (i + 1), answer, c.dtype(), step.get("expectedParameters"));
			last = response.body();
		}
		// the held parameters are the last answer's, in binary and in JSON
		Parsed held = SafetensorsBytes.parse(ok(send("GET", parametersPath(id), null, OCTET, null)).body());
		Parsed lastAnswer = SafetensorsBytes.parse(last);
		assertThat(held.tensors().keySet()).containsExactlyElementsOf(lastAnswer.tensors().keySet());
		held.tensors().forEach((name, entry) -> assertThat(entry.bytes()).as(name)
			.isEqualTo(lastAnswer.tensors().get(name).bytes()));
		JsonNode heldJson = JSON.readTree(ok(send("GET", parametersPath(id), null, JSON_TYPE, null)).body());
		assertParameters(c + " GET JSON", held, c.dtype(), heldJson);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void binaryRequestsWithJsonAnswersShouldReproduceEveryReferenceCaseBitForBit(Case c) {
		String id = createSession(c);
		Map<String, T> parameters = c.initialParameters();
		for (int i = 0; i < c.steps().size(); i++) {
			JsonNode step = c.steps().get(i);
			HttpResponse<byte[]> response = ok(send("POST", steps(id), OCTET, JSON_TYPE,
					stepFile(parameters, gradients(step), c.dtype())));
			assertThat(contentType(response)).isEqualTo(JSON_TYPE);
			JsonNode answer = JSON.readTree(response.body());
			assertThat(answer.get("step").asLong()).isEqualTo(i + 1);
			JsonNode expected = step.get("expectedParameters");
			assertThat(names(answer.get("parameters"))).containsExactlyElementsOf(names(expected));
			Map<String, T> next = new LinkedHashMap<>();
			for (String name : names(expected)) {
				T actual = T.of(answer.get("parameters").get(name));
				assertBitExact(c + " step " + (i + 1) + " " + name, actual, T.of(expected.get(name)));
				next.put(name, actual);
			}
			parameters = next;
		}
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void jsonRequestsWithBinaryAnswersShouldReproduceEveryReferenceCaseBitForBitAsF64(Case c) {
		String id = createSession(c);
		Map<String, T> parameters = c.initialParameters();
		for (int i = 0; i < c.steps().size(); i++) {
			JsonNode step = c.steps().get(i);
			HttpResponse<byte[]> response = ok(send("POST", steps(id), JSON_TYPE, OCTET,
					jsonBytes(stepJson(parameters, step.get("gradients")))));
			assertThat(contentType(response)).isEqualTo(OCTET);
			Parsed answer = SafetensorsBytes.parse(response.body());
			assertThat(answer.metadata()).containsEntry("step", Integer.toString(i + 1));
			// JSON tensors are float64 tensors: a float32 session answers them with its float32 values, widened
			parameters = assertParameters(c + " step " + (i + 1), answer, "F64", step.get("expectedParameters"));
		}
	}

	@ParameterizedTest(name = "{0}, {1}")
	@MethodSource("casesByHolder")
	void binaryCheckpointTakenMidwayShouldResumeBitForBitAsANewSession(Case c, String holder) {
		boolean held = holder.equals("service-held");
		String id = createSession(c);
		Map<String, T> parameters = c.initialParameters();
		if (held) {
			assertThat(send("PUT", parametersPath(id), OCTET, JSON_TYPE, parameterFile(parameters, c.dtype()))
				.statusCode()).isEqualTo(204);
		}
		int middle = c.steps().size() / 2;
		for (int i = 0; i < middle; i++) {
			parameters = binaryStep(c, id, held, parameters, i);
		}

		HttpResponse<byte[]> state = ok(send("GET", "/v1/sessions/" + id + "/state", null, OCTET, null));
		assertThat(contentType(state)).isEqualTo(OCTET);
		Parsed checkpoint = SafetensorsBytes.parse(state.body());
		assertCheckpoint(c, checkpoint, middle, held);

		HttpResponse<byte[]> created = send("POST", "/v1/sessions", OCTET, JSON_TYPE, state.body());
		assertThat(created.statusCode()).as(new String(created.body())).isEqualTo(201);
		JsonNode session = JSON.readTree(created.body());
		String resumed = session.get("id").asString();
		assertThat(resumed).isNotEqualTo(id);
		assertThat(created.headers().firstValue("Location")).hasValue("/v1/sessions/" + resumed);
		assertThat(session.get("step").asLong()).isEqualTo(middle);
		assertThat(session.get("precision").asString()).isEqualTo(c.precision());
		assertThat(session.get("holdsParameters").asBoolean()).isEqualTo(held);
		assertThat(JSON.readTree(ok(send("GET", "/v1/sessions/" + resumed + "/state", null, JSON_TYPE, null)).body()))
			.isEqualTo(JSON.readTree(ok(send("GET", "/v1/sessions/" + id + "/state", null, JSON_TYPE, null)).body()));
		assertThat(ok(send("GET", "/v1/sessions/" + resumed + "/state", null, OCTET, null)).body())
			.isEqualTo(state.body());

		for (int i = middle; i < c.steps().size(); i++) {
			parameters = binaryStep(c, resumed, held, parameters, i);
		}
	}

	@Test
	void binaryCheckpointOfASessionWithoutTensorsShouldResumeWithItsSettings() {
		ObjectNode optimizer = NODES.objectNode();
		optimizer.put("algorithm", "adamw");
		optimizer.put("amsgrad", true);
		optimizer.put("learningRate", 0.1 + 0.2);
		String id = createSession(optimizer, "float32");
		byte[] state = ok(send("GET", stateOf(id), null, OCTET, null)).body();
		Parsed checkpoint = SafetensorsBytes.parse(state);
		assertThat(checkpoint.tensors()).isEmpty();
		assertThat(checkpoint.metadata()).containsEntry("precision", "float32").containsEntry("tensorSteps", "{}");

		HttpResponse<byte[]> created = send("POST", "/v1/sessions", OCTET, JSON_TYPE, state);

		assertThat(created.statusCode()).isEqualTo(201);
		String resumed = JSON.readTree(created.body()).get("id").asString();
		assertThat(JSON.readTree(ok(send("GET", stateOf(resumed), null, JSON_TYPE, null)).body()))
			.isEqualTo(JSON.readTree(ok(send("GET", stateOf(id), null, JSON_TYPE, null)).body()));
		assertThat(JSON.readTree(ok(send("GET", stateOf(resumed), null, JSON_TYPE, null)).body())
			.get("optimizer")
			.get("learningRate")
			.asDouble()).isEqualTo(0.1 + 0.2);
	}

	@Test
	void tensorNamedLikeTheSafetensorsMetadataShouldBeRefusedSinceNoSafetensorsFileCouldCarryIt() {
		HttpResponse<byte[]> create = send("POST", "/v1/sessions", JSON_TYPE, JSON_TYPE,
				"{\"parameters\": {\"__metadata__\": [1, 2]}}".getBytes());
		assertThat(create.statusCode()).isEqualTo(422);
		assertThat(JSON.readTree(create.body()).get("detail").asString()).contains("__metadata__");

		String id = createSession(NODES.objectNode(), "float64");
		HttpResponse<byte[]> put = send("PUT", parametersPath(id), JSON_TYPE, JSON_TYPE,
				"{\"__metadata__\": [1, 2]}".getBytes());
		assertThat(put.statusCode()).isEqualTo(422);
		HttpResponse<byte[]> step = send("POST", steps(id), JSON_TYPE, OCTET,
				"{\"parameters\": {\"__metadata__\": [1, 2]}, \"gradients\": {}}".getBytes());
		assertThat(step.statusCode()).isEqualTo(422);
		assertThat(contentType(step)).isEqualTo(PROBLEM);
		JsonNode session = JSON.readTree(ok(send("GET", "/v1/sessions/" + id, null, JSON_TYPE, null)).body());
		assertThat(session.get("tensors")).isEmpty();
		assertThat(session.get("holdsParameters").asBoolean()).isFalse();
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void putOnAClientHeldSessionMidwayShouldKeepTheMomentsAndContinueBitForBit(Case c) {
		String id = createSession(c);
		Map<String, T> parameters = c.initialParameters();
		int middle = c.steps().size() / 2;
		for (int i = 0; i < middle; i++) {
			parameters = binaryStep(c, id, false, parameters, i);
		}
		Parsed before = SafetensorsBytes.parse(ok(send("GET", stateOf(id), null, OCTET, null)).body());

		assertThat(send("PUT", parametersPath(id), OCTET, JSON_TYPE, parameterFile(parameters, c.dtype())).statusCode())
			.isEqualTo(204);

		Parsed after = SafetensorsBytes.parse(ok(send("GET", stateOf(id), null, OCTET, null)).body());
		assertThat(after.metadata()).containsEntry("holdsParameters", "true");
		before.tensors().forEach((key, entry) -> assertThat(after.tensors().get(key).bytes()).as(key)
			.isEqualTo(entry.bytes()));
		assertThat(after.tensors().keySet()).containsAll(
				parameters.keySet().stream().map(name -> name + ".parameter").toList());
		for (int i = middle; i < c.steps().size(); i++) {
			parameters = binaryStep(c, id, true, parameters, i);
		}
	}

	// ---- (b) F16 and BF16 gradients --------------------------------------------------------------------------------

	@ParameterizedTest(name = "{0} gradients, {1} session")
	@MethodSource("halfDtypesAndPrecisions")
	void halfPrecisionGradientsShouldBeWidenedExactlyLikeTheSameValuesSentAsF32(String dtype, String precision) {
		int[] shape = { 2, 3 };
		// F16: 1, -2, 65504, 2^-24 (subnormal), -0, 0.333251953125; BF16: 1, 3.140625, -0, tiny, -2, 0.5
		int[] bits = dtype.equals("F16") ? new int[] { 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x3555 }
				: new int[] { 0x3F80, 0x4049, 0x8000, 0x0080, 0xC000, 0x3F00 };
		float[] values = dtype.equals("F16") ? new float[] { 1f, -2f, 65504f, 0x1p-24f, -0.0f, 0.333251953125f }
				: new float[] { 1f, 3.140625f, -0.0f, 0x1p-126f, -2f, 0.5f };
		double[] start = { 0.5, -0.25, 3.0, 1e-3, -7.0, 0.0 };
		String half = createSession(NODES.objectNode(), precision);
		String full = createSession(NODES.objectNode(), precision);
		byte[] parameter = precision.equals("float32") ? SafetensorsBytes.f32Bytes(toFloats(start))
				: SafetensorsBytes.f64Bytes(start);
		String parameterDtype = precision.equals("float32") ? "F32" : "F64";
		for (int step = 1; step <= 3; step++) {
			byte[] viaHalf = ok(send("POST", steps(half), OCTET, OCTET, SafetensorsBytes.builder()
				.tensor("w", parameterDtype, shape, parameter)
				.tensor("w.grad", dtype, shape, SafetensorsBytes.u16Bytes(bits))
				.build())).body();
			byte[] viaFull = ok(send("POST", steps(full), OCTET, OCTET,
					SafetensorsBytes.builder().tensor("w", parameterDtype, shape, parameter).f32("w.grad", shape, values).build()))
				.body();

			assertThat(viaHalf).as("step " + step).isEqualTo(viaFull);
			Entry w = SafetensorsBytes.parse(viaHalf).tensors().get("w");
			assertThat(w.dtype()).isEqualTo(parameterDtype);
			assertThat(w.bytes()).isNotEqualTo(parameter);
			parameter = w.bytes();
		}
		assertThat(ok(send("GET", stateOf(half), null, OCTET, null)).body())
			.isEqualTo(ok(send("GET", stateOf(full), null, OCTET, null)).body());
	}

	@Test
	void halfPrecisionGradientsShouldBeAcceptedBySessionsHoldingTheirParameters() {
		String half = createSession(NODES.objectNode(), "float64");
		String full = createSession(NODES.objectNode(), "float64");
		byte[] parameters = SafetensorsBytes.builder().f64("w", new int[] { 2 }, 1.0, -1.0).build();
		assertThat(send("PUT", parametersPath(half), OCTET, JSON_TYPE, parameters).statusCode()).isEqualTo(204);
		assertThat(send("PUT", parametersPath(full), OCTET, JSON_TYPE, parameters).statusCode()).isEqualTo(204);

		byte[] viaHalf = ok(send("POST", steps(half), OCTET, OCTET,
				SafetensorsBytes.builder().f16("w.grad", new int[] { 2 }, 0x3800, 0xB400).build())).body();
		byte[] viaFull = ok(send("POST", steps(full), OCTET, OCTET,
				SafetensorsBytes.builder().f32("w.grad", new int[] { 2 }, 0.5f, -0.25f).build())).body();

		assertThat(viaHalf).isEqualTo(viaFull);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("halfDtypes")
	void halfPrecisionParametersShouldBeRejectedWith400AndChangeNothing(String dtype) {
		String id = createSession(NODES.objectNode(), "float64");
		ok(send("POST", steps(id), OCTET, OCTET, SafetensorsBytes.builder()
			.f64("w", new int[] { 2 }, 1, 2)
			.f64("w.grad", new int[] { 2 }, 1, 1)
			.build()));
		byte[] before = ok(send("GET", stateOf(id), null, OCTET, null)).body();

		byte[] step = SafetensorsBytes.builder()
			.tensor("w", dtype, new int[] { 2 }, SafetensorsBytes.u16Bytes(0x3C00, 0x3C00))
			.f64("w.grad", new int[] { 2 }, 1, 1)
			.build();
		assertInvalidSafetensors(send("POST", steps(id), OCTET, OCTET, step), List.of("tensor 'w'", dtype));
		byte[] put = SafetensorsBytes.builder()
			.tensor("w", dtype, new int[] { 2 }, SafetensorsBytes.u16Bytes(0x3C00, 0x3C00))
			.build();
		assertInvalidSafetensors(send("PUT", parametersPath(id), OCTET, JSON_TYPE, put), List.of("tensor 'w'", dtype));

		assertThat(ok(send("GET", stateOf(id), null, OCTET, null)).body()).isEqualTo(before);
	}

	@Test
	void checkpointWithHalfPrecisionMomentsShouldBeRejectedWith400() {
		String id = createSession(NODES.objectNode(), "float64");
		ok(send("POST", steps(id), OCTET, OCTET, SafetensorsBytes.builder()
			.f64("w", new int[] { 2 }, 1, 2)
			.f64("w.grad", new int[] { 2 }, 1, 1)
			.build()));
		Parsed checkpoint = SafetensorsBytes.parse(ok(send("GET", stateOf(id), null, OCTET, null)).body());
		Builder forged = SafetensorsBytes.builder();
		checkpoint.metadata().forEach(forged::metadata);
		forged.tensor("w.firstMoment", "F16", new int[] { 2 }, SafetensorsBytes.u16Bytes(0x3C00, 0x3C00));
		forged.tensor("w.secondMoment", "F64", new int[] { 2 }, checkpoint.tensors().get("w.secondMoment").bytes());
		List<String> before = sessionIds();

		assertInvalidSafetensors(send("POST", "/v1/sessions", OCTET, JSON_TYPE, forged.build()),
				List.of("w.firstMoment", "F16"));
		assertThat(sessionIds()).isEqualTo(before);
	}

	// ---- (c) the parameters resource -------------------------------------------------------------------------------

	@Test
	void getParametersShouldAnswerJsonAndSafetensorsWithTheSameValues() {
		String id = createSession(NODES.objectNode(), "float64");
		double[] w = { -0.0, Double.MIN_VALUE, Double.MAX_VALUE, 1.0 / 3, -2.5, 1e-300 };
		byte[] file = SafetensorsBytes.builder()
			.f64("w", new int[] { 2, 3 }, w)
			.f64("s", new int[0], 42.0)
			.f64("e", new int[] { 2, 0 })
			.build();
		assertThat(send("PUT", parametersPath(id), OCTET, JSON_TYPE, file).statusCode()).isEqualTo(204);

		HttpResponse<byte[]> binary = ok(send("GET", parametersPath(id), null, OCTET, null));
		assertThat(contentType(binary)).isEqualTo(OCTET);
		Parsed parsed = SafetensorsBytes.parse(binary.body());
		assertThat(parsed.tensors().keySet()).containsExactly("w", "s", "e");
		assertThat(parsed.tensors().get("w").bytes()).isEqualTo(SafetensorsBytes.f64Bytes(w));
		assertThat(parsed.tensors().get("w").shape()).containsExactly(2, 3);
		assertThat(parsed.tensors().get("s").shape()).isEmpty();
		assertThat(parsed.tensors().get("s").f64()).containsExactly(42.0);
		assertThat(parsed.tensors().get("e").shape()).containsExactly(2, 0);

		HttpResponse<byte[]> json = ok(send("GET", parametersPath(id), null, JSON_TYPE, null));
		assertThat(contentType(json)).isEqualTo(JSON_TYPE);
		JsonNode tree = JSON.readTree(json.body());
		assertThat(names(tree)).containsExactly("w", "s", "e");
		assertBitExact("w", T.of(tree.get("w")), new T(new int[] { 2, 3 }, w));
		assertThat(tree.get("s").asDouble()).isEqualTo(42.0);
		assertThat(tree.get("e").toString()).isEqualTo("[[],[]]");
		// no Accept header: JSON
		assertThat(contentType(ok(send("GET", parametersPath(id), null, null, null)))).isEqualTo(JSON_TYPE);
	}

	@Test
	void putParametersShouldConvertToTheSessionsPrecision() {
		String float64 = createSession(NODES.objectNode(), "float64");
		String float32 = createSession(NODES.objectNode(), "float32");
		float[] floats = { 0.1f, -0.0f, Float.MIN_VALUE };
		double[] doubles = { 0.1, 1.0 / 3, -1e-30 };

		assertThat(send("PUT", parametersPath(float64), OCTET, JSON_TYPE,
				SafetensorsBytes.builder().f32("w", new int[] { 3 }, floats).build()).statusCode()).isEqualTo(204);
		assertThat(send("PUT", parametersPath(float32), OCTET, JSON_TYPE,
				SafetensorsBytes.builder().f64("w", new int[] { 3 }, doubles).build()).statusCode()).isEqualTo(204);

		Entry widened = SafetensorsBytes.parse(ok(send("GET", parametersPath(float64), null, OCTET, null)).body())
			.tensors()
			.get("w");
		assertThat(widened.dtype()).isEqualTo("F64");
		assertThat(doubleBits(widened.f64())).isEqualTo(doubleBits(widen(floats)));
		Entry narrowed = SafetensorsBytes.parse(ok(send("GET", parametersPath(float32), null, OCTET, null)).body())
			.tensors()
			.get("w");
		assertThat(narrowed.dtype()).isEqualTo("F32");
		assertThat(floatBits(narrowed.f32())).isEqualTo(floatBits(toFloats(doubles)));
	}

	@Test
	void putParametersAsJsonShouldBeReadableAsSafetensors() {
		String id = createSession(NODES.objectNode(), "float64");
		HttpResponse<byte[]> put = send("PUT", parametersPath(id), JSON_TYPE, JSON_TYPE,
				"{\"w\": [[0.5, -0.0], [1e-310, 3]], \"b\": 7}".getBytes());
		assertThat(put.statusCode()).isEqualTo(204);

		Parsed parsed = SafetensorsBytes.parse(ok(send("GET", parametersPath(id), null, OCTET, null)).body());

		assertThat(parsed.tensors().get("w").bytes()).isEqualTo(SafetensorsBytes.f64Bytes(0.5, -0.0, 1e-310, 3));
		assertThat(parsed.tensors().get("b").f64()).containsExactly(7.0);
	}

	@Test
	void getParametersWhenTheSessionHoldsNoneShouldAnswer409InEitherMediaType() {
		String fresh = createSession(NODES.objectNode(), "float64");
		String clientHeld = createSession(NODES.objectNode(), "float64");
		ok(send("POST", steps(clientHeld), OCTET, OCTET,
				SafetensorsBytes.builder().f64("w", new int[] { 1 }, 1).f64("w.grad", new int[] { 1 }, 1).build()));

		for (String id : List.of(fresh, clientHeld)) {
			for (String accept : List.of(OCTET, JSON_TYPE)) {
				HttpResponse<byte[]> response = send("GET", parametersPath(id), null, accept, null);
				assertThat(response.statusCode()).as(accept).isEqualTo(409);
				assertThat(contentType(response)).isEqualTo(PROBLEM);
				JsonNode problem = JSON.readTree(response.body());
				assertThat(problem.get("type").asString()).isEqualTo("/problems/parameters-not-held");
				assertThat(problem.get("detail").asString()).contains("/parameters");
			}
		}
	}

	@Test
	void putParametersWithWrongNamesOrShapesShouldAnswer4xxAndChangeNothing() {
		String id = createSession(NODES.objectNode(), "float64");
		byte[] initial = SafetensorsBytes.builder()
			.f64("w", new int[] { 2 }, 1, 2)
			.f64("b", new int[] { 1, 3 }, 3, 4, 5)
			.build();
		assertThat(send("PUT", parametersPath(id), OCTET, JSON_TYPE, initial).statusCode()).isEqualTo(204);
		ok(send("POST", steps(id), OCTET, OCTET, SafetensorsBytes.builder()
			.f64("w.grad", new int[] { 2 }, 0.5, -0.5)
			.f64("b.grad", new int[] { 1, 3 }, 1, 1, 1)
			.build()));
		byte[] state = ok(send("GET", stateOf(id), null, OCTET, null)).body();
		byte[] held = ok(send("GET", parametersPath(id), null, OCTET, null)).body();

		Map<String, byte[]> wrong = new LinkedHashMap<>();
		wrong.put("unknown name", SafetensorsBytes.builder()
			.f64("w", new int[] { 2 }, 1, 2)
			.f64("x", new int[] { 1, 3 }, 3, 4, 5)
			.build());
		wrong.put("missing tensor", SafetensorsBytes.builder().f64("w", new int[] { 2 }, 9, 9).build());
		wrong.put("wrong shape", SafetensorsBytes.builder()
			.f64("w", new int[] { 2 }, 1, 2)
			.f64("b", new int[] { 3 }, 3, 4, 5)
			.build());
		wrong.put("extra tensor", SafetensorsBytes.builder()
			.f64("w", new int[] { 2 }, 1, 2)
			.f64("b", new int[] { 1, 3 }, 3, 4, 5)
			.f64("c", new int[] { 1 }, 6)
			.build());
		wrong.put("gradient name", SafetensorsBytes.builder()
			.f64("w", new int[] { 2 }, 1, 2)
			.f64("b.grad", new int[] { 1, 3 }, 3, 4, 5)
			.build());
		wrong.forEach((what, file) -> {
			HttpResponse<byte[]> response = send("PUT", parametersPath(id), OCTET, JSON_TYPE, file);
			assertThat(response.statusCode()).as(what).isBetween(400, 499);
			assertThat(contentType(response)).as(what).isEqualTo(PROBLEM);
			assertThat(JSON.readTree(response.body()).get("detail").asString()).as(what).isNotBlank();
		});

		assertThat(ok(send("GET", stateOf(id), null, OCTET, null)).body()).isEqualTo(state);
		assertThat(ok(send("GET", parametersPath(id), null, OCTET, null)).body()).isEqualTo(held);
	}

	@Test
	void putParametersOnAFreshSessionShouldFixItsTensors() {
		String id = createSession(NODES.objectNode(), "float64");
		assertThat(send("PUT", parametersPath(id), OCTET, JSON_TYPE,
				SafetensorsBytes.builder().f64("w", new int[] { 2 }, 1, 2).build()).statusCode()).isEqualTo(204);

		JsonNode session = JSON.readTree(ok(send("GET", "/v1/sessions/" + id, null, JSON_TYPE, null)).body());
		assertThat(session.get("holdsParameters").asBoolean()).isTrue();
		assertThat(session.get("tensors").get(0).get("name").asString()).isEqualTo("w");
		assertThat(session.get("tensors").get(0).get("step").asLong()).isZero();
		HttpResponse<byte[]> step = send("POST", steps(id), OCTET, OCTET,
				SafetensorsBytes.builder().f64("v.grad", new int[] { 2 }, 1, 1).build());
		assertThat(step.statusCode()).isEqualTo(422);
		assertThat(JSON.readTree(step.body()).get("detail").asString()).contains("'v'");
	}

	// ---- (d) malformed files ---------------------------------------------------------------------------------------

	@ParameterizedTest(name = "[{index}] {0}")
	@MethodSource("malformedOverHttp")
	void stepWithAMalformedFileShouldAnswerInvalidSafetensorsAndChangeNothing(Malformed malformed) {
		String id = heldSession();
		byte[] before = ok(send("GET", stateOf(id), null, OCTET, null)).body();

		HttpResponse<byte[]> response = send("POST", steps(id), OCTET, OCTET, malformed.bytes(), !malformed.lengthKnown());

		assertInvalidSafetensors(response, malformed.culprits());
		assertThat(ok(send("GET", stateOf(id), null, OCTET, null)).body()).isEqualTo(before);
	}

	@ParameterizedTest(name = "[{index}] {0}")
	@MethodSource("malformedOverHttp")
	void putParametersAndResumeWithAMalformedFileShouldAnswerInvalidSafetensorsAndChangeNothing(Malformed malformed) {
		String id = heldSession();
		byte[] before = ok(send("GET", stateOf(id), null, OCTET, null)).body();
		List<String> sessions = sessionIds();

		assertInvalidSafetensors(send("PUT", parametersPath(id), OCTET, JSON_TYPE, malformed.bytes(),
				!malformed.lengthKnown()), malformed.culprits());
		assertInvalidSafetensors(send("POST", "/v1/sessions", OCTET, JSON_TYPE, malformed.bytes(),
				!malformed.lengthKnown()), malformed.culprits());

		assertThat(ok(send("GET", stateOf(id), null, OCTET, null)).body()).isEqualTo(before);
		assertThat(sessionIds()).isEqualTo(sessions);
	}

	@ParameterizedTest(name = "[{index}] {0}")
	@MethodSource("nonFiniteOverHttp")
	void nonFiniteValuesInABinaryStepShouldBeA422GradientOrA400ParameterAndChangeNothing(Malformed file) {
		String id = createSession(NODES.objectNode(), "float64");
		boolean gradient = file.culprits().get(0).equals("tensor 'w.grad'");

		HttpResponse<byte[]> response = send("POST", steps(id), OCTET, OCTET, file.bytes());

		String body = new String(response.body());
		assertThat(response.statusCode()).as(body).isEqualTo(gradient ? 422 : 400);
		JsonNode problem = JSON.readTree(response.body());
		assertThat(problem.get("type").asString()).as(body)
			.isEqualTo(gradient ? "/problems/non-finite-gradient" : "/problems/invalid-tensor");
		assertThat(problem.get("detail").asString()).contains(gradient ? "gradient 'w'" : "parameter 'w'")
			.contains(file.culprits().subList(1, file.culprits().size()));
		JsonNode session = JSON.readTree(ok(send("GET", "/v1/sessions/" + id, null, JSON_TYPE, null)).body());
		assertThat(session.get("step").asLong()).isZero();
		assertThat(session.get("tensors").size()).isZero();
	}

	@Test
	void stepWithAnEmptyBinaryBodyShouldAnswer400AndChangeNothing() {
		String id = heldSession();
		byte[] before = ok(send("GET", stateOf(id), null, OCTET, null)).body();

		HttpResponse<byte[]> response = send("POST", steps(id), OCTET, OCTET, new byte[0]);

		assertThat(response.statusCode()).isEqualTo(400);
		assertThat(contentType(response)).isEqualTo(PROBLEM);
		assertThat(ok(send("GET", stateOf(id), null, OCTET, null)).body()).isEqualTo(before);
	}

	@Test
	void stepDeclaringAHugeTensorWithoutSendingItShouldBeRefusedBeforeAllocatingIt() {
		String id = heldSession();
		long elements = Integer.MAX_VALUE - 8;
		byte[] file = SafetensorsBytes.builder()
			.entry("w.grad", "F64", new long[] { elements }, 0, 8 * elements, SafetensorsBytes.f64Bytes(1, 2))
			.build();

		// with a Content-Length the offsets are seen to run past the body
		assertInvalidSafetensors(send("POST", steps(id), OCTET, OCTET, file, false), List.of("tensor 'w.grad'"));
		// chunked, the header's claim of 17 GB is weighed against the memory budget before any data is read
		HttpResponse<byte[]> chunked = send("POST", steps(id), OCTET, OCTET, file, true);
		assertThat(chunked.statusCode()).isEqualTo(507);
		assertThat(new String(chunked.body(), StandardCharsets.UTF_8)).contains("/problems/insufficient-storage",
				"needs " + (8 * elements + Tensor.OVERHEAD_BYTES) + " bytes");
	}

	@Test
	void checkpointWhoseMetadataIsIncompleteShouldAnswer400NamingTheKey() {
		String id = heldSession();
		Parsed checkpoint = SafetensorsBytes.parse(ok(send("GET", stateOf(id), null, OCTET, null)).body());
		for (String key : List.of("optimizer", "step", "tensorSteps")) {
			Builder forged = SafetensorsBytes.builder();
			checkpoint.metadata().forEach((k, v) -> {
				if (!k.equals(key)) {
					forged.metadata(k, v);
				}
			});
			checkpoint.tensors().forEach((name, entry) -> forged.tensor(name, entry.dtype(), entry.shape(), entry.bytes()));

			HttpResponse<byte[]> response = send("POST", "/v1/sessions", OCTET, JSON_TYPE, forged.build());

			assertInvalidSafetensors(response, List.of("__metadata__." + key));
		}
	}

	// ---- (e) a large tensor ----------------------------------------------------------------------------------------

	@ParameterizedTest(name = "chunked: {0}")
	@MethodSource("booleans")
	void stepOverAMillionElementF64TensorWithAZeroGradientShouldReturnTheSameBytes(boolean chunked) {
		String id = createSession(NODES.objectNode(), "float64");
		int[] shape = { 1000, 1000 };
		double[] values = new Random(42).doubles(1_000_000, -1e3, 1e3).toArray();
		values[17] = -0.0;
		values[18] = Double.MIN_VALUE;
		byte[] parameter = SafetensorsBytes.f64Bytes(values);
		byte[] file = SafetensorsBytes.builder()
			.tensor("w", "F64", shape, parameter)
			.tensor("w.grad", "F64", shape, new byte[parameter.length])
			.build();

		HttpResponse<byte[]> response = ok(send("POST", steps(id), OCTET, OCTET, file, chunked));

		Entry w = SafetensorsBytes.parse(response.body()).tensors().get("w");
		assertThat(w.dtype()).isEqualTo("F64");
		assertThat(w.shape()).containsExactly(1000, 1000);
		assertThat(Arrays.equals(w.bytes(), parameter)).as("the parameter's bytes come back unchanged").isTrue();

		// and a real step over it agrees with the same step through JSON on a few elements
		byte[] gradient = SafetensorsBytes.f64Bytes(new Random(7).doubles(1_000_000, -1, 1).toArray());
		Entry stepped = SafetensorsBytes.parse(ok(send("POST", steps(id), OCTET, OCTET, SafetensorsBytes.builder()
			.tensor("w", "F64", shape, parameter)
			.tensor("w.grad", "F64", shape, gradient)
			.build(), chunked)).body()).tensors().get("w");
		assertThat(Arrays.equals(stepped.bytes(), parameter)).isFalse();
		double[] g = new Entry("F64", shape, gradient).f64();
		double[] p = stepped.f64();
		for (int i : new int[] { 0, 1, 999_999, 123_456 }) {
			// second Adam step, beta1 0.9: the moving average has one zero and one g; the update moves against g
			assertThat(Math.signum(p[i] - values[i])).as("element %d", i).isEqualTo(-Math.signum(g[i]));
		}
	}

	// ---- helpers: the reference cases --------------------------------------------------------------------------------

	/** A reference run; tensors in the order of initialParameters. */
	record Case(String name, String precision, JsonNode optimizer, JsonNode initial, List<JsonNode> steps) {

		String dtype() {
			return this.precision.equals("float32") ? "F32" : "F64";
		}

		Map<String, T> initialParameters() {
			return tensors(this.initial);
		}

		@Override
		public String toString() {
			return this.name;
		}

	}

	static Stream<Case> cases() {
		try {
			Resource[] resources = new PathMatchingResourcePatternResolver().getResources("classpath:reference/*.json");
			assertThat(resources).as("reference cases on the classpath").hasSizeGreaterThanOrEqualTo(11);
			List<Case> cases = new ArrayList<>();
			for (Resource resource : resources) {
				try (InputStream in = resource.getInputStream()) {
					JsonNode root = JSON.readTree(in);
					List<JsonNode> steps = new ArrayList<>();
					root.get("steps").forEach(steps::add);
					cases.add(new Case(root.get("name").asString(), root.get("precision").asString(),
							root.get("optimizer"), root.get("initialParameters"), steps));
				}
			}
			cases.sort(Comparator.comparing(Case::name));
			return cases.stream();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	static Stream<Arguments> casesByHolder() {
		return cases().flatMap(c -> Stream.of(Arguments.of(c, "service-held"), Arguments.of(c, "client-held")));
	}

	static Stream<Arguments> halfDtypesAndPrecisions() {
		return Stream.of(Arguments.of("F16", "float64"), Arguments.of("F16", "float32"), Arguments.of("BF16", "float64"),
				Arguments.of("BF16", "float32"));
	}

	static Stream<String> halfDtypes() {
		return Stream.of("F16", "BF16");
	}

	static Stream<Boolean> booleans() {
		return Stream.of(false, true);
	}

	static Stream<Malformed> malformedOverHttp() {
		// an empty body never reaches the converter: Spring answers "body missing" (tested on its own); NaN and
		// infinities are well-formed safetensors whose meaning the session decides (nonFiniteOverHttp)
		return SafetensorsBytes.malformed().stream().filter(m -> m.bytes().length > 0).filter(m -> !nonFinite(m));
	}

	static Stream<Malformed> nonFiniteOverHttp() {
		return SafetensorsBytes.malformed().stream().filter(SafetensorsHttpTest::nonFinite);
	}

	private static boolean nonFinite(Malformed m) {
		return m.description().contains("NaN") || m.description().contains("Infinity");
	}

	private static Case findCase(String name) {
		return cases().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
	}

	/** One step of {@code c} in binary; checks the answer against the reference and returns the new parameters. */
	private Map<String, T> binaryStep(Case c, String id, boolean held, Map<String, T> parameters, int i) {
		JsonNode step = c.steps().get(i);
		byte[] file = stepFile(held ? Map.of() : parameters, gradients(step), c.dtype());
		Parsed answer = SafetensorsBytes.parse(ok(send("POST", steps(id), OCTET, OCTET, file)).body());
		assertThat(answer.metadata()).containsEntry("step", Integer.toString(i + 1));
		return assertParameters(c + " step " + (i + 1), answer, c.dtype(), step.get("expectedParameters"));
	}

	/** Checks a binary checkpoint after {@code steps} steps against the reference's state and parameters. */
	private static void assertCheckpoint(Case c, Parsed checkpoint, int steps, boolean held) {
		boolean amsgrad = c.optimizer().get("amsgrad").asBoolean();
		JsonNode last = c.steps().get(steps - 1);
		assertThat(checkpoint.metadata()).containsEntry("precision", c.precision())
			.containsEntry("step", Integer.toString(steps))
			.containsEntry("holdsParameters", Boolean.toString(held))
			.containsKeys("format", "optimizer", "tensorSteps");
		// every field resolved: the reference's, and the non-finite policy's default
		ObjectNode optimizer = ((ObjectNode) c.optimizer()).deepCopy();
		optimizer.put("nonFinite", "error");
		assertThat(JSON.readTree(checkpoint.metadata().get("optimizer"))).isEqualTo(optimizer);
		JsonNode tensorSteps = JSON.readTree(checkpoint.metadata().get("tensorSteps"));
		assertThat(names(tensorSteps)).containsExactlyElementsOf(names(c.initial()));
		List<String> expectedKeys = new ArrayList<>();
		for (String name : names(c.initial())) {
			expectedKeys.add(name + ".firstMoment");
			expectedKeys.add(name + ".secondMoment");
			if (amsgrad) {
				expectedKeys.add(name + ".maxSecondMoment");
			}
			if (held) {
				expectedKeys.add(name + ".parameter");
			}
			JsonNode state = last.get("expectedState").get(name);
			T zeros = T.of(c.initial().get(name)).zeros();
			long step = (state == null) ? 0 : state.get("step").asLong();
			assertThat(tensorSteps.get(name).asLong()).as(name + " step").isEqualTo(step);
			assertEntry(c + " " + name + ".firstMoment", checkpoint.tensors().get(name + ".firstMoment"), c.dtype(),
					(state == null) ? zeros : T.of(state.get("firstMoment")));
			assertEntry(c + " " + name + ".secondMoment", checkpoint.tensors().get(name + ".secondMoment"), c.dtype(),
					(state == null) ? zeros : T.of(state.get("secondMoment")));
			if (amsgrad) {
				assertEntry(c + " " + name + ".maxSecondMoment", checkpoint.tensors().get(name + ".maxSecondMoment"),
						c.dtype(), (state == null) ? zeros : T.of(state.get("maxSecondMoment")));
			}
			if (held) {
				assertEntry(c + " " + name + ".parameter", checkpoint.tensors().get(name + ".parameter"), c.dtype(),
						T.of(last.get("expectedParameters").get(name)));
			}
		}
		assertThat(checkpoint.tensors().keySet()).containsExactlyInAnyOrderElementsOf(expectedKeys);
	}

	// ---- helpers: tensors ------------------------------------------------------------------------------------------

	/** A test-side tensor: shape and float64 values (float32 tensors hold float-exact values). */
	record T(int[] shape, double[] values) {

		static T of(JsonNode node) {
			List<Integer> shape = new ArrayList<>();
			JsonNode probe = node;
			while (probe.isArray()) {
				shape.add(probe.size());
				if (probe.isEmpty()) {
					break;
				}
				probe = probe.get(0);
			}
			List<Double> values = new ArrayList<>();
			flatten(node, values);
			return new T(shape.stream().mapToInt(Integer::intValue).toArray(),
					values.stream().mapToDouble(Double::doubleValue).toArray());
		}

		private static void flatten(JsonNode node, List<Double> into) {
			if (node.isArray()) {
				node.forEach(child -> flatten(child, into));
			}
			else {
				assertThat(node.isNumber()).as("tensor element " + node).isTrue();
				into.add(node.asDouble());
			}
		}

		float[] floats() {
			return toFloats(this.values);
		}

		T roundedToFloat() {
			return new T(this.shape, widen(floats()));
		}

		T zeros() {
			return new T(this.shape, new double[this.values.length]);
		}

		JsonNode toJson() {
			if (this.shape.length == 0) {
				return NODES.numberNode(this.values[0]);
			}
			return nest(0, 0);
		}

		private ArrayNode nest(int axis, int offset) {
			ArrayNode array = NODES.arrayNode();
			int stride = 1;
			for (int i = axis + 1; i < this.shape.length; i++) {
				stride *= this.shape[i];
			}
			for (int i = 0; i < this.shape[axis]; i++) {
				if (axis == this.shape.length - 1) {
					array.add(this.values[offset + i]);
				}
				else {
					array.add(nest(axis + 1, offset + i * stride));
				}
			}
			return array;
		}

	}

	private static Map<String, T> tensors(JsonNode object) {
		Map<String, T> tensors = new LinkedHashMap<>();
		for (String name : names(object)) {
			tensors.put(name, T.of(object.get(name)));
		}
		return tensors;
	}

	private static Map<String, T> gradients(JsonNode step) {
		return tensors(step.get("gradients"));
	}

	private static JsonNode toJson(Map<String, T> tensors) {
		ObjectNode object = NODES.objectNode();
		tensors.forEach((name, t) -> object.set(name, t.toJson()));
		return object;
	}

	private static List<String> names(JsonNode object) {
		return new ArrayList<>(object.propertyNames());
	}

	/** A step in safetensors: each parameter under its name, each gradient under name.grad, all in {@code dtype}. */
	private static byte[] stepFile(Map<String, T> parameters, Map<String, T> gradients, String dtype) {
		return stepFile(parameters, dtype, gradients, dtype);
	}

	private static byte[] stepFile(Map<String, T> parameters, String parameterDtype, Map<String, T> gradients,
			String gradientDtype) {
		Builder builder = SafetensorsBytes.builder();
		parameters.forEach((name, t) -> add(builder, name, t, parameterDtype));
		gradients.forEach((name, t) -> add(builder, name + ".grad", t, gradientDtype));
		return builder.build();
	}

	private static byte[] parameterFile(Map<String, T> parameters, String dtype) {
		return stepFile(parameters, Map.of(), dtype);
	}

	private static void add(Builder builder, String name, T t, String dtype) {
		if (dtype.equals("F32")) {
			float[] floats = t.floats();
			assertThat(widen(floats)).as(name + " is float32-exact").isEqualTo(t.values());
			builder.f32(name, t.shape(), floats);
		}
		else {
			builder.f64(name, t.shape(), t.values());
		}
	}

	private static ObjectNode stepJson(Map<String, T> parameters, JsonNode gradients) {
		ObjectNode body = NODES.objectNode();
		body.set("parameters", toJson(parameters));
		body.set("gradients", gradients);
		return body;
	}

	/**
	 * Checks a binary answer: exactly the expected tensors, in order, each in {@code dtype}, bit for bit equal to the
	 * expected values; returns them for the next step.
	 */
	private static Map<String, T> assertParameters(String context, Parsed answer, String dtype, JsonNode expected) {
		assertThat(answer.tensors().keySet()).as(context).containsExactlyElementsOf(names(expected));
		Map<String, T> next = new LinkedHashMap<>();
		for (String name : names(expected)) {
			Entry entry = answer.tensors().get(name);
			T t = assertEntry(context + " " + name, entry, dtype, T.of(expected.get(name)));
			next.put(name, t);
		}
		return next;
	}

	private static T assertEntry(String context, Entry entry, String dtype, T expected) {
		assertThat(entry).as(context).isNotNull();
		assertThat(entry.dtype()).as(context + " dtype").isEqualTo(dtype);
		assertThat(entry.shape()).as(context + " shape").isEqualTo(expected.shape());
		T actual = new T(entry.shape(), dtype.equals("F32") ? widen(entry.f32()) : entry.f64());
		if (dtype.equals("F32")) {
			assertThat(floatBits(entry.f32())).as(context).isEqualTo(floatBits(expected.floats()));
		}
		assertBitExact(context, actual, expected);
		return actual;
	}

	private static void assertBitExact(String context, T actual, T expected) {
		assertThat(actual.shape()).as(context + " shape").isEqualTo(expected.shape());
		assertThat(doubleBits(actual.values())).as(context + " " + Arrays.toString(actual.values()) + " vs "
				+ Arrays.toString(expected.values())).isEqualTo(doubleBits(expected.values()));
	}

	private static float[] toFloats(double[] values) {
		float[] floats = new float[values.length];
		for (int i = 0; i < values.length; i++) {
			floats[i] = (float) values[i];
		}
		return floats;
	}

	private static double[] widen(float[] values) {
		double[] doubles = new double[values.length];
		for (int i = 0; i < values.length; i++) {
			doubles[i] = values[i];
		}
		return doubles;
	}

	private static long[] doubleBits(double[] values) {
		return Arrays.stream(values).mapToLong(Double::doubleToRawLongBits).toArray();
	}

	private static int[] floatBits(float[] values) {
		int[] bits = new int[values.length];
		for (int i = 0; i < values.length; i++) {
			bits[i] = Float.floatToRawIntBits(values[i]);
		}
		return bits;
	}

	// ---- helpers: HTTP ---------------------------------------------------------------------------------------------

	private String createSession(Case c) {
		return createSession(c.optimizer(), c.precision());
	}

	private String createSession(JsonNode optimizer, String precision) {
		ObjectNode body = NODES.objectNode();
		body.set("optimizer", optimizer);
		body.put("precision", precision);
		HttpResponse<byte[]> response = send("POST", "/v1/sessions", JSON_TYPE, JSON_TYPE, jsonBytes(body));
		assertThat(response.statusCode()).as(new String(response.body())).isEqualTo(201);
		return JSON.readTree(response.body()).get("id").asString();
	}

	/** A float64 session holding w = [1, 2] that has taken one step. */
	private String heldSession() {
		String id = createSession(NODES.objectNode(), "float64");
		assertThat(send("PUT", parametersPath(id), OCTET, JSON_TYPE,
				SafetensorsBytes.builder().f64("w", new int[] { 2 }, 1, 2).build()).statusCode()).isEqualTo(204);
		ok(send("POST", steps(id), OCTET, OCTET,
				SafetensorsBytes.builder().f64("w.grad", new int[] { 2 }, 0.5, -0.5).build()));
		return id;
	}

	private List<String> sessionIds() {
		List<String> ids = new ArrayList<>();
		JSON.readTree(ok(send("GET", "/v1/sessions", null, JSON_TYPE, null)).body())
			.get("sessions")
			.forEach(session -> ids.add(session.get("id").asString()));
		return ids;
	}

	private static void assertInvalidSafetensors(HttpResponse<byte[]> response, List<String> culprits) {
		String body = new String(response.body());
		assertThat(response.statusCode()).as(body).isEqualTo(400);
		assertThat(contentType(response)).as(body).isEqualTo(PROBLEM);
		JsonNode problem = JSON.readTree(response.body());
		assertThat(problem.get("type").asString()).as(body).isEqualTo("/problems/invalid-safetensors");
		assertThat(problem.get("title").asString()).isEqualTo("Invalid safetensors file");
		assertThat(problem.get("status").asInt()).isEqualTo(400);
		assertThat(problem.get("detail").asString()).contains(culprits);
	}

	private static String steps(String id) {
		return "/v1/sessions/" + id + "/steps";
	}

	private static String stateOf(String id) {
		return "/v1/sessions/" + id + "/state";
	}

	private static String parametersPath(String id) {
		return "/v1/sessions/" + id + "/parameters";
	}

	private static byte[] jsonBytes(JsonNode node) {
		return JSON.writeValueAsBytes(node);
	}

	private static String contentType(HttpResponse<?> response) {
		String value = response.headers().firstValue("Content-Type").orElse("");
		int semicolon = value.indexOf(';');
		return (semicolon < 0) ? value : value.substring(0, semicolon).trim();
	}

	private static HttpResponse<byte[]> ok(HttpResponse<byte[]> response) {
		assertThat(response.statusCode()).as(new String(response.body())).isEqualTo(200);
		return response;
	}

	private HttpResponse<byte[]> send(String method, String path, String contentType, String accept, byte[] body) {
		return send(method, path, contentType, accept, body, false);
	}

	/** Sends {@code body} with a Content-Length, or chunked (no length known up front) when {@code chunked}. */
	private HttpResponse<byte[]> send(String method, String path, String contentType, String accept, byte[] body,
			boolean chunked) {
		BodyPublisher publisher = (body == null) ? BodyPublishers.noBody()
				: chunked ? BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))
						: BodyPublishers.ofByteArray(body);
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path))
			.method(method, publisher);
		if (contentType != null) {
			request.header("Content-Type", contentType);
		}
		if (accept != null) {
			request.header("Accept", accept);
		}
		try {
			return HTTP.send(request.build(), BodyHandlers.ofByteArray());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
