package dev.adamopt.web;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

import dev.adamopt.security.SecurityLayerTestConfiguration;
import dev.adamopt.session.SessionLayerTestConfiguration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.JacksonModule;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link SessionController}: every endpoint against the real session layer, with the JSON wire format
 * pinned field by field and in order.
 */
@WebMvcTest(SessionController.class)
@Import({ JacksonConfiguration.class, SessionLayerTestConfiguration.class, SecurityLayerTestConfiguration.class })
class SessionControllerTest extends SessionApiTestSupport {

	private static final String UUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

	private static final String INSTANT = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z";

	private static final String DEFAULT_ADAM = "{\"algorithm\":\"adam\",\"learningRate\":0.001,\"beta1\":0.9,"
			+ "\"beta2\":0.999,\"epsilon\":1.0E-8,\"weightDecay\":0.0,\"amsgrad\":false,\"maximize\":false,\"nonFinite\":\"error\"}";

	private static final String HELD_PARAMETERS = "{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"b1\":[[0.0],[0.0]]}";

	@Autowired
	private JsonMapper jsonMapper;

	@Test
	void contextShouldUseTheApplicationsStrictJacksonConfiguration() {
		assertThat(this.jsonMapper.registeredModules()).extracting(JacksonModule::getModuleName)
			.contains("tensor", "strict-scalars");
	}

	@Test
	void createWithEmptyObjectShouldReturnCreatedSessionWithTorchDefaults() {
		MvcTestResult result = create("{}");
		String id = read(result).get("id").asString();
		assertThat(result).hasStatus(HttpStatus.CREATED)
			.hasContentType(MediaType.APPLICATION_JSON)
			.hasHeader("Location", "/v1/sessions/" + id);
		assertThat(body(result)).matches(pinned("{\"id\":\"<id>\",\"step\":0,\"optimizer\":" + DEFAULT_ADAM
				+ ",\"precision\":\"float64\",\"holdsParameters\":false,\"tensors\":[],"
				+ "\"createdAt\":\"<instant>\",\"lastUsedAt\":\"<instant>\",\"bytes\":512,\"skippedSteps\":0}"));
		JsonNode session = read(result);
		assertThat(session.get("lastUsedAt")).isEqualTo(session.get("createdAt"));
		assertThat(this.mvc.get().uri("/v1/sessions/" + id)).hasStatusOk().hasBodyTextEqualTo(body(result));
	}

	@Test
	void createWithParametersShouldHoldThemAndFixTheTensors() {
		MvcTestResult result = create("{\"optimizer\":{\"algorithm\":\"adamw\",\"learningRate\":0.01,\"beta1\":0.8,"
				+ "\"beta2\":0.99,\"epsilon\":1e-6,\"amsgrad\":true,\"maximize\":true},\"precision\":\"float32\","
				+ "\"parameters\":" + HELD_PARAMETERS + "}");
		assertThat(result).hasStatus(HttpStatus.CREATED).hasContentType(MediaType.APPLICATION_JSON);
		assertThat(body(result)).matches(pinned("{\"id\":\"<id>\",\"step\":0,\"optimizer\":{\"algorithm\":\"adamw\","
				+ "\"learningRate\":0.01,\"beta1\":0.8,\"beta2\":0.99,\"epsilon\":1.0E-6,\"weightDecay\":0.01,"
				+ "\"amsgrad\":true,\"maximize\":true,\"nonFinite\":\"error\"},\"precision\":\"float32\",\"holdsParameters\":true,"
				+ "\"tensors\":[{\"name\":\"W1\",\"shape\":[2,2],\"step\":0},"
				+ "{\"name\":\"b1\",\"shape\":[2,1],\"step\":0}],"
				+ "\"createdAt\":\"<instant>\",\"lastUsedAt\":\"<instant>\",\"bytes\":864,\"skippedSteps\":0}"));
		String id = read(result).get("id").asString();
		assertThat(result).hasHeader("Location", "/v1/sessions/" + id);
	}

	@Test
	void createWithAdamwShouldTakeTorchsAdamwWeightDecay() {
		JsonNode session = read(create("{\"optimizer\":{\"algorithm\":\"adamw\"}}"));
		assertThat(session.at("/optimizer/weightDecay").doubleValue()).isEqualTo(0.01);
		assertThat(session.at("/optimizer/learningRate").doubleValue()).isEqualTo(0.001);
	}

