package dev.adamopt.web;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.http.server.PathContainer;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.cors.CorsConfigurationSource;
import org.springframework.web.filter.CorsFilter;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The beans of {@link BrowserConfiguration}, and what happens when Spring Security's {@code cors(withDefaults())}
 * runs the {@code corsFilter} bean a second time inside its own filter chain (or, had it made one, a plain
 * {@code CorsFilter} over the same {@code corsConfigurationSource}): one CORS answer, never two. And which answers
 * {@link SecurityHeadersFilter} marks.
 */
class BrowserConfigurationTest {

	private static final String ALLOWED = "https://app.example.com";

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withUserConfiguration(BrowserConfiguration.class)
		.withPropertyValues("adam.cors.allowed-origins=" + ALLOWED);

	@Test
	void contextShouldHoldOneCorsConfigurationSourceAndOneCorsFilterUnderTheNamesSpringSecurityLooksFor() {
		this.runner.run(context -> {
			assertThat(context.getBeanNamesForType(CorsConfigurationSource.class))
				.containsExactly("corsConfigurationSource");
			assertThat(context.getBeanNamesForType(CorsFilter.class)).containsExactly("corsFilter");
		});
	}

	@Test
	void sameCorsFilterRunAgainInsideSpringSecuritysChainShouldAnswerOnce() {
		this.runner.run(context -> {
			CorsFilter cors = context.getBean("corsFilter", CorsFilter.class);
			Exchange actual = exchange(request("GET", ALLOWED), cors, cors);
			assertThat(actual.served.get()).isEqualTo(1);
			assertThat(actual.response.getHeaders("Access-Control-Allow-Origin")).containsExactly(ALLOWED);
			assertThat(actual.response.getHeaders("Access-Control-Expose-Headers")).hasSize(1);
			assertThat(actual.response.getHeaders("Vary")).doesNotHaveDuplicates();

			Exchange preflight = exchange(preflight(ALLOWED), cors, cors);
			assertThat(preflight.served.get()).as("a preflight goes no further than the first CORS filter").isZero();
			assertThat(preflight.response.getStatus()).isEqualTo(200);
			assertThat(preflight.response.getHeaders("Access-Control-Allow-Origin")).containsExactly(ALLOWED);
			assertThat(preflight.response.getHeaders("Access-Control-Allow-Methods")).hasSize(1);
		});
	}

	@Test
	void plainCorsFilterOverTheSameSourceAfterOursShouldAddNothing() {
		this.runner.run(context -> {
			CorsFilter cors = context.getBean("corsFilter", CorsFilter.class);
			CorsFilter plain = new CorsFilter(context.getBean("corsConfigurationSource", CorsConfigurationSource.class));
			Exchange actual = exchange(request("POST", ALLOWED), cors, plain);
			assertThat(actual.served.get()).isEqualTo(1);
			assertThat(actual.response.getHeaders("Access-Control-Allow-Origin")).containsExactly(ALLOWED);
			assertThat(actual.response.getHeaders("Access-Control-Expose-Headers")).hasSize(1);
			assertThat(actual.response.getHeaders("Vary")).doesNotHaveDuplicates();

			Exchange refused = exchange(request("POST", "https://evil.example.net"), cors, plain);
			assertThat(refused.served.get()).as("a refused request goes no further").isZero();
			assertThat(refused.response.getStatus()).isEqualTo(403);
			assertThat(refused.response.getContentType()).startsWith("application/problem+json");
			assertThat(refused.response.getContentAsString()).contains("/problems/cross-origin-not-allowed")
				.doesNotContain("Invalid CORS request");
		});
	}

