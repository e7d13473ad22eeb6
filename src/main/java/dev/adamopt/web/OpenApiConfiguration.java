package dev.adamopt.web;

import java.math.BigDecimal;
import java.util.List;
import java.util.Set;

import dev.adamopt.tensor.Tensor;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.utils.SpringDocUtils;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;

@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

	/** The one schema of a tensor, in components; every tensor in the document refers to it. */
	static final String TENSOR = "Tensor";

	static final String PROBLEM = "Problem";

	static {
		// Wherever a Tensor is in a DTO, the document refers to the one Tensor schema (added to the components below)
		// rather than describing the Java class.
		SpringDocUtils.getConfig().replaceWithSchema(Tensor.class, ref(TENSOR));
	}

	/**
	 * A tensor as a recursive schema that generators understand: a number, or an array of tensors. openapi-generator
	 * 7.23 turns a plain recursive oneOf/anyOf into Python that cannot read nested lists and TypeScript that does not
	 * compile; this shape (anyOf the two JSON types, items a tensor) it reads as "any JSON value", so a 0-d tensor and a
	 * nested list both pass, and validators still see the recursion.
	 */
	@Bean
	OpenApiCustomizer tensorSchema() {
		return openApi -> openApi.getComponents().addSchemas(TENSOR, new Schema<Object>()
			.anyOf(List.of(new Schema<Object>().types(Set.of("number")), new Schema<Object>().types(Set.of("array"))))
			.items(ref(TENSOR))
			.description("A tensor as numpy's tolist() writes it: nested arrays of numbers, rectangular, any depth up "
					+ "to " + Tensor.MAX_RANK + "; a bare number is a 0-d tensor, [] an empty one. Numbers must be "
					+ "finite (gradients may also hold NaN, Infinity and -Infinity, see nonFinite). It comes back in "
					+ "the shape it was sent.")
			.example(List.of(List.of(0.5, -0.2), List.of(0.1, 0.3))));
	}

	/**
	 * Documents the problems each operation can answer with, as RFC 9457 {@code application/problem+json}, so that
	 * clients generated from the document know the error shape.
	 */
	@Bean
	OpenApiCustomizer problemResponses() {
		return openApi -> {
			openApi.getComponents().addSchemas(PROBLEM, problemSchema());
			openApi.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, operation) -> {
				ApiResponses responses = operation.getResponses();
				boolean hasBody = operation.getRequestBody() != null;
				boolean hasId = path.contains("{id}");
				if (hasBody) {
					responses.addApiResponse("400", problem("The body is malformed or a value is out of range."));
					responses.addApiResponse("415", problem("The body's Content-Type is not accepted here."));
					responses.addApiResponse("408", problem("The whole body did not arrive within "
							+ "adam.limits.request-body-timeout; nothing was changed."));
					responses.addApiResponse("413", problem("The body is longer than adam.limits.max-request-size; "
							+ "nothing was changed."));
					responses.addApiResponse("503", problem("As many large or chunked bodies as the service takes at "
							+ "once are being received; retry after Retry-After seconds."));
				}
				if (hasId) {
					responses.addApiResponse("404", problem("No session has this id."));
				}
				if (path.endsWith("/steps") || path.endsWith("/parameters") && method == PathItem.HttpMethod.PUT) {
					responses.addApiResponse("422", problem("The tensors do not fit the session."));
				}
				if (method == PathItem.HttpMethod.PATCH) {
					responses.addApiResponse("409", problem("A setting that cannot change was changed."));
				}
				if (path.endsWith("/parameters") && method == PathItem.HttpMethod.GET) {
					responses.addApiResponse("409", problem("The session does not hold its parameters."));
				}
				boolean takesIfMatch = hasHeader(operation, HttpHeaders.IF_MATCH);
				boolean takesIdempotencyKey = hasHeader(operation, IdempotencyKeys.HEADER);
				if (takesIfMatch) {
					responses.addApiResponse("412", problem("The session has changed since the ETag in If-Match; "
							+ "nothing was changed."));
				}
				if ((takesIfMatch || takesIdempotencyKey || hasQuery(operation)) && !responses.containsKey("400")) {
					responses.addApiResponse("400", problem("A header or query parameter is malformed."));
				}
				if (takesIdempotencyKey) {
					responses.addApiResponse("422", problem("The tensors do not fit the session, or the "
							+ "Idempotency-Key was used before with another body."));
				}
				if (path.endsWith("/steps")) {
					responses.addApiResponse("409", problem("The Idempotency-Key belongs to an older step than the "
							+ "session's last one."));
				}
				if (hasBody && method != PathItem.HttpMethod.PATCH) {
					responses.addApiResponse("507", problem("Not enough memory left (adam.limits.memory) or too "
							+ "many sessions (adam.limits.max-sessions); nothing was changed."));
				}
			}));
		};
	}

	private static boolean hasHeader(Operation operation, String name) {
		return operation.getParameters() != null && operation.getParameters()
			.stream()
			.anyMatch(p -> "header".equals(p.getIn()) && name.equalsIgnoreCase(p.getName()));
	}

	private static boolean hasQuery(Operation operation) {
		return operation.getParameters() != null
				&& operation.getParameters().stream().anyMatch(p -> "query".equals(p.getIn()));
	}

	private static ApiResponse problem(String description) {
		return new ApiResponse().description(description)
			.content(new Content().addMediaType("application/problem+json",
					new MediaType().schema(ref(PROBLEM))));
	}

	/** The RFC 9457 problem, the one schema of every 4xx and 5xx answer. */
	private static Schema<?> problemSchema() {
		return new ObjectSchema().description("An RFC 9457 problem (application/problem+json): what went wrong and what "
				+ "to fix.")
			.addProperty("type", new StringSchema().format("uri-reference")
				.description("A URI reference that identifies the kind of problem, stable across releases, e.g. "
						+ "/problems/tensor-mismatch; see the README's problems table.")
				.example("/problems/tensor-mismatch"))
			.addProperty("title", new StringSchema().description("A short summary of the kind of problem; the same for "
					+ "every problem of this type.").example("Tensors do not fit the session"))
			.addProperty("status", new IntegerSchema().minimum(BigDecimal.valueOf(400))
				.maximum(BigDecimal.valueOf(599))
				.description("The HTTP status code of the answer.")
				.example(422))
			.addProperty("detail", new StringSchema().description("What is wrong in this request and how to fix it.")
				.example("gradients 'dW1' has shape [2, 3], expected [2, 2]"))
			.addProperty("instance", new StringSchema().format("uri-reference")
				.description("A URI reference of this occurrence of the problem: the path of the request.")
				.example("/v1/sessions/0b9d2a5e-8a53-4d47-b7a0-5ad9e3d6d2c1/steps"));
	}

	private static Schema<Object> ref(String name) {
		return new Schema<Object>().$ref("#/components/schemas/" + name);
	}

	/**
	 * API keys: a {@code bearer} security scheme (Swagger UI's Authorize button takes the key and sends it with every
	 * request it makes), required by every {@code /v1} operation, which may then answer 401 and 429.
	 */
	@Bean
	OpenApiCustomizer bearerSecurity() {
		return openApi -> {
			openApi.getComponents()
				.addSecuritySchemes(BEARER, new SecurityScheme().type(SecurityScheme.Type.HTTP)
					.scheme("bearer")
					.description("An API key (adam.security.api-keys), sent as 'Authorization: Bearer <key>'. A "
							+ "service without keys takes requests without one."));
			openApi.getPaths().forEach((path, item) -> {
				if (path.startsWith("/v1/")) {
					item.readOperations().forEach(operation -> {
						operation.addSecurityItem(new SecurityRequirement().addList(BEARER));
						operation.getResponses()
							.addApiResponse("401", problem("The service has API keys and the request has none, or one it "
									+ "does not know (WWW-Authenticate: Bearer)."))
							.addApiResponse("429", problem("The API key made more requests per second than "
									+ "adam.limits.per-key.requests-per-second; retry after Retry-After seconds."));
					});
				}
			});
		};
	}

	/** The name of the API keys' security scheme. */
	static final String BEARER = "bearer";

	@Bean
	OpenAPI adamOpenApi() {
		return new OpenAPI().info(new Info().title("Adam optimizer service")
			.version("v1")
			.description("Runs the Adam / AdamW optimizer (exactly torch.optim's arithmetic) for training loops that "
					+ "live outside the JVM. The client keeps the model and computes gradients; the service keeps the "
					+ "optimizer state between calls. Errors are RFC 9457 problems (application/problem+json).")
			.license(new License().name("Apache-2.0").identifier("Apache-2.0")));
	}

}