	@Test
	void createWithStateShouldResumeTheCheckpointBitForBit() {
		String original = createId("{\"optimizer\":{\"amsgrad\":true,\"learningRate\":0.01},\"parameters\":"
				+ HELD_PARAMETERS + "}");
		assertThat(step(original, "{\"gradients\":{\"dW1\":[[0.01,-0.03],[0.02,0.0]],\"db1\":[[0.1],[-0.1]]}}"))
			.hasStatusOk();
		assertThat(step(original, "{\"gradients\":{\"W1\":[[0.3,0.1],[-0.7,0.2]]}}")).hasStatusOk();
		String checkpoint = body(this.mvc.get().uri("/v1/sessions/" + original + "/state").exchange());
		MvcTestResult resumed = create("{\"state\":" + checkpoint + "}");
		assertThat(resumed).hasStatus(HttpStatus.CREATED).hasContentType(MediaType.APPLICATION_JSON);
		String copy = read(resumed).get("id").asString();
		assertThat(copy).isNotEqualTo(original);
		assertThat(resumed).hasHeader("Location", "/v1/sessions/" + copy);
		assertThat(read(resumed).get("step").longValue()).isEqualTo(2);
		assertThat(this.mvc.get().uri("/v1/sessions/" + copy + "/state")).hasStatusOk()
			.hasBodyTextEqualTo(checkpoint);
		String next = "{\"gradients\":{\"dW1\":[[-0.05,0.02],[0.01,0.04]],\"db1\":[[0.3],[0.2]]}}";
		String fromOriginal = body(step(original, next));
		assertThat(step(copy, next)).hasStatusOk().hasBodyTextEqualTo(fromOriginal);
	}

	@Test
	void getShouldReturnTheSessionWithEachTensorsOwnStep() {
		String id = createId("{\"parameters\":" + HELD_PARAMETERS + "}");
		assertThat(step(id, "{\"gradients\":{\"dW1\":[[1,1],[1,1]]}}")).hasStatusOk();
		MvcTestResult result = this.mvc.get().uri("/v1/sessions/" + id).exchange();
		assertThat(result).hasStatusOk().hasContentType(MediaType.APPLICATION_JSON);
		assertThat(body(result)).matches(pinned("{\"id\":\"" + id + "\",\"step\":1,\"optimizer\":" + DEFAULT_ADAM
				+ ",\"precision\":\"float64\",\"holdsParameters\":true,\"tensors\":[{\"name\":\"W1\",\"shape\":[2,2],"
				+ "\"step\":1},{\"name\":\"b1\",\"shape\":[2,1],\"step\":0}],\"createdAt\":\"<instant>\","
				+ "\"lastUsedAt\":\"<instant>\",\"bytes\":1824,\"skippedSteps\":0}"));
	}

	@Test
	void listShouldReturnEveryLiveSessionOldestFirst() {
		String first = createId("{}");
		String second = createId("{\"precision\":\"float32\"}");
		MvcTestResult result = this.mvc.get().uri("/v1/sessions").exchange();
		assertThat(result).hasStatusOk().hasContentType(MediaType.APPLICATION_JSON);
		assertThat(body(result)).startsWith("{\"sessions\":[{\"id\":\"");
		List<JsonNode> sessions = new ArrayList<>();
		read(result).get("sessions").forEach(sessions::add);
		assertThat(sessions).extracting((session) -> session.get("id").asString()).containsSubsequence(first, second);
		assertThat(sessions).isSortedAccordingTo(
				Comparator.comparing((JsonNode session) -> Instant.parse(session.get("createdAt").asString()))
					.thenComparing((session) -> session.get("id").asString()));
		assertThat(body(result)).contains(body(this.mvc.get().uri("/v1/sessions/" + second).exchange()));
	}

	@Test
	void deleteShouldRemoveTheSession() {
		String id = createId("{}");
		MvcTestResult result = this.mvc.delete().uri("/v1/sessions/" + id).exchange();
		assertThat(result).hasStatus(HttpStatus.NO_CONTENT);
		assertThat(result).body().isEmpty();
		assertThat(this.mvc.get().uri("/v1/sessions/" + id)).hasStatus(HttpStatus.NOT_FOUND);
		assertThat(this.mvc.delete().uri("/v1/sessions/" + id)).hasStatus(HttpStatus.NOT_FOUND);
		assertThat(body(this.mvc.get().uri("/v1/sessions").exchange())).doesNotContain(id);
	}

