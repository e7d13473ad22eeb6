package dev.adamopt.web;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code adam.cors.*}: defaults, binding, and self-validation that names the property and the bad value. */
class CorsPropertiesTest {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withUserConfiguration(Properties.class);

	@Test
	void defaultsShouldAllowNoOriginAndLetBrowsersReuseAPreflightForThirtyMinutes() {
		this.runner.run(context -> {
			CorsProperties cors = context.getBean(CorsProperties.class);
			assertThat(cors.allowedOrigins()).isEmpty();
			assertThat(cors.maxAge()).isEqualTo(Duration.ofMinutes(30));
		});
	}

	@Test
	void originsShouldBindFromACommaSeparatedListAsAnEnvironmentVariableGivesThem() {
		this.runner
			.withPropertyValues("adam.cors.allowed-origins= https://app.example.com, http://127.0.0.1:5173 ,",
					"adam.cors.max-age=2h")
			.run(context -> {
				CorsProperties cors = context.getBean(CorsProperties.class);
				assertThat(cors.allowedOrigins()).containsExactly("https://app.example.com", "http://127.0.0.1:5173");
				assertThat(cors.maxAge()).isEqualTo(Duration.ofHours(2));
			});
	}

	@Test
	void anEmptyValueShouldAllowNoOrigin() {
		this.runner.withPropertyValues("adam.cors.allowed-origins=")
			.run(context -> assertThat(context.getBean(CorsProperties.class).allowedOrigins()).isEmpty());
	}

	@Test
	void anyOriginShouldBeAllowedByAStar() {
		this.runner.withPropertyValues("adam.cors.allowed-origins=*")
			.run(context -> assertThat(context.getBean(CorsProperties.class).allowedOrigins()).containsExactly("*"));
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', textBlock = """
			app.example.com                   | does not start with http:// or https://
			ftp://app.example.com             | does not start with http:// or https://
			https://app.example.com/page.html | has a path, query or fragment
			https://app.example.com?x=1       | has a path, query or fragment
			https://user@app.example.com      | has no host name (or has a user name)
			https://*.example.com             | has no host name
			http://app example.com            | is not a URL
			""")
	void somethingThatIsNotAnOriginShouldFailStartupNamingThePropertyAndTheValue(String origin, String why) {
		this.runner.withPropertyValues("adam.cors.allowed-origins=https://ok.example.com," + origin)
			.run(context -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("adam.cors.allowed-origins: '" + origin + "' " + why)
				.hasMessageContaining("scheme://host[:port]"));
	}

	@Test
	void negativeMaxAgeShouldFailStartupNamingTheProperty() {
		this.runner.withPropertyValues("adam.cors.max-age=-1s")
			.run(context -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("adam.cors.max-age must not be negative, got PT-1S"));
	}

	@Configuration(proxyBeanMethods = false)
	@EnableConfigurationProperties(CorsProperties.class)
	static class Properties {

	}

}
