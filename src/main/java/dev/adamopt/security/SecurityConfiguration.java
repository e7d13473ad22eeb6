package dev.adamopt.security;

import java.time.Clock;
import java.util.List;

import dev.adamopt.session.KeyQuotas;
import dev.adamopt.session.PerKeyLimitsProperties;
import dev.adamopt.web.Pages;
import jakarta.servlet.DispatcherType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.intercept.AuthorizationFilter;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * API keys ({@link ApiSecurityProperties}): with keys, every request needs one ({@code Authorization: Bearer <key>})
 * except the OpenAPI document, Swagger UI, health and the visualization's pages, each unless switched off; without
 * keys the service is open.
 * Stateless: no HTTP session, no cookie, so no CSRF token either (a key in a header is nothing a browser sends by
 * itself). CORS preflights are answered before authentication ({@code cors()} uses the application's
 * {@code corsFilter}, which runs before this chain: {@code spring.security.filter.order}), so a preflight is never 401
 * and a 401 carries the CORS headers a page needs to read it. Spring Security writes no headers: the web layer's
 * {@code SecurityHeadersFilter} sets them all ({@code nosniff} and {@code X-Frame-Options: DENY} everywhere,
 * {@code no-store} on {@code /v1}) on every answer, those Tomcat makes before any filter included, with keys or not.
 * <p>
 * Without keys the chain matches no request: there is nothing to authenticate or authorize, so no request pays for
 * Spring Security's filters (they took about 15% of the tiny-step rate; README, Performance).
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSecurity
@EnableConfigurationProperties(ApiSecurityProperties.class)
class SecurityConfiguration implements WebMvcConfigurer {

	private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);

	private final ApiKeys keys;

	SecurityConfiguration(ApiSecurityProperties properties) {
		this.keys = new ApiKeys(properties.apiKeys());
		if (this.keys.configured()) {
			log.info("API keys: {} configured; every request needs one except those adam.security.open.* lets through",
					this.keys.size());
		}
		else {
			log.warn("No API keys are configured (adam.security.api-keys): the API is open to anyone who can reach it, "
					+ "and every client sees, changes and deletes every session");
		}
	}

	/**
	 * None of Spring Security's own observations: a timer per filter chain and counters before and after each of its
	 * filters, on every request, cost about a fifth of the tiny-step rate with API keys (README, Performance). Each request is
	 * still observed once, as {@code http.server.requests}; its refusals are counted as problems.
	 */
	@Bean
	SecurityObservationSettings securityObservationSettings() {
		return SecurityObservationSettings.noObservations();
	}

	@Bean
	ApiKeyAuthenticationProvider apiKeyAuthenticationProvider() {
		// an AuthenticationProvider bean also keeps Spring Boot from making a user with a generated password
		return new ApiKeyAuthenticationProvider(this.keys);
	}

	@Bean
	SecurityFilterChain securityFilterChain(HttpSecurity http, ApiSecurityProperties properties,
			ApiKeyAuthenticationProvider provider, PerKeyLimitsProperties perKey, KeyQuotas quotas, Clock clock) {
		if (!this.keys.configured()) {
			return http.securityMatcher((request) -> false).build();
		}
		ProblemAuthenticationEntryPoint entryPoint = new ProblemAuthenticationEntryPoint();
		http.csrf(AbstractHttpConfigurer::disable)
			.cors(Customizer.withDefaults())
			.headers(AbstractHttpConfigurer::disable)
			.httpBasic(AbstractHttpConfigurer::disable)
			.formLogin(AbstractHttpConfigurer::disable)
			.logout(AbstractHttpConfigurer::disable)
			.requestCache(AbstractHttpConfigurer::disable)
			.sessionManagement(sessions -> sessions.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
			.exceptionHandling(exceptions -> exceptions.authenticationEntryPoint(entryPoint))
			.authorizeHttpRequests(authorize -> {
				// an error answer (the problem /error writes, forwarded or included by Tomcat after a refusal) is never
				// itself refused: clients cannot make these dispatches
				authorize.dispatcherTypeMatchers(DispatcherType.ERROR, DispatcherType.INCLUDE).permitAll();
				ApiSecurityProperties.Open open = properties.open();
				if (open.apiDocs()) {
					authorize.requestMatchers("/v3/api-docs", "/v3/api-docs/**").permitAll();
				}
				if (open.swaggerUi()) {
					authorize.requestMatchers("/swagger-ui.html", "/swagger-ui/**").permitAll();
				}
				if (open.health()) {
					authorize.requestMatchers("/actuator/health", "/actuator/health/**").permitAll();
				}
				if (open.pages()) {
					authorize.requestMatchers(Pages.PATHS.toArray(String[]::new)).permitAll();
				}
				authorize.anyRequest().authenticated();
			});
		http.addFilterBefore(new ApiKeyAuthenticationFilter(new ProviderManager(provider), entryPoint),
				AnonymousAuthenticationFilter.class)
			.addFilterAfter(new KeyLimitsFilter(perKey.requestsPerSecond(), quotas, clock), AuthorizationFilter.class);
		return http.build();
	}

	@Override
	public void addArgumentResolvers(List<HandlerMethodArgumentResolver> resolvers) {
		resolvers.add(new CallerResolver(this.keys));
	}

}
