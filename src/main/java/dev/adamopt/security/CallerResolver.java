package dev.adamopt.security;

import dev.adamopt.session.Caller;

import org.springframework.core.MethodParameter;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.bind.support.WebDataBinderFactory;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;

/**
 * Gives a controller the request's {@link Caller}: the API key it was authenticated with, or anyone when the service
 * has no keys. With keys, a request that reaches a controller without a key is a fault of the configuration, not a
 * caller: it fails rather than be served as anyone.
 */
final class CallerResolver implements HandlerMethodArgumentResolver {

	private final ApiKeys keys;

	CallerResolver(ApiKeys keys) {
		this.keys = keys;
	}

	@Override
	public boolean supportsParameter(MethodParameter parameter) {
		return parameter.getParameterType() == Caller.class;
	}

	@Override
	public Caller resolveArgument(MethodParameter parameter, ModelAndViewContainer mavContainer,
			NativeWebRequest webRequest, WebDataBinderFactory binderFactory) {
		Authentication authentication = SecurityContextHolder.getContextHolderStrategy().getContext().getAuthentication();
		if (authentication instanceof ApiKeyAuthentication key && key.isAuthenticated()) {
			return Caller.key(key.getName());
		}
		if (this.keys.configured()) {
			throw new IllegalStateException("a request reached " + parameter.getExecutable().getName()
					+ " without an API key although the service has keys: the security configuration lets it through");
		}
		return Caller.anyone();
	}

}
