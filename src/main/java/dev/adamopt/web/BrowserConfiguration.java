package dev.adamopt.web;

import java.util.EnumSet;
import java.util.List;

import jakarta.servlet.DispatcherType;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;
import org.springframework.web.filter.CorsFilter;

/**
 * What browsers need: CORS for the pages of {@code adam.cors.allowed-origins}, and the security headers of every
 * answer ({@link SecurityHeadersFilter}).
 * <p>
 * <b>One CORS answer, from one place.</b> The {@code corsConfigurationSource} bean holds the rules (for {@code /v1/**}
 * only), and the {@code corsFilter} bean applies them, as a servlet filter ahead of everything but the security headers
 * and the request observation: a preflight is answered (or refused with a problem) there and goes no further, and an
 * actual request leaves it with its {@code Access-Control-*} headers already set (or is refused). Spring MVC has no
 * CORS rules of its own (no {@code @CrossOrigin}, no {@code addCorsMappings}), so it never adds a second answer.
 * <p>
 * With Spring Security, {@code http.cors(Customizer.withDefaults())} takes the bean named {@code corsFilter} as its own
 * CORS filter (it prefers that bean over one it would make from {@code corsConfigurationSource}). That is this very
 * instance: being a {@code OncePerRequestFilter}, it sees that it has already run for the request and passes it on, so
 * it never answers twice; preflights, which carry no credentials, are answered before Spring Security's filter chain
 * and need no API key. Do not declare another {@code CorsConfigurationSource} or {@code CorsFilter} bean, nor pass a
 * source to {@code cors(...)}: that would make a second filter with Spring's plain-text 403 instead of a problem.
 * (Spring MVC's {@code HandlerMappingIntrospector} is a {@code CorsConfigurationSource} too, without rules here.)
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(CorsProperties.class)
class BrowserConfiguration {

	/** The API's methods (HEAD answers every GET). */
	static final List<String> ALLOWED_METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE");

	/** The request headers the API reads, beside the ones browsers send without asking (Accept). */
	static final List<String> ALLOWED_HEADERS = List.of(HttpHeaders.CONTENT_TYPE, HttpHeaders.AUTHORIZATION,
			IdempotencyKeys.HEADER, HttpHeaders.IF_MATCH);

	/**
	 * The answer headers a page may read, beside those it always may (Content-Type, Cache-Control, ...): the new
	 * session's Location, the ETag to send back in If-Match, whether a step was replayed, how long to wait after a 503
	 * or 429, and why a key was refused (a 401's WWW-Authenticate: no key, or {@code error="invalid_token"}).
	 */
	static final List<String> EXPOSED_HEADERS = List.of(HttpHeaders.LOCATION, HttpHeaders.ETAG,
			IdempotencyKeys.REPLAYED_HEADER, HttpHeaders.RETRY_AFTER, HttpHeaders.WWW_AUTHENTICATE);

	/** The API's paths: CORS and {@code Cache-Control: no-store} apply to them. */
	static final String API = "/v1/**";

	/**
	 * The CORS rules: for {@code /v1/**}, the allowed origins, without credentials (keys travel in the Authorization
	 * header, not in cookies). No rules at all when no origin is allowed, so that a request that merely carries an
	 * {@code Origin} header (as a same-origin POST from Swagger UI does) is served as before.
	 */
	@Bean
	UrlBasedCorsConfigurationSource corsConfigurationSource(CorsProperties cors) {
		UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
		if (!cors.allowedOrigins().isEmpty()) {
			CorsConfiguration api = new CorsConfiguration();
			api.setAllowedOrigins(cors.allowedOrigins());
			api.setAllowedMethods(ALLOWED_METHODS);
			api.setAllowedHeaders(ALLOWED_HEADERS);
			api.setExposedHeaders(EXPOSED_HEADERS);
			api.setAllowCredentials(false);
			api.setMaxAge(cors.maxAge());
			source.registerCorsConfiguration(API, api);
		}
		return source;
	}

	/** The one CORS filter; its name is what Spring Security looks for (see above). */
	@Bean
	CorsFilter corsFilter(UrlBasedCorsConfigurationSource corsConfigurationSource, CorsProperties cors) {
		CorsFilter filter = new CorsFilter(corsConfigurationSource);
		filter.setCorsProcessor(new ProblemCorsProcessor(!cors.allowedOrigins().isEmpty()));
		return filter;
	}

	/**
	 * Right after the observation filter (so refusals are measured), before the request body filter (so its 408, 413
	 * and 503 problems carry the CORS headers a page needs to read them).
	 */
	@Bean
	FilterRegistrationBean<CorsFilter> corsFilterRegistration(CorsFilter corsFilter) {
		FilterRegistrationBean<CorsFilter> registration = new FilterRegistrationBean<>(corsFilter);
		registration.setName("corsFilter");
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 2);
		registration.setAsyncSupported(true);
		return registration;
	}

	/** First of all filters, on every dispatch, so that every answer that passes a filter carries the headers. */
	@Bean
	FilterRegistrationBean<SecurityHeadersFilter> securityHeadersFilter() {
		FilterRegistrationBean<SecurityHeadersFilter> registration = new FilterRegistrationBean<>(
				new SecurityHeadersFilter());
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
		registration.setDispatcherTypes(EnumSet.allOf(DispatcherType.class));
		registration.setAsyncSupported(true);
		return registration;
	}

}
