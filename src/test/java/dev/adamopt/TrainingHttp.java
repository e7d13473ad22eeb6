package dev.adamopt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import dev.adamopt.tensor.SafetensorsBytes;
import dev.adamopt.tensor.SafetensorsBytes.Entry;
import dev.adamopt.tensor.SafetensorsBytes.Parsed;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import static dev.adamopt.reference.ReferenceCase.JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The HTTP side of the training-feature tests: requests to a running service on loopback, and the step answer's
 * statistics read alike from a JSON answer and from a safetensors answer's {@code __metadata__} (where every value is a
 * string: numbers as Java's {@code Double.toString}, booleans {@code "true"}/{@code "false"}).
 */
final class TrainingHttp {

	static final String OCTET = "application/octet-stream";

	static final String JSON_TYPE = "application/json";

	static final String PROBLEM = "application/problem+json";

	static final JsonNodeFactory NODES = JsonNodeFactory.instance;

	private static final HttpClient CLIENT = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(30))
		.build();

	private final int port;

	TrainingHttp(int port) {
		this.port = port;
	}

	HttpResponse<byte[]> send(String method, String path, String contentType, String accept, byte[] body) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path))
			.timeout(Duration.ofSeconds(60))
			.method(method, (body == null) ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(body));
		if (contentType != null) {
			request.header("Content-Type", contentType);
		}
		if (accept != null) {
			request.header("Accept", accept);
		}
		try {
			return CLIENT.send(request.build(), BodyHandlers.ofByteArray());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/** Sends, requires {@code status} (showing the answer when it differs) and returns the answer's bytes. */
	byte[] expect(int status, String method, String path, String contentType, String accept, byte[] body) {
		HttpResponse<byte[]> response = send(method, path, contentType, accept, body);
		assertThat(response.statusCode()).as("%s %s answered %s", method, path, text(response.body()))
			.isEqualTo(status);
		return response.body();
	}

	/** GET of a JSON resource, answered 200 and read with the strict parser (RFC 8259: no NaN tokens). */
	JsonNode getJson(String path) {
		return JSON.readTree(expect(200, "GET", path, null, JSON_TYPE, null));
	}

	/** POST of a JSON body, answered {@code status}, the answer read with the strict parser. */
	JsonNode postJson(int status, String path, byte[] body) {
		return JSON.readTree(expect(status, "POST", path, JSON_TYPE, JSON_TYPE, body));
	}

	/** {@code object}'s integer {@code field}; fails, showing the object, when it is missing or not an integer. */
	static long requiredLong(JsonNode object, String field) {
		JsonNode value = object.path(field);
		assertThat(value.isIntegralNumber()).as("'%s' is an integer in %s", field, object).isTrue();
		return value.longValue();
	}

	/** {@code object}'s number {@code field}; fails, showing the object, when it is missing or not a number. */
	static double requiredDouble(JsonNode object, String field) {
		JsonNode value = object.path(field);
		assertThat(value.isNumber()).as("'%s' is a number in %s", field, object).isTrue();
		return value.doubleValue();
	}

	/** {@code object}'s boolean {@code field}; fails, showing the object, when it is missing or not a boolean. */
	static boolean requiredBoolean(JsonNode object, String field) {
		JsonNode value = object.path(field);
		assertThat(value.isBoolean()).as("'%s' is a boolean in %s", field, object).isTrue();
		return value.booleanValue();
	}

	/** {@code object}'s string {@code field}; fails, showing the object, when it is missing or not a string. */
	static String requiredString(JsonNode object, String field) {
		JsonNode value = object.path(field);
		assertThat(value.isString()).as("'%s' is a string in %s", field, object).isTrue();
		return value.stringValue();
	}

	static String text(byte[] body) {
		return (body == null) ? "" : new String(body, StandardCharsets.UTF_8);
	}

	static String contentType(HttpResponse<?> response) {
		String value = response.headers().firstValue("Content-Type").orElse("");
		int semicolon = value.indexOf(';');
		return (semicolon < 0) ? value : value.substring(0, semicolon).trim();
	}

	/**
	 * A step's answer. The statistics are {@code null} when the answer lacks them (a skipped step may).
	 *
	 * @param step the session's step count after the step
	 * @param parameters {name: nested-list tensor}, every tensor after the step
	 * @param learningRate the default group's learning rate the step used
	 * @param gradNorm the L2 norm over every gradient of the step, before clipping
	 * @param totalNorm {@code clip_grad_norm_}'s total norm, in the clipping's norm type (clipping by norm only)
	 * @param updateNorm the L2 norm of the parameters' change
	 * @param clipped whether clipping changed the gradients
	 * @param skipped whether the step changed nothing
	 */
	record StepAnswer(long step, ObjectNode parameters, Double learningRate, Double gradNorm, Double totalNorm,
			Double updateNorm, Boolean clipped, Boolean skipped) {

		static StepAnswer ofJson(JsonNode answer) {
			assertThat(answer.path("step").isIntegralNumber()).as("answer's step in %s", answer).isTrue();
			assertThat(answer.path("parameters").isObject()).as("answer's parameters in %s", answer).isTrue();
			return new StepAnswer(answer.get("step").longValue(), (ObjectNode) answer.get("parameters"),
					number(answer, "learningRate"), number(answer, "gradNorm"), number(answer, "totalNorm"),
					number(answer, "updateNorm"), bool(answer, "clipped"), bool(answer, "skipped"));
		}

		/** A safetensors answer: the parameters as tensors, the rest in {@code __metadata__}. */
		static StepAnswer ofSafetensors(byte[] body, String dtype) {
			Parsed parsed = SafetensorsBytes.parse(body);
			Map<String, String> metadata = parsed.metadata();
			assertThat(metadata).as("the answer's __metadata__").containsKey("step");
			ObjectNode parameters = NODES.objectNode();
			parsed.tensors().forEach((name, entry) -> {
				assertThat(entry.dtype()).as("dtype of %s in the answer", name).isEqualTo(dtype);
				parameters.set(name, nested(entry.shape(), values(entry)));
			});
			return new StepAnswer(Long.parseLong(metadata.get("step")), parameters, number(metadata, "learningRate"),
					number(metadata, "gradNorm"), number(metadata, "totalNorm"), number(metadata, "updateNorm"),
					bool(metadata, "clipped"), bool(metadata, "skipped"));
		}

		private static Double number(JsonNode answer, String field) {
			JsonNode value = answer.get(field);
			if (value == null || value.isNull()) {
				return null;
			}
			assertThat(value.isNumber()).as("%s is a JSON number in %s", field, answer).isTrue();
			return value.doubleValue();
		}

		private static Boolean bool(JsonNode answer, String field) {
			JsonNode value = answer.get(field);
			if (value == null || value.isNull()) {
				return null;
			}
			assertThat(value.isBoolean()).as("%s is a JSON boolean in %s", field, answer).isTrue();
			return value.booleanValue();
		}

		private static Double number(Map<String, String> metadata, String key) {
			String value = metadata.get(key);
			if (value == null) {
				return null;
			}
			try {
				return Double.parseDouble(value);
			}
			catch (NumberFormatException ex) {
				return fail("__metadata__.%s is not a number: '%s'", key, value);
			}
		}

		private static Boolean bool(Map<String, String> metadata, String key) {
			String value = metadata.get(key);
			if (value == null) {
				return null;
			}
			assertThat(value).as("__metadata__.%s", key).isIn("true", "false");
			return Boolean.parseBoolean(value);
		}

	}

	static double[] values(Entry entry) {
		if (entry.dtype().equals("F32")) {
			float[] floats = entry.f32();
			double[] doubles = new double[floats.length];
			for (int i = 0; i < floats.length; i++) {
				doubles[i] = floats[i];
			}
			return doubles;
		}
		return entry.f64();
	}

	/** A row-major flat tensor as nested lists (a bare number for a 0-d tensor), as the JSON API carries it. */
	static JsonNode nested(int[] shape, double[] values) {
		if (shape.length == 0) {
			return NODES.numberNode(values[0]);
		}
		return nest(shape, values, 0, 0);
	}

	private static ArrayNode nest(int[] shape, double[] values, int axis, int offset) {
		ArrayNode array = NODES.arrayNode();
		int stride = 1;
		for (int i = axis + 1; i < shape.length; i++) {
			stride *= shape[i];
		}
		for (int i = 0; i < shape[axis]; i++) {
			if (axis == shape.length - 1) {
				array.add(values[offset + i]);
			}
			else {
				array.add(nest(shape, values, axis + 1, offset + i * stride));
			}
		}
		return array;
	}

}
