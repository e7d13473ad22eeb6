package dev.adamopt.web;

import java.util.LinkedHashSet;
import java.util.List;

import dev.adamopt.tensor.Tensor;
import io.swagger.v3.oas.models.OpenAPI;
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

@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

	static {
		// A tensor is what numpy's tolist() writes; describe it as such rather than as the Java class.
		SpringDocUtils.getConfig()
			.replaceWithSchema(Tensor.class, new Schema<Object>().types(new LinkedHashSet<>(List.of("array", "number")))
				.description(
					"A tensor as numpy's tolist() writes it: nested arrays of numbers, rectangular, any depth up to "
							+ Tensor.MAX_RANK + "; a bare number is a 0-d tensor, [] an empty one. Numbers must be "
							+ "finite. It comes back in the shape it was sent.")
				.example(List.of(List.of(0.5, -0.2), List.of(0.1, 0.3))));
	}

	/**
	 * Documents the problems each operation can answer with, as RFC 9457 {@code application/problem+json}, so that
	 * clients generated from the document know the error shape.
	 */
	@Bean
	OpenApiCustomizer problemResponses() {
		return openApi -> {
			openApi.getComponents().addSchemas("Problem", problemSchema());
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
			}));
		};
	}

	private static ApiResponse problem(String description) {
		return new ApiResponse().description(description)
			.content(new Content().addMediaType("application/problem+json",
					new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"))));
	}

	private static Schema<?> problemSchema() {
		return new ObjectSchema().description("An RFC 9457 problem: what went wrong and what to fix.")
			.addProperty("type", new StringSchema().description("Stable URI of the kind of problem, e.g. "
					+ "/problems/tensor-mismatch; see the README's problems table."))
			.addProperty("title", new StringSchema().description("Fixed short title of the kind of problem."))
			.addProperty("status", new IntegerSchema().description("The HTTP status code."))
			.addProperty("detail", new StringSchema().description("What is wrong in this request and how to fix it."))
			.addProperty("instance", new StringSchema().description("The path of the request."));
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
			.license(new License().name("Apache-2.0")));
	}

}
