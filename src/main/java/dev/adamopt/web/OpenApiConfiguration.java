package dev.adamopt.web;

import java.util.LinkedHashSet;
import java.util.List;

import dev.adamopt.tensor.Tensor;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.media.Schema;
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
