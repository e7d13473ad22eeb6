package dev.adamopt.web;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document is complete enough to use from Swagger UI alone, and its request examples work when sent as
 * they are ("try it out").
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class OpenApiDocumentationTest {

	private static final String CREATE = "/v1/sessions";

	private static final String SESSION = "/v1/sessions/{id}";

	private static final String STEPS = "/v1/sessions/{id}/steps";

	private static final String PARAMETERS = "/v1/sessions/{id}/parameters";

	private static final List<String> HTTP_METHODS = List.of("get", "put", "post", "delete", "options", "head",
			"patch", "trace");

	@LocalServerPort
	int port;

	private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();

	private final JsonMapper json = JsonMapper.builder().build();

	private JsonNode docs;

	@BeforeEach
	void fetchApiDocs() throws Exception {
		HttpResponse<String> response = get("/v3/api-docs");
		assertThat(response.statusCode()).isEqualTo(200);
		this.docs = this.json.readTree(response.body());
	}

	@Test
	void everyOperationHasASummary() {
		List<String> operations = new ArrayList<>();
		List<String> withoutSummary = new ArrayList<>();
		for (Map.Entry<String, JsonNode> path : this.docs.path("paths").properties()) {
			for (Map.Entry<String, JsonNode> operation : path.getValue().properties()) {
				if (!HTTP_METHODS.contains(operation.getKey())) {
					continue;
				}
				String name = operation.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey();
				operations.add(name);
				if (operation.getValue().path("summary").asString("").isBlank()) {
					withoutSummary.add(name);
				}
			}
		}
		assertThat(operations).as("operations in /v3/api-docs").isNotEmpty();
		assertThat(withoutSummary).as("operations without a summary").isEmpty();
	}

	@Test
	void stepAndBinaryOperationsDocumentBothMediaTypesAndTheirProblems() {
		JsonNode step = this.docs.path("paths").path("/v1/sessions/{id}/steps").path("post");
		assertThat(step.path("requestBody").path("content").propertyNames()).contains("application/json",
				"application/octet-stream");
		assertThat(step.path("responses").path("200").path("content").propertyNames()).contains("application/json",
				"application/octet-stream");
		for (String status : List.of("400", "404", "408", "413", "415", "422", "503")) {
			assertThat(step.path("responses").path(status).path("content").path("application/problem+json")
				.path("schema")
				.path("$ref")
				.asString()).as("problem response " + status).isEqualTo("#/components/schemas/Problem");
		}
		for (String path : List.of("/v1/sessions/{id}/state", "/v1/sessions/{id}/parameters")) {
			assertThat(this.docs.path("paths").path(path).path("get").path("responses").path("200").path("content")
				.propertyNames()).as(path).contains("application/json", "application/octet-stream");
		}
		assertThat(this.docs.path("paths").path("/v1/sessions/{id}/parameters").path("put").path("requestBody")
			.path("content").propertyNames()).contains("application/json", "application/octet-stream");
		assertThat(this.docs.path("paths").path("/v1/sessions").path("post").path("requestBody").path("content")
			.propertyNames()).contains("application/json", "application/octet-stream");
	}

	@Test
	void everySchemaAndEveryPropertyHasADescription() {
		JsonNode schemas = this.docs.path("components").path("schemas");
		assertThat(schemas.size()).as("component schemas").isPositive();
		List<String> undescribed = new ArrayList<>();
		for (Map.Entry<String, JsonNode> schema : schemas.properties()) {
			if (schema.getValue().path("description").asString("").isBlank()) {
				undescribed.add(schema.getKey());
			}
			for (Map.Entry<String, JsonNode> property : schema.getValue().path("properties").properties()) {
				if (property.getValue().path("description").asString("").isBlank()) {
					undescribed.add(schema.getKey() + "." + property.getKey());
				}
			}
		}
		assertThat(undescribed).as("schemas and properties without a description").isEmpty();
	}

	@Test
	void createStepAndPatchHaveRequestExamples() {
		assertThat(examples("post", CREATE)).as("examples of POST " + CREATE).isNotEmpty();
		assertThat(examples("post", STEPS)).as("examples of POST " + STEPS).isNotEmpty();
		assertThat(examples("patch", SESSION)).as("examples of PATCH " + SESSION).isNotEmpty();
	}

	@Test
	void everyJsonRequestBodyHasAnExample() {
		List<String> withoutExample = new ArrayList<>();
		for (Map.Entry<String, JsonNode> path : this.docs.path("paths").properties()) {
			for (Map.Entry<String, JsonNode> operation : path.getValue().properties()) {
				JsonNode json = operation.getValue().path("requestBody").path("content").path("application/json");
				if (!json.isMissingNode() && json.path("examples").isEmpty() && !json.has("example")) {
					withoutExample.add(operation.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey());
				}
			}
		}
		assertThat(withoutExample).as("operations whose JSON request body has no example").isEmpty();
	}

	@Test
	void swaggerUiAnswers() throws Exception {
		HttpResponse<String> page = get("/swagger-ui.html");
		assertThat(page.statusCode()).isEqualTo(200);
		assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(
				type -> assertThat(type).startsWith("text/html"));
		assertThat(page.body()).contains("<title>Swagger UI</title>", "id=\"swagger-ui\"");

		// the page loads this API's document, with try-it-out on
		HttpResponse<String> config = get("/v3/api-docs/swagger-config");
		assertThat(config.statusCode()).isEqualTo(200);
		JsonNode swaggerConfig = this.json.readTree(config.body());
		assertThat(swaggerConfig.path("url").asString("")).isEqualTo("/v3/api-docs");
		assertThat(swaggerConfig.path("tryItOutEnabled").asBoolean(false)).isTrue();
	}

	@Test
	void everyCreateExampleCreatesASession() throws Exception {
		Map<String, JsonNode> examples = examples("post", CREATE);
		assertThat(examples).isNotEmpty();
		for (Map.Entry<String, JsonNode> example : examples.entrySet()) {
			HttpResponse<String> response = send("POST", CREATE, example.getValue());
			assertThat(response.statusCode()).as("POST %s with example '%s': %s", CREATE, example.getKey(),
					response.body())
				.isEqualTo(201);
			assertThat(response.headers().firstValue("Location")).as("Location of example '%s'", example.getKey())
				.hasValueSatisfying(location -> assertThat(location).contains("/v1/sessions/"));
		}
	}

	@Test
	void parametersAndGradientsStepExampleStepsAFreshSession() throws Exception {
		JsonNode example = examples("post", STEPS).get("parameters and gradients");
		assertThat(example).as("step example 'parameters and gradients'").isNotNull();
		String id = createSession(this.json.readTree("{}"));

		HttpResponse<String> response = send("POST", STEPS.replace("{id}", id), example);
		assertThat(response.statusCode()).as("step with example 'parameters and gradients': %s", response.body())
			.isEqualTo(200);
		JsonNode step = this.json.readTree(response.body());
		assertThat(step.path("step").asLong()).isEqualTo(1);
		assertThat(step.path("parameters").propertyNames())
			.containsExactlyElementsOf(example.path("parameters").propertyNames());
	}

	@Test
	void gradientsOnlyStepExampleStepsASessionMadeByTheHoldingParametersExample() throws Exception {
		JsonNode create = examples("post", CREATE).get("holding parameters");
		JsonNode step = examples("post", STEPS).get("gradients only");
		assertThat(create).as("create example 'holding parameters'").isNotNull();
		assertThat(step).as("step example 'gradients only'").isNotNull();
		String id = createSession(create);

		HttpResponse<String> response = send("POST", STEPS.replace("{id}", id), step);
		assertThat(response.statusCode()).as("step with example 'gradients only': %s", response.body()).isEqualTo(200);
	}

	@Test
	void patchExampleChangesASession() throws Exception {
		Map<String, JsonNode> examples = examples("patch", SESSION);
		assertThat(examples).isNotEmpty();
		String id = createSession(this.json.readTree("{}"));
		for (Map.Entry<String, JsonNode> example : examples.entrySet()) {
			HttpResponse<String> response = send("PATCH", SESSION.replace("{id}", id), example.getValue());
			assertThat(response.statusCode()).as("PATCH with example '%s': %s", example.getKey(), response.body())
				.isEqualTo(200);
		}
	}

	@Test
	void everyTrainingFieldHasAnExample() {
		JsonNode schemas = this.docs.path("components").path("schemas");
		List<String> withoutExample = new ArrayList<>();
		for (String name : List.of("OptimizerSettings", "ScheduleSettings", "ClippingSettings", "GroupSettings",
				"StepResponse", "HistoryEntry")) {
			JsonNode schema = schemas.path(name);
			assertThat(schema.isMissingNode()).as("schema " + name).isFalse();
			for (Map.Entry<String, JsonNode> property : schema.path("properties").properties()) {
				JsonNode p = property.getValue();
				boolean documented = p.has("example") || p.path("items").has("example") || p.has("$ref")
						|| p.path("items").has("$ref") || p.path("format").asString("").equals("date-time")
						|| p.path("type").asString("").equals("boolean");
				if (!documented) {
					withoutExample.add(name + "." + property.getKey() + " " + p);
				}
			}
		}
		assertThat(withoutExample).as("training fields without an example").isEmpty();
	}

	@Test
	void theTrainingFeaturesExampleCreatesASessionThatStepsWithStatisticsAndHistory() throws Exception {
		JsonNode create = examples("post", CREATE).get("training features");
		JsonNode step = examples("post", STEPS).get("gradients and loss");
		assertThat(create).as("create example 'training features'").isNotNull();
		assertThat(step).as("step example 'gradients and loss'").isNotNull();
		String id = createSession(create);
		HttpResponse<String> response = send("POST", STEPS.replace("{id}", id), step);
		assertThat(response.statusCode()).as("step: %s", response.body()).isEqualTo(200);
		JsonNode answer = this.json.readTree(response.body());
		// the linear warm-up starts at a tenth of the learning rate
		assertThat(answer.path("learningRate").asDouble()).isEqualTo(0.003 * 0.1);
		assertThat(answer.path("gradNorm").asDouble()).isPositive();
		assertThat(answer.path("updateNorm").asDouble()).isPositive();
		assertThat(answer.path("skipped").asBoolean(true)).isFalse();
		HttpResponse<String> history = get(SESSION.replace("{id}", id) + "/history");
		assertThat(history.statusCode()).as("history: %s", history.body()).isEqualTo(200);
		JsonNode steps = this.json.readTree(history.body()).path("steps");
		assertThat(steps.size()).isEqualTo(1);
		assertThat(steps.get(0).path("loss").asDouble()).isEqualTo(0.6931);
	}

	@Test
	void putParametersExampleMakesASessionHoldThem() throws Exception {
		Map<String, JsonNode> examples = examples("put", PARAMETERS);
		assertThat(examples).isNotEmpty();
		for (Map.Entry<String, JsonNode> example : examples.entrySet()) {
			String id = createSession(this.json.readTree("{}"));
			HttpResponse<String> response = send("PUT", PARAMETERS.replace("{id}", id), example.getValue());
			assertThat(response.statusCode()).as("PUT with example '%s': %s", example.getKey(), response.body())
				.isEqualTo(204);
			HttpResponse<String> held = get(PARAMETERS.replace("{id}", id));
			assertThat(held.statusCode()).as("GET parameters: %s", held.body()).isEqualTo(200);
			assertThat(this.json.readTree(held.body()).propertyNames())
				.containsExactlyElementsOf(example.getValue().propertyNames());
		}
	}

	@Test
	void licenseHasItsSpdxIdentifier() {
		// openapi-generator's validator refuses a 3.1 document whose license has no identifier
		JsonNode license = this.docs.path("info").path("license");
		assertThat(license.path("name").asString("")).isEqualTo("Apache-2.0");
		assertThat(license.path("identifier").asString("")).isEqualTo("Apache-2.0");
	}

	@Test
	void everyProblemResponseReferencesTheOneProblemSchema() {
		List<String> problems = new ArrayList<>();
		List<String> otherwise = new ArrayList<>();
		forEachOperation((name, operation) -> {
			for (Map.Entry<String, JsonNode> response : operation.path("responses").properties()) {
				if (!response.getKey().startsWith("4") && !response.getKey().startsWith("5")) {
					continue;
				}
				String where = name + " " + response.getKey();
				problems.add(where);
				JsonNode content = response.getValue().path("content");
				if (!content.propertyNames().equals(Set.of("application/problem+json"))
						|| !content.path("application/problem+json").path("schema").path("$ref").asString("")
							.equals("#/components/schemas/Problem")) {
					otherwise.add(where + " " + content);
				}
			}
		});
		assertThat(problems).as("problem responses").contains("POST /v1/sessions/{id}/steps 422",
				"DELETE /v1/sessions/{id} 404", "DELETE /v1/sessions/{id} 412", "POST /v1/sessions 507");
		assertThat(otherwise).as("problem responses that are not the Problem schema").isEmpty();

		JsonNode schemas = this.docs.path("components").path("schemas");
		assertThat(schemas.path("Problem").path("properties").propertyNames()).as("RFC 9457 members")
			.containsExactlyInAnyOrder("type", "title", "status", "detail", "instance");
		assertThat(schemas.path("Problem").path("properties").path("type").path("format").asString(""))
			.isEqualTo("uri-reference");
		assertThat(schemas.propertyNames()).as("one problem schema").filteredOn(n -> n.contains("Problem"))
			.containsExactly("Problem");
	}

	@Test
	void everyTensorRefersToTheOneRecursiveTensorSchema() {
		// the shape openapi-generator 7.23 turns into working Python and TypeScript: a number or an array of tensors
		JsonNode tensor = this.docs.path("components").path("schemas").path("Tensor");
		assertThat(tensor.path("anyOf").toString()).isEqualTo("[{\"type\":\"number\"},{\"type\":\"array\"}]");
		assertThat(tensor.path("items").path("$ref").asString("")).isEqualTo("#/components/schemas/Tensor");
		assertThat(tensor.path("description").asString("")).contains("0-d tensor");

		JsonNode schemas = this.docs.path("components").path("schemas");
		String ref = "#/components/schemas/Tensor";
		assertThat(schemas.path("StepRequest").path("properties").path("gradients").path("additionalProperties")
			.path("$ref").asString("")).isEqualTo(ref);
		assertThat(schemas.path("StepResponse").path("properties").path("parameters").path("additionalProperties")
			.path("$ref").asString("")).isEqualTo(ref);
		for (String moment : List.of("firstMoment", "secondMoment", "maxSecondMoment", "parameter")) {
			JsonNode property = schemas.path("TensorStateDocument").path("properties").path(moment);
			assertThat(property.path("$ref").asString("")).as(moment).isEqualTo(ref);
			assertThat(property.path("description").asString("")).as(moment).isNotBlank();
		}
		assertThat(this.docs.path("paths").path(PARAMETERS).path("get").path("responses").path("200").path("content")
			.path("application/json").path("schema").path("additionalProperties").path("$ref").asString(""))
			.isEqualTo(ref);

		// and no tensor is described inline any more
		List<String> inline = new ArrayList<>();
		walk(this.docs, "", (where, node) -> {
			if (node.path("type").isArray() && node.path("type").toString().contains("\"array\"")
					&& node.path("type").toString().contains("\"number\"")) {
				inline.add(where);
			}
		});
		assertThat(inline).as("tensors described inline").isEmpty();
	}

	@Test
	void noSchemaThatARequestSendsDeclaresADefaultOrAReadOnlyField() {
		// openapi-typescript sends a declared default (precision beside state: a conflict); generated clients leave
		// readOnly fields out, and a checkpoint sent back must carry initialLearningRate and the schedule's position
		List<String> found = new ArrayList<>();
		Set<String> visited = new HashSet<>();
		forEachOperation((name, operation) -> {
			for (Map.Entry<String, JsonNode> media : operation.path("requestBody").path("content").properties()) {
				walkSchema(name + " " + media.getKey(), media.getValue().path("schema"), visited, found);
			}
		});
		assertThat(visited).as("schemas sent in requests").contains("CreateSessionRequest", "CheckpointDocument",
				"OptimizerSettings", "ScheduleSettings", "GroupSettings", "StepRequest", "PatchSessionRequest");
		assertThat(found).as("defaults and readOnly fields in what requests send").isEmpty();
	}

	/** Looks for default and readOnly in a schema and in every schema it refers to. */
	private void walkSchema(String where, JsonNode schema, Set<String> visited, List<String> found) {
		walk(schema, where, (at, node) -> {
			if (node.has("default")) {
				found.add(at + " default " + node.get("default"));
			}
			if (node.path("readOnly").asBoolean(false)) {
				found.add(at + " readOnly");
			}
			String ref = node.path("$ref").asString("");
			if (ref.startsWith("#/components/schemas/")) {
				String name = ref.substring("#/components/schemas/".length());
				if (visited.add(name)) {
					walkSchema(name, this.docs.path("components").path("schemas").path(name), visited, found);
				}
			}
		});
	}

	/** Calls {@code visit} for every object node under {@code node}, with its JSON path. */
	private static void walk(JsonNode node, String where,
			BiConsumer<String, JsonNode> visit) {
		if (node.isObject()) {
			visit.accept(where, node);
			for (Map.Entry<String, JsonNode> child : node.properties()) {
				walk(child.getValue(), where + "/" + child.getKey(), visit);
			}
		}
		else if (node.isArray()) {
			for (int i = 0; i < node.size(); i++) {
				walk(node.get(i), where + "/" + i, visit);
			}
		}
	}

	private void forEachOperation(BiConsumer<String, JsonNode> action) {
		for (Map.Entry<String, JsonNode> path : this.docs.path("paths").properties()) {
			for (Map.Entry<String, JsonNode> operation : path.getValue().properties()) {
				if (HTTP_METHODS.contains(operation.getKey())) {
					action.accept(operation.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey(),
							operation.getValue());
				}
			}
		}
	}

	/** The request body examples of an operation, by name, as the JSON values Swagger UI would send. */
	private Map<String, JsonNode> examples(String method, String path) {
		JsonNode content = this.docs.path("paths").path(path).path(method).path("requestBody").path("content");
		Map<String, JsonNode> examples = new LinkedHashMap<>();
		for (Map.Entry<String, JsonNode> mediaType : content.properties()) {
			for (Map.Entry<String, JsonNode> example : mediaType.getValue().path("examples").properties()) {
				examples.put(example.getKey(), value(example.getValue()));
			}
			if (mediaType.getValue().has("example")) {
				examples.put("example", value(mediaType.getValue().path("example")));
			}
		}
		return examples;
	}

	/** An example's value; springdoc may give it parsed or as a JSON string. */
	private JsonNode value(JsonNode example) {
		JsonNode value = example.has("value") ? example.path("value") : example;
		return value.isString() ? this.json.readTree(value.asString()) : value;
	}

	private String createSession(JsonNode body) throws Exception {
		HttpResponse<String> response = send("POST", CREATE, body);
		assertThat(response.statusCode()).as("create: %s", response.body()).isEqualTo(201);
		return this.json.readTree(response.body()).path("id").asString();
	}

	private HttpResponse<String> get(String path) throws Exception {
		return this.http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> send(String method, String path, JsonNode body) throws Exception {
		HttpRequest request = HttpRequest.newBuilder(uri(path))
			.header("Content-Type", "application/json")
			.header("Accept", "application/json")
			.method(method, HttpRequest.BodyPublishers.ofString(this.json.writeValueAsString(body)))
			.build();
		return this.http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	private URI uri(String path) {
		return URI.create("http://localhost:" + this.port + path);
	}

}
