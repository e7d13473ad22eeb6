package dev.adamopt.web;

import java.util.function.Supplier;

import dev.adamopt.security.SecurityLayerTestConfiguration;
import dev.adamopt.session.SessionLayerTestConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input never changes state and never answers 5xx: each kind gets a 4xx problem with a stable type, a fixed title
 * and a detail that names the culprit, and a session that refused a request steps on as if it never came.
 */
@WebMvcTest(SessionController.class)
@Import({ JacksonConfiguration.class, SessionLayerTestConfiguration.class, SecurityLayerTestConfiguration.class })
class BadInputTest extends SessionApiTestSupport {

	private static final Problem MALFORMED_REQUEST = new Problem(HttpStatus.BAD_REQUEST, "malformed-request",
			"Malformed request body");

	private static final Problem INVALID_TENSOR = new Problem(HttpStatus.BAD_REQUEST, "invalid-tensor",
			"Invalid tensor");

	private static final Problem INVALID_SETTING = new Problem(HttpStatus.BAD_REQUEST, "invalid-setting",
			"Invalid optimizer setting");

	private static final Problem INVALID_CHECKPOINT = new Problem(HttpStatus.BAD_REQUEST, "invalid-checkpoint",
			"Invalid checkpoint");

	private static final Problem NON_FINITE_GRADIENT = new Problem(HttpStatus.UNPROCESSABLE_CONTENT,
			"non-finite-gradient", "Gradient is not finite");

	private static final Problem TENSOR_MISMATCH = new Problem(HttpStatus.UNPROCESSABLE_CONTENT, "tensor-mismatch",
			"Tensors do not fit the session");

	private static final Problem IMMUTABLE_SETTING = new Problem(HttpStatus.CONFLICT, "immutable-setting",
			"Setting cannot change");

	private static final Problem SESSION_NOT_FOUND = new Problem(HttpStatus.NOT_FOUND, "session-not-found",
			"Session not found");