	@Test
	void patchShouldChangeOnlyTheGivenFields() {
		String id = createId("{\"optimizer\":{\"algorithm\":\"adamw\",\"amsgrad\":true,\"beta1\":0.8}}");
		MvcTestResult result = patch(id, "{\"optimizer\":{\"learningRate\":0.0005,\"weightDecay\":0.1}}");
		assertThat(result).hasStatusOk().hasContentType(MediaType.APPLICATION_JSON);
		assertThat(body(result)).matches(pinned("{\"id\":\"" + id + "\",\"step\":0,\"optimizer\":{\"algorithm\":"
				+ "\"adamw\",\"learningRate\":5.0E-4,\"beta1\":0.8,\"beta2\":0.999,\"epsilon\":1.0E-8,"
				+ "\"weightDecay\":0.1,\"amsgrad\":true,\"maximize\":false,\"nonFinite\":\"error\"},\"precision\":\"float64\","
				+ "\"holdsParameters\":false,\"tensors\":[],\"createdAt\":\"<instant>\","
				+ "\"lastUsedAt\":\"<instant>\",\"bytes\":512,\"skippedSteps\":0}"));
		assertThat(this.mvc.get().uri("/v1/sessions/" + id)).hasStatusOk().hasBodyTextEqualTo(body(result));
	}

	@Test
	void patchShouldApplyToTheNextStep() {
		String slow = createId("{\"parameters\":{\"w\":[1.0]}}");
		String fast = createId("{\"optimizer\":{\"learningRate\":0.1},\"parameters\":{\"w\":[1.0]}}");
		assertThat(patch(slow, "{\"optimizer\":{\"learningRate\":0.1}}")).hasStatusOk();
		String gradients = "{\"gradients\":{\"w\":[0.5]}}";
		assertThat(step(slow, gradients)).hasStatusOk().hasBodyTextEqualTo(body(step(fast, gradients)));
	}

	@Test
	void stepShouldReturnTheStepCountAndEveryParameterInTheSessionsOrder() {
		String id = createId("{\"optimizer\":{\"learningRate\":0.01},\"parameters\":" + HELD_PARAMETERS + "}");
		MvcTestResult result = step(id, "{\"gradients\":{\"dW1\":[[0.01,-0.03],[0.02,0.0]]}}");
		assertThat(result).hasStatusOk().hasContentType(MediaType.APPLICATION_JSON);
		assertThat(body(result)).startsWith("{\"step\":1,\"parameters\":{"
				+ "\"W1\":[[0.49000000999999,-0.19000000333333222],[0.09000000499999751,0.3]],"
				+ "\"b1\":[[0.0],[0.0]]},\"learningRate\":0.01,\"gradNorm\":");
		JsonNode answer = read(result);
		assertThat(answer.get("gradNorm").asDouble()).isCloseTo(Math.sqrt(0.0001 + 0.0009 + 0.0004), within(1e-15));
		// the norm of what the step changed: W1 from [[0.5, -0.2], [0.1, 0.3]]
		double[] before = { 0.5, -0.2, 0.1, 0.3 };
		double changed = 0;
		for (int i = 0; i < 4; i++) {
			double d = answer.at("/parameters/W1/" + (i / 2) + "/" + (i % 2)).asDouble() - before[i];
			changed += d * d;
		}
		assertThat(answer.get("updateNorm").asDouble()).isCloseTo(Math.sqrt(changed), within(1e-15));
		assertThat(answer.get("clipped").asBoolean()).isFalse();
		assertThat(answer.get("skipped").asBoolean()).isFalse();
	}

	@Test
	void stepWhenGradientsAreNamedLikeTheTensorsShouldMatchTheirDPrefixedAliases() {
		String byName = createId("{\"parameters\":" + HELD_PARAMETERS + "}");
		String byAlias = createId("{\"parameters\":" + HELD_PARAMETERS + "}");
		String mixed = createId("{\"parameters\":" + HELD_PARAMETERS + "}");
		String expected = body(step(byName, "{\"gradients\":{\"W1\":[[0.1,0.2],[0.3,0.4]],\"b1\":[[0.5],[0.6]]}}"));
		assertThat(step(byAlias, "{\"gradients\":{\"dW1\":[[0.1,0.2],[0.3,0.4]],\"db1\":[[0.5],[0.6]]}}"))
			.hasStatusOk()
			.hasBodyTextEqualTo(expected);
		assertThat(step(mixed, "{\"gradients\":{\"db1\":[[0.5],[0.6]],\"W1\":[[0.1,0.2],[0.3,0.4]]}}")).hasStatusOk()
			.hasBodyTextEqualTo(expected);
	}