	@Test
	void noStoreShouldBeSetForTheApiOnly() throws Exception {
		for (String path : new String[] { "/v1/sessions", "/v1/sessions/x/steps", "/v1" }) {
			MockHttpServletResponse response = filter(new SecurityHeadersFilter(), path);
			assertThat(response.getHeader("X-Content-Type-Options")).as(path).isEqualTo("nosniff");
			assertThat(response.getHeaders("Cache-Control")).as(path).containsExactly("no-store");
		}
		for (String path : new String[] { "/actuator/health", "/v3/api-docs", "/v10/x", "/swagger-ui/index.html" }) {
			MockHttpServletResponse response = filter(new SecurityHeadersFilter(), path);
			assertThat(response.getHeader("X-Content-Type-Options")).as(path).isEqualTo("nosniff");
			assertThat(response.getHeader("Cache-Control")).as(path).isNull();
		}
	}

	@Test
	void contentSecurityPolicyShouldBeSetOnThePagesOnlyWhichArePagesPathsAsSpringMatchesThem() throws Exception {
		PathPatternParser parser = new PathPatternParser();
		List<PathPattern> patterns = Pages.PATHS.stream().map(parser::parse).toList();
		for (String path : new String[] { "/", "/index.html", "/sessions.html", "/assets/surface.js",
				"/assets/pages.css", "/assets/sub/x.js", "/assets", "/assets/", "/v1/sessions", "/v1",
				"/swagger-ui.html", "/swagger-ui/index.html", "/v3/api-docs", "/actuator/health", "/index.htm",
				"/sessions.html/x", "/assetsx/a.js", "/x/assets/a.js", "/error", "/favicon.ico" }) {
			boolean page = patterns.stream().anyMatch(pattern -> pattern.matches(PathContainer.parsePath(path)));
			MockHttpServletResponse response = filter(new SecurityHeadersFilter(), path);
			assertThat(response.getHeader("X-Content-Type-Options")).as(path).isEqualTo("nosniff");
			assertThat(response.getHeader("X-Frame-Options")).as(path).isEqualTo("DENY");
			if (page) {
				assertThat(response.getHeaders("Content-Security-Policy")).as(path)
					.containsExactly(Pages.CONTENT_SECURITY_POLICY);
				assertThat(response.getHeader("Cache-Control")).as(path).isNull();
			}
			else {
				assertThat(response.getHeader("Content-Security-Policy")).as(path).isNull();
			}
		}
		assertThat(Pages.CONTENT_SECURITY_POLICY).startsWith("default-src 'self';").contains("form-action 'none'")
			.doesNotContain("unsafe");
	}

	private static MockHttpServletResponse filter(Filter filter, String path) throws Exception {
		MockHttpServletRequest request = new MockHttpServletRequest("GET", path);
		request.setServletPath(path);
		MockHttpServletResponse response = new MockHttpServletResponse();
		filter.doFilter(request, response, new MockFilterChain());
		return response;
	}

	private static MockHttpServletRequest request(String method, String origin) {
		MockHttpServletRequest request = new MockHttpServletRequest(method, "/v1/sessions");
		request.setServletPath("/v1/sessions");
		request.addHeader("Origin", origin);
		return request;
	}

	private static MockHttpServletRequest preflight(String origin) {
		MockHttpServletRequest request = request("OPTIONS", origin);
		request.addHeader("Access-Control-Request-Method", "POST");
		request.addHeader("Access-Control-Request-Headers", "content-type,authorization");
		return request;
	}

	/** The request through {@code outer}, then {@code inner} (Spring Security's chain), then the API. */
	private static Exchange exchange(HttpServletRequest request, Filter outer, Filter inner) throws Exception {
		AtomicInteger served = new AtomicInteger();
		HttpServlet api = new HttpServlet() {
			@Override
			protected void service(HttpServletRequest req, HttpServletResponse resp) {
				served.incrementAndGet();
				resp.setStatus(200);
			}
		};
		MockHttpServletResponse response = new MockHttpServletResponse();
		new MockFilterChain(api, outer, inner).doFilter(request, response);
		return new Exchange(response, served);
	}

	private record Exchange(MockHttpServletResponse response, AtomicInteger served) {
	}

}