	private static final Problem UNSUPPORTED_MEDIA_TYPE = new Problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE,
			"unsupported-media-type", "Unsupported media type");

	private static final String PARAMETERS = "{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"b1\":[[0.0],[0.0]]}";

	private static final String GRADIENTS = "{\"dW1\":[[0.01,-0.03],[0.02,0.0]],\"db1\":[[0.1],[-0.1]]}";

	// Malformed JSON

	@Test
	void stepWhenJsonIsTruncatedShouldReturnProblem() {
		Session session = heldSession();
		assertStepRejected(session, "{\"gradients\":{\"dW1\":[[0.01,-0.03],[0.02", MALFORMED_REQUEST,
				"malformed JSON at line 1, column 40", "Unexpected end-of-input");
	}

	@Test
	void createWhenJsonIsTruncatedShouldReturnProblem() {
		assertCreateRejected("{\"optimizer\":{\"learningRate\":0.1", MALFORMED_REQUEST, "malformed JSON at line 1",
				"Unexpected end-of-input");
	}

	@Test
	void stepWhenBodyIsAnArrayShouldReturnProblem() {
		assertStepRejected(heldSession(), "[1,2]", MALFORMED_REQUEST, "expected a JSON object");
	}

	@Test
	void createWhenBodyIsAnArrayShouldReturnProblem() {
		assertCreateRejected("[1,2]", MALFORMED_REQUEST, "expected a JSON object");
	}

	@Test
	void stepWhenMoreContentFollowsTheObjectShouldReturnProblem() {
		Session session = heldSession();
		assertStepRejected(session, session.validStep() + " {}", MALFORMED_REQUEST, "more content follows",
				"send exactly one JSON object");
	}

	@ParameterizedTest
	@ValueSource(strings = { "{'optimizer':{}}", "{/* defaults */}", "{\"optimizer\":{\"learningRate\":+1}}",
			"{\"optimizer\":{\"learningRate\":01}}", "{\"optimizer\":{\"learningRate\":.5}}" })
	void createWhenJsonIsNotStrictJsonShouldReturnProblemWithoutParserInternals(String body) {
		assertCreateRejected(body, MALFORMED_REQUEST, "malformed JSON at line 1, column ");
	}

	// Tensors that are not tensors

	@ParameterizedTest
	@ValueSource(strings = { "[[1,2],[3]]", "[[1],[[2]]]", "[[[1]],[2]]", "[1,[2]]", "[[],[1]]", "[[1,2],3]" })
	void stepWhenTensorIsRaggedShouldReturnProblem(String tensor) {
		assertStepRejected(heldSession(), "{\"gradients\":{\"dW1\":" + tensor + "}}", INVALID_TENSOR,
				"gradients.dW1: ragged tensor");
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', value = { "[[1,\"abc\"],[3,4]] | a string", "[[1,true],[3,4]] | a boolean",
			"[[1,2],[null,4]] | null", "[[1,2],[{},4]] | an object" })
	void stepWhenTensorHoldsSomethingOtherThanNumbersShouldReturnProblem(String tensor, String got) {
		assertStepRejected(heldSession(), "{\"gradients\":{\"dW1\":" + tensor + "}}", INVALID_TENSOR,
				"gradients.dW1: a tensor holds only numbers and arrays, got " + got);
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', value = { "\"abc\" | a string", "true | a boolean", "null | null", "{} | an object" })
	void stepWhenTensorIsNeitherNumberNorArrayShouldReturnProblem(String tensor, String got) {
		Session session = steppedSession();
		assertStepRejected(session,
				"{\"parameters\":{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"b1\":" + tensor + "},\"gradients\":" + GRADIENTS
						+ "}",
				INVALID_TENSOR, "parameters.b1: a tensor must be a number or nested arrays of numbers, got " + got);
	}

	@ParameterizedTest
	@ValueSource(strings = { "1e400", "-1e400", "1.8e308", "-0.2e310" })
	void stepWhenNumberOverflowsFloat64ShouldReturnProblem(String number) {
		assertStepRejected(heldSession(), "{\"gradients\":{\"db1\":[[0.1],[" + number + "]]}}", INVALID_TENSOR,
				"gradients.db1: number " + number + " overflows float64");
	}

	@Test
	void stepWhenWholeNumberOverflowsFloat64ShouldReturnProblem() {
		String number = "1" + "0".repeat(400);
		assertStepRejected(heldSession(), "{\"gradients\":{\"db1\":[[0.1],[" + number + "]]}}", INVALID_TENSOR,
				"gradients.db1: number " + number + " overflows float64");
	}

	@ParameterizedTest
	@ValueSource(strings = { "1", "0.", "0.000" })
	void stepWhenNumberHas2000DigitsShouldReturnProblem(String prefix) {
		String number = prefix + "1".repeat(2000 - prefix.length());
		assertStepRejected(heldSession(), "{\"gradients\":{\"db1\":[[0.1],[" + number + "]]}}", MALFORMED_REQUEST,
				"the JSON exceeds a limit: Number value length (", ") exceeds the maximum allowed (1000)");
	}

	@Test
	void createWhenLearningRateHas2000DigitsShouldReturnProblem() {
		assertCreateRejected("{\"optimizer\":{\"learningRate\":0." + "1".repeat(1998) + "}}", MALFORMED_REQUEST,
				"the JSON exceeds a limit: Number value length (", ") exceeds the maximum allowed (1000)");
	}

	@ParameterizedTest
	@ValueSource(ints = { 33, 40, 100_000 })
	void stepWhenTensorIsNestedTooDeepShouldReturnProblem(int depth) {
		String tensor = "[".repeat(depth) + "1" + "]".repeat(depth);
		assertStepRejected(heldSession(), "{\"gradients\":{\"dW1\":" + tensor + "}}", INVALID_TENSOR,
				"gradients.dW1: a tensor may have at most 32 dimensions");
	}

	@Test
	void stepWhenUnclosedArraysAreNested100000DeepShouldReturnProblem() {
		assertStepRejected(heldSession(), "{\"gradients\":{\"dW1\":" + "[".repeat(100_000), INVALID_TENSOR,
				"gradients.dW1: a tensor may have at most 32 dimensions");
	}

	@Test
	void stepWhenObjectsAreNested100000DeepShouldReturnProblem() {
		assertStepRejected(heldSession(), "{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000), MALFORMED_REQUEST,
				"the JSON exceeds a limit", "nesting depth");
	}

	@Test
	void stepWhenBodyIsArraysNested100000DeepShouldReturnProblem() {
		assertStepRejected(heldSession(), "[".repeat(100_000) + "]".repeat(100_000), MALFORMED_REQUEST,
				"expected a JSON object");
	}

	@ParameterizedTest
	@ValueSource(strings = { "NaN", "Infinity", "-Infinity" })
	void stepWhenNumberIsNaNOrInfinityShouldReturnProblem(String token) {
		// Python's json writes overflowed gradients so: read, then refused under nonFinite "error" (the default)
		assertStepRejected(heldSession(), "{\"gradients\":{\"db1\":[[0.1],[" + token + "]]}}", NON_FINITE_GRADIENT,
				"gradient 'b1' holds " + token + " at flat index 1", "\"nonFinite\": \"skip\"");
	}

	@Test
	void createWhenLearningRateIsNaNShouldReturnProblem() {
		assertCreateRejected("{\"optimizer\":{\"learningRate\":NaN}}", INVALID_SETTING,
				"optimizer.learningRate must be a finite number >= 0, got NaN");
	}

	// Names

	@Test
	void stepWhenParametersNameATensorTwiceShouldReturnProblem() {
		assertStepRejected(steppedSession(),
				"{\"parameters\":{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"b1\":[[0.0],[0.0]],\"W1\":[[0.5,-0.2],[0.1,0.3]]},"
						+ "\"gradients\":" + GRADIENTS + "}",
				MALFORMED_REQUEST, "Duplicate Object property \"W1\"");
	}

	@Test
	void stepWhenGradientsNameATensorTwiceShouldReturnProblem() {
		assertStepRejected(heldSession(), "{\"gradients\":{\"db1\":[[0.1],[-0.1]],\"db1\":[[0.1],[-0.1]]}}",
				MALFORMED_REQUEST, "Duplicate Object property \"db1\"");
	}

	@Test
	void createWhenParametersNameATensorTwiceShouldReturnProblem() {
		assertCreateRejected("{\"parameters\":{\"w\":[1.0],\"w\":[2.0]}}", MALFORMED_REQUEST,
				"Duplicate Object property \"w\"");
	}

	@Test
	void stepWhenATensorHasAGradientByNameAndByAliasShouldReturnProblem() {
		assertStepRejected(heldSession(), "{\"gradients\":{\"W1\":[[1,1],[1,1]],\"dW1\":[[1,1],[1,1]]}}",
				TENSOR_MISMATCH, "tensor 'W1' has two gradients, 'W1' and 'dW1': send one");
	}

	@Test
	void stepWhenGradientNamesNoTensorShouldReturnProblem() {
		assertStepRejected(heldSession(), "{\"gradients\":{\"dW1\":[[1,1],[1,1]],\"dW2\":[[1,1],[1,1]]}}",
				TENSOR_MISMATCH, "gradient 'dW2' matches no tensor of this session [W1, b1]");
	}

	@Test
	void firstStepWhenGradientNamesNoParameterShouldReturnProblem() {
		assertStepRejected(freshSession(), "{\"parameters\":" + PARAMETERS + ",\"gradients\":{\"dW2\":[1]}}",
				TENSOR_MISMATCH, "gradient 'dW2' matches no tensor of this session [W1, b1]");
	}

	@Test
	void stepWhenAParameterIsMissingShouldReturnProblem() {
		assertStepRejected(steppedSession(),
				"{\"parameters\":{\"W1\":[[0.5,-0.2],[0.1,0.3]]},\"gradients\":{\"dW1\":[[1,1],[1,1]]}}",
				TENSOR_MISMATCH, "'parameters' lacks tensor 'b1'", "[W1, b1]");
	}

	@Test
	void stepWhenAParameterIsExtraShouldReturnProblem() {
		assertStepRejected(steppedSession(),
				"{\"parameters\":{\"W1\":[[0.5,-0.2],[0.1,0.3]],\"b1\":[[0.0],[0.0]],\"W2\":[1.0]},\"gradients\":"
						+ GRADIENTS + "}",
				TENSOR_MISMATCH, "'parameters' names 'W2', which is not a tensor of this session", "[W1, b1]");
	}

	@Test
	void createWhenTensorNameIsEmptyShouldReturnProblem() {
		assertCreateRejected("{\"parameters\":{\"\":[1.0]}}", TENSOR_MISMATCH,
				"tensor names must have 1 to 256 characters, got ''");
	}

	@Test
	void createWhenTensorNameIsTooLongShouldReturnProblem() {
		assertCreateRejected("{\"parameters\":{\"" + "w".repeat(257) + "\":[1.0]}}", TENSOR_MISMATCH,
				"tensor names must have 1 to 256 characters, got '" + "w".repeat(61) + "...'");
	}

	@Test
	void createWhenParametersAreEmptyShouldReturnProblem() {
		assertCreateRejected("{\"parameters\":{}}", TENSOR_MISMATCH, "'parameters' must name at least one tensor");
	}

	// Shapes

	@Test
	void stepWhenParameterShapeDiffersShouldReturnProblem() {
		assertStepRejected(steppedSession(),
				"{\"parameters\":{\"W1\":[[0.5,-0.2,0.0],[0.1,0.3,0.0]],\"b1\":[[0.0],[0.0]]},\"gradients\":{}}",
				TENSOR_MISMATCH, "parameters 'W1' has shape [2, 3], expected [2, 2]");
	}

	@Test
	void stepWhenGradientShapeDiffersShouldReturnProblem() {
		assertStepRejected(heldSession(), "{\"gradients\":{\"dW1\":[[1,1],[1,1]],\"db1\":[0.1,-0.1]}}",
				TENSOR_MISMATCH, "gradient 'db1' has shape [2], expected [2, 1]");
	}

	@Test
	void stepWhenScalarIsSentForAOneElementTensorShouldReturnProblem() {
		assertStepRejected(heldSession(), "{\"gradients\":{\"db1\":[[0.1],[0.2]],\"dW1\":0.5}}", TENSOR_MISMATCH,
				"gradient 'dW1' has shape [], expected [2, 2]");
	}

	@Test
	void firstStepWhenGradientShapeDiffersFromItsParameterShouldReturnProblem() {
		assertStepRejected(freshSession(),
				"{\"parameters\":" + PARAMETERS + ",\"gradients\":{\"dW1\":[[1,1]],\"db1\":[[0.1],[-0.1]]}}",
				TENSOR_MISMATCH, "gradient 'dW1' has shape [1, 2], expected [2, 2]");
	}

	@Test
	void stepWhenTheLastTensorIsBadShouldChangeNoTensor() {
		Session session = heldSession("float32");
		assertStepRejected(session, "{\"gradients\":{\"dW1\":[[1,1],[1,1]],\"db1\":[[0.1],[1e39]]}}",
				NON_FINITE_GRADIENT, "gradient 'b1' holds 1.0E39 at flat index 1 (beyond float32's range");
	}

	// Parameters and sessions that hold them

	@Test
	void stepWhenParametersAreSentToASessionThatHoldsThemShouldReturnProblem() {
		assertStepRejected(heldSession(), "{\"parameters\":" + PARAMETERS + ",\"gradients\":" + GRADIENTS + "}",
				TENSOR_MISMATCH, "this session holds its parameters: leave 'parameters' out and send gradients only");
	}

	@Test
	void firstStepWithoutParametersOnASessionThatDoesNotHoldThemShouldReturnProblem() {
		assertStepRejected(freshSession(), "{\"gradients\":" + GRADIENTS + "}", TENSOR_MISMATCH,
				"'parameters' is required: this session does not hold its parameters");
	}

	@Test
	void stepWithoutParametersOnASessionThatDoesNotHoldThemShouldReturnProblem() {
		assertStepRejected(steppedSession(), "{\"gradients\":" + GRADIENTS + "}", TENSOR_MISMATCH,
				"'parameters' is required");
	}

	@Test
	void stepWhenGradientsAreMissingShouldReturnProblem() {
		assertStepRejected(heldSession(), "{}", MALFORMED_REQUEST, "gradients is required");
		assertStepRejected(heldSession(), "{\"gradients\":null}", MALFORMED_REQUEST, "gradients is required");
	}

	// Precision

	@Test
	void stepWhenFloat32SessionReceivesNumberBeyondFloat32ShouldReturnProblem() {
		Session session = freshSession("float32");
		assertStepRejected(session,
				"{\"parameters\":{\"W1\":[[0.5,-0.2],[0.1,1e39]],\"b1\":[[0.0],[0.0]]},\"gradients\":" + GRADIENTS
						+ "}",
				TENSOR_MISMATCH, "parameter 'W1' holds 1.0E39 at flat index 3, beyond float32's range (about 3.4e38)");
	}

	@Test
	void createWhenFloat32ParametersHoldNumberBeyondFloat32ShouldReturnProblem() {
		assertCreateRejected("{\"precision\":\"float32\",\"parameters\":{\"w\":[1.0,-1e39]}}", TENSOR_MISMATCH,
				"parameter 'w' holds -1.0E39 at flat index 1, beyond float32's range");
	}

	@ParameterizedTest
	@ValueSource(strings = { "float16", "FLOAT64", "double", "" })
	void createWhenPrecisionIsUnknownShouldReturnProblem(String precision) {
		assertCreateRejected("{\"precision\":\"" + precision + "\"}", INVALID_SETTING,
				"precision must be one of float64, float32, got '" + precision + "'");
	}

	// Hyperparameters

	@Test
	void createWhenFieldIsMisspeltShouldReturnProblem() {
		assertCreateRejected("{\"optimizer\":{\"learning_rate\":0.1}}", MALFORMED_REQUEST,
				"unknown field 'learning_rate' in optimizer; known fields: [algorithm, amsgrad, beta1, beta2, clipping, "
						+ "epsilon, groups, initialLearningRate, learningRate, maximize, nonFinite, schedule, weightDecay]");
	}

	@Test
	void createWhenTopLevelFieldIsUnknownShouldReturnProblem() {
		assertCreateRejected("{\"optimiser\":{}}", MALFORMED_REQUEST,
				"unknown field 'optimiser'; known fields: [optimizer, parameters, precision, state]");
	}

	@Test
	void patchWhenFieldIsMisspeltShouldReturnProblem() {
		Session session = heldSession();
		assertRejected(session, () -> patch(session.id(), "{\"optimizer\":{\"learning_rate\":0.1}}"),
				MALFORMED_REQUEST, "unknown field 'learning_rate' in optimizer");
	}

	@Test
	void stepWhenFieldIsUnknownShouldReturnProblem() {
		assertStepRejected(heldSession(), "{\"gradient\":" + GRADIENTS + "}", MALFORMED_REQUEST,
				"unknown field 'gradient'; known fields: [gradients, loss, parameters]");
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', value = { "\"0.1\" | a string", "true | a boolean", "[0.1] | an array",
			"{} | an object" })
	void createWhenLearningRateIsNotANumberShouldReturnProblem(String value, String got) {
		assertCreateRejected("{\"optimizer\":{\"learningRate\":" + value + "}}", MALFORMED_REQUEST,
				"optimizer.learningRate: expected a number, got " + got);
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', value = { "\"0.1\" | a string", "false | a boolean" })
	void patchWhenLearningRateIsNotANumberShouldReturnProblem(String value, String got) {
		Session session = heldSession();
		assertRejected(session, () -> patch(session.id(), "{\"optimizer\":{\"learningRate\":" + value + "}}"),
				MALFORMED_REQUEST, "optimizer.learningRate: expected a number, got " + got);
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|',
			value = { "learningRate | -0.001 | optimizer.learningRate must be a finite number >= 0, got -0.001",
					"learningRate | 1e400 | optimizer.learningRate must be a finite number >= 0, got Infinity",
					"epsilon | -1e-8 | optimizer.epsilon must be a finite number >= 0, got -1.0E-8",
					"weightDecay | -0.01 | optimizer.weightDecay must be a finite number >= 0, got -0.01",
					"weightDecay | -1e400 | optimizer.weightDecay must be a finite number >= 0, got -Infinity",
					"beta1 | 1 | optimizer.beta1 must be in [0, 1), got 1.0",
					"beta1 | -0.1 | optimizer.beta1 must be in [0, 1), got -0.1",
					"beta2 | 1.0 | optimizer.beta2 must be in [0, 1), got 1.0",
					"beta2 | 1.5 | optimizer.beta2 must be in [0, 1), got 1.5" })
	void createWhenHyperparameterIsOutOfRangeShouldReturnProblem(String field, String value, String detail) {
		assertCreateRejected("{\"optimizer\":{\"" + field + "\":" + value + "}}", INVALID_SETTING, detail);
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|',
			value = { "learningRate | -0.001 | optimizer.learningRate must be a finite number >= 0, got -0.001",
					"epsilon | -1e-8 | optimizer.epsilon must be a finite number >= 0, got -1.0E-8",
					"weightDecay | -0.01 | optimizer.weightDecay must be a finite number >= 0, got -0.01",
					"beta1 | 1 | optimizer.beta1 must be in [0, 1), got 1.0",
					"beta2 | -0.5 | optimizer.beta2 must be in [0, 1), got -0.5" })
	void patchWhenHyperparameterIsOutOfRangeShouldReturnProblem(String field, String value, String detail) {
		Session session = heldSession();
		assertRejected(session, () -> patch(session.id(), "{\"optimizer\":{\"" + field + "\":" + value + "}}"),
				INVALID_SETTING, detail);
	}

	@ParameterizedTest
	@ValueSource(strings = { "sgd", "Adam", "adam_w", "" })
	void createWhenAlgorithmIsUnknownShouldReturnProblem(String algorithm) {
		assertCreateRejected("{\"optimizer\":{\"algorithm\":\"" + algorithm + "\"}}", INVALID_SETTING,
				"optimizer.algorithm must be one of adam, adamw, got '" + algorithm + "'");
	}

	@Test
	void createWhenAlgorithmIsTenThousandCharactersShouldQuoteOnlyItsBeginning() {
		String algorithm = "x".repeat(10_000);
		MvcTestResult result = create("{\"optimizer\":{\"algorithm\":\"" + algorithm + "\"}}");
		assertProblem(result, INVALID_SETTING, "optimizer.algorithm must be one of adam, adamw, got '"
				+ "x".repeat(64) + "... (10000 characters)'");
		assertThat(read(result).get("detail").asString()).hasSizeLessThan(200);
	}

	@Test
	void createWhenPrecisionIsTenThousandCharactersShouldQuoteOnlyItsBeginning() {
		String precision = "float" + "6".repeat(9_995);
		MvcTestResult result = create("{\"precision\":\"" + precision + "\"}");
		assertProblem(result, INVALID_SETTING,
				"precision must be one of float64, float32, got '" + precision.substring(0, 64) + "... (10000 characters)'");
		assertThat(read(result).get("detail").asString()).hasSizeLessThan(200);
	}

	@Test
	void createWhenUnknownFieldNameIsTenThousandCharactersShouldQuoteOnlyItsBeginning() {
		MvcTestResult result = create("{\"optimizer\":{\"" + "y".repeat(10_000) + "\":1}}");
		assertProblem(result, MALFORMED_REQUEST, "unknown field '" + "y".repeat(64) + "... (10000 characters)' in optimizer");
		assertThat(read(result).get("detail").asString()).hasSizeLessThan(400);
	}

	@Test
	void createWhenAlgorithmHoldsControlCharactersShouldEscapeThem() {
		assertCreateRejected("{\"optimizer\":{\"algorithm\":\"a\\u0000b\\nc\"}}", INVALID_SETTING,
				"got 'a\\u0000b\\u000ac'");
	}

	@Test
	void patchWhenAlgorithmIsUnknownShouldReturnProblem() {
		Session session = heldSession();
		assertRejected(session, () -> patch(session.id(), "{\"optimizer\":{\"algorithm\":\"rmsprop\"}}"),
				INVALID_SETTING, "optimizer.algorithm must be one of adam, adamw, got 'rmsprop'");
	}

	@Test
	void patchWhenAlgorithmChangesShouldReturnConflict() {
		Session session = heldSession();
		assertRejected(session,
				() -> patch(session.id(), "{\"optimizer\":{\"algorithm\":\"adamw\",\"learningRate\":0.5}}"),
				IMMUTABLE_SETTING, "algorithm cannot change once a session exists (it is 'adam')",
				"create a new session instead");
	}

	@Test
	void patchWhenAmsgradChangesShouldReturnConflict() {
		Session session = heldSession();
		assertRejected(session, () -> patch(session.id(), "{\"optimizer\":{\"amsgrad\":true}}"), IMMUTABLE_SETTING,
				"amsgrad cannot change once a session exists (it is false)");
	}

	@Test
	void patchWhenAlgorithmAndAmsgradAreUnchangedShouldSucceed() {
		Session session = heldSession();
		MvcTestResult result = patch(session.id(),
				"{\"optimizer\":{\"algorithm\":\"adam\",\"amsgrad\":false,\"learningRate\":0.5}}");
		assertThat(result).hasStatusOk().hasContentType(MediaType.APPLICATION_JSON);
		assertThat(read(result).at("/optimizer/learningRate").doubleValue()).isEqualTo(0.5);
		assertThat(read(result).at("/optimizer/algorithm").asString()).isEqualTo("adam");
	}

	@Test
	void patchWhenOptimizerIsMissingShouldReturnProblem() {
		Session session = heldSession();
		assertRejected(session, () -> patch(session.id(), "{}"), MALFORMED_REQUEST, "optimizer is required");
	}

	// Content type and body

	@Test
	void stepWhenContentTypeIsTextPlainShouldReturnProblem() {
		Session session = heldSession();
		assertRejected(session,
				() -> this.mvc.post()
					.uri("/v1/sessions/{id}/steps", session.id())
					.contentType(MediaType.TEXT_PLAIN)
					.content(session.validStep())
					.exchange(),
				UNSUPPORTED_MEDIA_TYPE, "Content-Type 'text/plain' is not supported",
				"Send the body as application/json");
	}

	@Test
	void createWhenContentTypeIsTextPlainShouldReturnProblem() {
		assertCreateRejected(() -> this.mvc.post()
			.uri("/v1/sessions")
			.contentType(MediaType.TEXT_PLAIN)
			.content("{}")
			.exchange(), UNSUPPORTED_MEDIA_TYPE, "Content-Type 'text/plain' is not supported");
	}

	@Test
	void patchWhenContentTypeIsTextPlainShouldReturnProblem() {
		Session session = heldSession();
		assertRejected(session,
				() -> this.mvc.patch()
					.uri("/v1/sessions/{id}", session.id())
					.contentType(MediaType.TEXT_PLAIN)
					.content("{\"optimizer\":{\"learningRate\":0.5}}")
					.exchange(),
				UNSUPPORTED_MEDIA_TYPE, "Content-Type 'text/plain' is not supported");
	}

	@Test
	void stepWhenBodyIsMissingShouldReturnProblem() {
		Session session = heldSession();
		assertRejected(session,
				() -> this.mvc.post()
					.uri("/v1/sessions/{id}/steps", session.id())
					.contentType(MediaType.APPLICATION_JSON)
					.exchange(),
				MALFORMED_REQUEST, "the request body is missing or unreadable: send a JSON object");
	}

	@Test
	void createWhenBodyIsMissingOrNullShouldReturnProblem() {
		assertCreateRejected(
				() -> this.mvc.post().uri("/v1/sessions").contentType(MediaType.APPLICATION_JSON).exchange(),
				MALFORMED_REQUEST, "the request body is missing or unreadable");
		assertCreateRejected("null", MALFORMED_REQUEST, "the request body is missing or unreadable");
	}

	// Unknown sessions

	@Test
	void everyEndpointWhenSessionIsUnknownShouldReturnNotFound() {
		String id = "no-such-session";
		String detail = "no session has id 'no-such-session': it never existed, was deleted, or expired";
		assertProblem(this.mvc.get().uri("/v1/sessions/{id}", id).exchange(), SESSION_NOT_FOUND, detail);
		assertProblem(this.mvc.delete().uri("/v1/sessions/{id}", id).exchange(), SESSION_NOT_FOUND, detail);
		assertProblem(patch(id, "{\"optimizer\":{\"learningRate\":0.5}}"), SESSION_NOT_FOUND, detail);
		assertProblem(step(id, "{\"parameters\":" + PARAMETERS + ",\"gradients\":" + GRADIENTS + "}"),
				SESSION_NOT_FOUND, detail);
		assertProblem(this.mvc.get().uri("/v1/sessions/{id}/state", id).exchange(), SESSION_NOT_FOUND, detail);
	}

	@Test
	void everyEndpointWhenSessionWasDeletedShouldReturnNotFound() {
		Session session = heldSession();
		assertThat(this.mvc.delete().uri("/v1/sessions/{id}", session.id())).hasStatus(HttpStatus.NO_CONTENT);
		String detail = "no session has id '" + session.id() + "'";
		assertProblem(this.mvc.get().uri("/v1/sessions/{id}", session.id()).exchange(), SESSION_NOT_FOUND, detail);
		assertProblem(this.mvc.delete().uri("/v1/sessions/{id}", session.id()).exchange(), SESSION_NOT_FOUND, detail);
		assertProblem(patch(session.id(), "{\"optimizer\":{\"learningRate\":0.5}}"), SESSION_NOT_FOUND, detail);
		assertProblem(step(session.id(), session.validStep()), SESSION_NOT_FOUND, detail);
		assertProblem(this.mvc.get().uri("/v1/sessions/{id}/state", session.id()).exchange(), SESSION_NOT_FOUND,
				detail);
	}

	// Checkpoints

	@Test
	void createWhenStateHasANullTensorShouldReturnProblem() {
		assertCreateRejected("{\"state\":{\"step\":1,\"tensors\":{\"W1\":null}}}", INVALID_CHECKPOINT,
				"state.tensors.W1 must be an object with step, firstMoment and secondMoment, got null");
	}

	@Test
	void createWhenStateStepIsBeyondWhatStepsCanReachShouldReturnProblem() {
		long step = Long.MAX_VALUE;
		assertCreateRejected("{\"state\":{\"step\":" + step + ",\"tensors\":{\"W1\":{\"step\":" + step
				+ ",\"firstMoment\":[0.0],\"secondMoment\":[0.0]}}}}", INVALID_CHECKPOINT,
				"step must be between 0 and 9007199254740991, got 9223372036854775807");
	}

	@Test
	void stepOnAResumedSessionAtTheLargestStepShouldSucceed() {
		long step = (1L << 53) - 1;
		MvcTestResult created = create("{\"state\":{\"step\":" + step + ",\"tensors\":{\"w\":{\"step\":" + step
				+ ",\"firstMoment\":[0.0],\"secondMoment\":[0.0]}}}}");
		assertThat(created).hasStatus(HttpStatus.CREATED);
		MvcTestResult result = step(read(created).get("id").asString(),
				"{\"parameters\":{\"w\":[1.0]},\"gradients\":{\"w\":[0.5]}}");
		assertThat(result).hasStatusOk();
		assertThat(read(result).get("step").longValue()).isEqualTo(step + 1);
	}

	@Test
	void createWhenStateComesWithOtherFieldsShouldReturnProblem() {
		assertCreateRejected("{\"precision\":\"float32\",\"state\":{\"step\":0,\"tensors\":{}}}", INVALID_CHECKPOINT,
				"'state' carries its own optimizer, precision and parameters: send it alone");
	}

	@Test
	void createWhenStateIsInconsistentShouldReturnProblem() {
		assertCreateRejected("{\"state\":{\"step\":1,\"tensors\":{\"W1\":{\"step\":2,\"firstMoment\":[0.0],"
				+ "\"secondMoment\":[0.0]}}}}", INVALID_CHECKPOINT,
				"tensors.W1.step must be between 0 and the session's step 1, got 2");
		assertCreateRejected("{\"state\":{\"step\":1,\"tensors\":{\"W1\":{\"step\":1,\"firstMoment\":[0.0],"
				+ "\"secondMoment\":[[0.0]]}}}}", INVALID_CHECKPOINT,
				"tensors.W1.secondMoment has shape [1, 1], firstMoment has [1]");
		assertCreateRejected("{\"state\":{\"step\":1,\"tensors\":{\"W1\":{\"step\":1,\"firstMoment\":[0.0],"
				+ "\"secondMoment\":[-1.0]}}}}", INVALID_CHECKPOINT,
				"tensors.W1.secondMoment must be >= 0 everywhere");
		assertCreateRejected("{\"state\":{\"step\":0}}", INVALID_CHECKPOINT, "state.tensors is required");
	}

	private Session heldSession() {
		return heldSession("float64");
	}

	/** A session holding W1 and b1 that has taken one step, so its moments are not zero. */
	private Session heldSession(String precision) {
		Session session = new Session(createId("{\"optimizer\":{\"learningRate\":0.01},\"precision\":\"" + precision
				+ "\",\"parameters\":" + PARAMETERS + "}"), "{\"gradients\":" + GRADIENTS + "}");
		assertThat(step(session.id(), session.validStep())).hasStatusOk();
		return session;
	}

	/** A session that does not hold its parameters and has taken one step, which fixed W1 and b1. */
	private Session steppedSession() {
		Session session = freshSession("float64");
		assertThat(step(session.id(), session.validStep())).hasStatusOk();
		return session;
	}

	private Session freshSession() {
		return freshSession("float64");
	}

	/** A session that does not hold its parameters and has not stepped yet. */
	private Session freshSession(String precision) {
		return new Session(createId("{\"precision\":\"" + precision + "\"}"),
				"{\"parameters\":" + PARAMETERS + ",\"gradients\":" + GRADIENTS + "}");
	}

	private void assertStepRejected(Session session, String body, Problem problem, String... detail) {
		assertRejected(session, () -> step(session.id(), body), problem, detail);
	}

	/**
	 * Sends a bad request; asserts the problem, that the session and its checkpoint are byte for byte what they were,
	 * and that a valid step still advances the step count by exactly one.
	 */
	private void assertRejected(Session session, Supplier<MvcTestResult> request, Problem problem,
			String... detail) {
		String summary = body(this.mvc.get().uri("/v1/sessions/{id}", session.id()).exchange());
		String state = body(this.mvc.get().uri("/v1/sessions/{id}/state", session.id()).exchange());
		assertProblem(request.get(), problem, detail);
		assertThat(this.mvc.get().uri("/v1/sessions/{id}", session.id())).hasStatusOk().hasBodyTextEqualTo(summary);
		assertThat(this.mvc.get().uri("/v1/sessions/{id}/state", session.id())).hasStatusOk()
			.hasBodyTextEqualTo(state);
		MvcTestResult next = step(session.id(), session.validStep());
		assertThat(next).hasStatusOk();
		assertThat(read(next).get("step").longValue()).isEqualTo(json.readTree(summary).get("step").longValue() + 1);
	}

	private void assertCreateRejected(String body, Problem problem, String... detail) {
		assertCreateRejected(() -> create(body), problem, detail);
	}

	/** Sends a bad create request; asserts the problem and that no session was created. */
	private void assertCreateRejected(Supplier<MvcTestResult> request, Problem problem, String... detail) {
		String sessions = body(this.mvc.get().uri("/v1/sessions").exchange());
		assertProblem(request.get(), problem, detail);
		assertThat(this.mvc.get().uri("/v1/sessions")).hasStatusOk().hasBodyTextEqualTo(sessions);
	}

	private static void assertProblem(MvcTestResult result, Problem problem, String... detail) {
		assertThat(result).hasStatus(problem.status()).hasContentType(MediaType.APPLICATION_PROBLEM_JSON);
		JsonNode body = read(result);
		assertThat(body.get("type").asString()).isEqualTo("/problems/" + problem.slug());
		assertThat(body.get("title").asString()).isEqualTo(problem.title());
		assertThat(body.get("status").intValue()).isEqualTo(problem.status().value());
		assertThat(body.get("detail").asString()).contains(detail)
			.doesNotContain("Exception", "tools.jackson", "dev.adamopt", "`", "ALLOW_", "Feature");
	}

	/** A session under test and a step that it accepts. */
	private record Session(String id, String validStep) {
	}

	/** What the API answers for one kind of problem. */
	private record Problem(HttpStatus status, String slug, String title) {
	}

}