	@Test
	void stepWhenATensorHasNoGradientShouldLeaveItUnchangedAndNotAdvanceItsStep() {
		String id = createId("{}");
		MvcTestResult first = step(id,
				"{\"parameters\":{\"a\":[1.5,-2.5],\"b\":[[3.25]]},\"gradients\":{\"a\":[1,1]}}");
		assertThat(first).hasStatusOk();
		assertThat(read(first).at("/parameters/b").toString()).isEqualTo("[[3.25]]");
		MvcTestResult second = step(id, "{\"parameters\":{\"a\":[1.5,-2.5],\"b\":[[3.25]]},\"gradients\":{}}");
		assertThat(second).hasStatusOk()
			.hasBodyTextEqualTo("{\"step\":2,\"parameters\":{\"a\":[1.5,-2.5],\"b\":[[3.25]]},\"learningRate\":0.001,"
					+ "\"gradNorm\":0.0,\"updateNorm\":0.0,\"clipped\":false,\"skipped\":false}");
		JsonNode session = read(this.mvc.get().uri("/v1/sessions/" + id).exchange());
		assertThat(session.get("step").longValue()).isEqualTo(2);
		assertThat(session.get("tensors").toString())
			.isEqualTo("[{\"name\":\"a\",\"shape\":[2],\"step\":1},{\"name\":\"b\",\"shape\":[1,1],\"step\":0}]");
	}

	@Test
	void stepOnASessionThatDoesNotHoldParametersShouldFixNamesAndShapesOnTheFirstStep() {
		String id = createId("{}");
		assertThat(step(id, "{\"parameters\":{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"s\":2.0},\"gradients\":{\"dW1\":"
				+ "[[0.01,-0.03],[0.02,0.0]],\"ds\":0.5}}"))
			.hasStatusOk();
		JsonNode session = read(this.mvc.get().uri("/v1/sessions/" + id).exchange());
		assertThat(session.get("holdsParameters").booleanValue()).isFalse();
		assertThat(session.get("tensors").toString())
			.isEqualTo("[{\"name\":\"W1\",\"shape\":[2,2],\"step\":1},{\"name\":\"s\",\"shape\":[],\"step\":1}]");
	}

	@Test
	void stepWithScalarAndEmptyTensorsShouldReturnThemInTheShapeTheyWereSent() {
		String id = createId("{}");
		MvcTestResult result = step(id, "{\"parameters\":{\"s\":0.0,\"e\":[],\"z\":[[],[]]},\"gradients\":{\"s\":0.0,"
				+ "\"e\":[],\"z\":[[],[]]}}");
		assertThat(result).hasStatusOk()
			.hasBodyTextEqualTo("{\"step\":1,\"parameters\":{\"s\":0.0,\"e\":[],\"z\":[[],[]]},\"learningRate\":0.001,"
					+ "\"gradNorm\":0.0,\"updateNorm\":0.0,\"clipped\":false,\"skipped\":false}");
	}

	@Test
	void stepWithZeroGradientShouldHandEveryFloat64BackBitForBit() {
		List<Double> values = new ArrayList<>(List.of(0.0, -0.0, 4.9e-324, -4.9e-324, Double.MIN_NORMAL,
				Double.MAX_VALUE, -Double.MAX_VALUE, 0.1, 1.0 / 3, 2.0 / 3, 1e-300, 123456789.123456789));
		Random random = new Random(20240101);
		while (values.size() < 512) {
			double value = Double.longBitsToDouble(random.nextLong());
			if (Double.isFinite(value)) {
				values.add(value);
			}
		}
		StringBuilder parameters = new StringBuilder("[");
		StringBuilder zeros = new StringBuilder("[");
		for (int i = 0; i < values.size(); i++) {
			parameters.append((i > 0) ? "," : "").append(values.get(i));
			zeros.append((i > 0) ? "," : "").append("0.0");
		}
		parameters.append(']');
		zeros.append(']');
		String id = createId("{}");
		String request = "{\"parameters\":{\"w\":" + parameters + "},\"gradients\":{\"w\":" + zeros + "}}";
		for (int i = 1; i <= 3; i++) {
			JsonNode returned = read(step(id, request)).at("/parameters/w");
			assertThat(returned.size()).isEqualTo(values.size());
			for (int j = 0; j < values.size(); j++) {
				assertThat(Double.doubleToRawLongBits(returned.get(j).doubleValue()))
					.as("element %d (%s) at step %d", j, values.get(j), i)
					.isEqualTo(Double.doubleToRawLongBits(values.get(j)));
			}
		}
	}

