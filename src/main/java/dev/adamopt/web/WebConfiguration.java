package dev.adamopt.web;

import java.util.List;

import dev.adamopt.session.CheckpointFormat;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;

import org.springframework.context.annotation.Configuration;
import org.springframework.http.converter.HttpMessageConverters;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

@Configuration(proxyBeanMethods = false)
class WebConfiguration implements WebMvcConfigurer {

	private final JsonMapper jsonMapper;

	WebConfiguration(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	@Override
	public void configureMessageConverters(HttpMessageConverters.ServerBuilder builder) {
		builder.addCustomConverter(new SafetensorsHttpMessageConverter(new CheckpointFormat(this.jsonMapper)));
	}

	@Override
	public void addArgumentResolvers(List<HandlerMethodArgumentResolver> resolvers) {
		resolvers.add(new IdempotencyKeys.Resolver());
	}

	/** Late in the chain, so it digests the body as the controller reads it, after any filter that buffers it. */
	@Bean
	FilterRegistrationBean<IdempotencyKeys.DigestFilter> idempotencyDigestFilter() {
		FilterRegistrationBean<IdempotencyKeys.DigestFilter> registration = new FilterRegistrationBean<>(
				new IdempotencyKeys.DigestFilter());
		registration.setOrder(Ordered.LOWEST_PRECEDENCE - 100);
		return registration;
	}

}
