package dev.adamopt.security;

import java.util.List;

import org.springframework.security.authentication.AbstractAuthenticationToken;

/**
 * A request's API key: as sent (not yet authenticated, the key as its credentials), or as found (authenticated, the
 * key's name as its principal, the key itself erased). Its {@code toString} never shows the key.
 */
final class ApiKeyAuthentication extends AbstractAuthenticationToken {

	private final String name;

	private String key;

	private ApiKeyAuthentication(String name, String key) {
		super(List.of());
		this.name = name;
		this.key = key;
		setAuthenticated(name != null);
	}

	/** The key a request sent, to be looked up. */
	static ApiKeyAuthentication unauthenticated(String key) {
		return new ApiKeyAuthentication(null, key);
	}

	/** The service's key with this name. */
	static ApiKeyAuthentication authenticated(String name) {
		return new ApiKeyAuthentication(name, null);
	}

	@Override
	public Object getCredentials() {
		return this.key;
	}

	@Override
	public Object getPrincipal() {
		return this.name;
	}

	@Override
	public String getName() {
		return (this.name != null) ? this.name : "";
	}

	@Override
	public void eraseCredentials() {
		this.key = null;
	}

	@Override
	public boolean equals(Object other) {
		return this == other;
	}

	@Override
	public int hashCode() {
		return System.identityHashCode(this);
	}

	@Override
	public String toString() {
		return (this.name != null) ? "API key '" + this.name + "'" : "an API key to look up";
	}

}