	@Test
	void stepOnAFloat32SessionShouldWriteFloat32ValuesWidenedToDouble() {
		String id = createId("{\"precision\":\"float32\",\"parameters\":{\"w\":[0.1,1e-3,3.4e38]}}");
		MvcTestResult result = step(id, "{\"gradients\":{\"w\":[0.0,0.0,0.0]}}");
		assertThat(result).hasStatusOk();
		JsonNode w = read(result).at("/parameters/w");
		assertThat(w.get(0).doubleValue()).isEqualTo((double) 0.1f);
		assertThat(w.get(1).doubleValue()).isEqualTo((double) 1e-3f);
		assertThat(w.get(2).doubleValue()).isEqualTo((double) 3.4e38f);
		assertThat(body(result)).contains("0.10000000149011612");
	}

	@Test
	void stateShouldReturnTheCheckpointInItsWireFormat() {
		String id = createId("{\"optimizer\":{\"learningRate\":0.01},\"parameters\":" + HELD_PARAMETERS + "}");
		assertThat(step(id, "{\"gradients\":{\"dW1\":[[0.01,-0.03],[0.02,0.0]]}}")).hasStatusOk();
		MvcTestResult result = this.mvc.get().uri("/v1/sessions/" + id + "/state").exchange();
		assertThat(result).hasStatusOk().hasContentType(MediaType.APPLICATION_JSON);
		assertThat(body(result)).isEqualTo("{\"optimizer\":{\"algorithm\":\"adam\",\"learningRate\":0.01,\"beta1\":0.9,"
				+ "\"beta2\":0.999,\"epsilon\":1.0E-8,\"weightDecay\":0.0,\"amsgrad\":false,\"maximize\":false,\"nonFinite\":\"error\"},"
				+ "\"precision\":\"float64\",\"step\":1,\"skippedSteps\":0,\"holdsParameters\":true,\"tensors\":{"
				+ "\"W1\":{\"step\":1,\"firstMoment\":[[9.999999999999998E-4,-0.002999999999999999],"
				+ "[0.0019999999999999996,0.0]],\"secondMoment\":[[1.000000000000001E-7,9.000000000000007E-7],"
				+ "[4.000000000000004E-7,0.0]],\"parameter\":[[0.49000000999999,-0.19000000333333222],"
				+ "[0.09000000499999751,0.3]]},"
				+ "\"b1\":{\"step\":0,\"firstMoment\":[[0.0],[0.0]],\"secondMoment\":[[0.0],[0.0]],"
				+ "\"parameter\":[[0.0],[0.0]]}}}");
	}

	@Test
	void stateOfAnAmsgradSessionThatDoesNotHoldParametersShouldHaveMaxSecondMomentAndNoParameter() {
		String id = createId("{\"optimizer\":{\"amsgrad\":true},\"precision\":\"float32\"}");
		assertThat(step(id, "{\"parameters\":{\"w\":[1.0]},\"gradients\":{\"w\":[0.5]}}")).hasStatusOk();
		MvcTestResult result = this.mvc.get().uri("/v1/sessions/" + id + "/state").exchange();
		assertThat(result).hasStatusOk();
		assertThat(body(result)).isEqualTo("{\"optimizer\":{\"algorithm\":\"adam\",\"learningRate\":0.001,"
				+ "\"beta1\":0.9,\"beta2\":0.999,\"epsilon\":1.0E-8,\"weightDecay\":0.0,\"amsgrad\":true,"
				+ "\"maximize\":false,\"nonFinite\":\"error\"},"
				+ "\"precision\":\"float32\",\"step\":1,\"skippedSteps\":0,\"holdsParameters\":false,\"tensors\":{\"w\":{\"step\":1,"
				+ "\"firstMoment\":[0.05000000074505806],\"secondMoment\":[2.500000118743628E-4],"
				+ "\"maxSecondMoment\":[2.500000118743628E-4]}}}");
	}

	@Test
	void stateOfASessionThatHasNotSteppedShouldHaveNoTensors() {
		String id = createId("{}");
		assertThat(this.mvc.get().uri("/v1/sessions/" + id + "/state")).hasStatusOk()
			.hasBodyTextEqualTo("{\"optimizer\":" + DEFAULT_ADAM + ",\"precision\":\"float64\",\"step\":0,"
					+ "\"skippedSteps\":0,\"holdsParameters\":false,\"tensors\":{}}");
	}

	/**
	 * A regex for exactly {@code template}, where {@code <id>} stands for a random id and {@code <instant>} for a
	 * time.
	 */
	private static String pinned(String template) {
		return Pattern.quote(template)
			.replace("<id>", "\\E" + UUID + "\\Q")
			.replace("<instant>", "\\E" + INSTANT + "\\Q");
	}

}
