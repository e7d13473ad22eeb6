package dev.adamopt.security;

import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.Authentication;

/** Finds the key a request sent among the service's {@link ApiKeys}. */
final class ApiKeyAuthenticationProvider implements AuthenticationProvider {

	private final ApiKeys keys;

	ApiKeyAuthenticationProvider(ApiKeys keys) {
		this.keys = keys;
	}

	@Override
	public Authentication authenticate(Authentication authentication) {
		String key = (String) authentication.getCredentials();
		return this.keys.nameOf(key)
			.map(ApiKeyAuthentication::authenticated)
			.orElseThrow(() -> new BadCredentialsException("the API key sent in 'Authorization: Bearer' is not one of "
					+ "this service's keys: check the key (the service keeps only their SHA-256, "
					+ "adam.security.api-keys)"));
	}

	@Override
	public boolean supports(Class<?> authentication) {
		return ApiKeyAuthentication.class.isAssignableFrom(authentication);
	}

}
