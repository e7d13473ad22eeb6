package dev.adamopt.security;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextHolderStrategy;
import org.springframework.security.web.AuthenticationEntryPoint;

/**
 * Authenticates a request by the API key in its {@code Authorization: Bearer <key>} header. A request without the
 * header goes on unauthenticated (the authorization rules then answer 401 where a key is needed); a key the service
 * does not know, or another kind of Authorization, is answered 401 here.
 * <p>
 * Runs before any request body is read (a request without a valid key does not get to send one), and again on the
 * async dispatch of a request whose small body was read ahead, which the controller then serves.
 */
final class ApiKeyAuthenticationFilter extends RequestDispatchFilter {

	private static final String BEARER = "Bearer ";

	/** The request's authentication, once its key is checked. */
	private static final String AUTHENTICATED = ApiKeyAuthenticationFilter.class.getName() + ".AUTHENTICATED";

	private final AuthenticationManager authenticationManager;

	private final AuthenticationEntryPoint entryPoint;

	private final SecurityContextHolderStrategy contexts = SecurityContextHolder.getContextHolderStrategy();

	ApiKeyAuthenticationFilter(AuthenticationManager authenticationManager, AuthenticationEntryPoint entryPoint) {
		this.authenticationManager = authenticationManager;
		this.entryPoint = entryPoint;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
		if (authorization == null) {
			chain.doFilter(request, response);
			return;
		}
		try {
			if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())
					|| authorization.substring(BEARER.length()).isBlank()) {
				throw new BadCredentialsException("the Authorization header must be 'Bearer <key>', with the API key "
						+ "after 'Bearer '");
			}
			// the async dispatch of a body read ahead is the same request: its key was checked (hashed) already
			Authentication authenticated = (Authentication) request.getAttribute(AUTHENTICATED);
			if (authenticated == null) {
				String key = authorization.substring(BEARER.length()).strip();
				authenticated = this.authenticationManager.authenticate(ApiKeyAuthentication.unauthenticated(key));
				request.setAttribute(AUTHENTICATED, authenticated);
			}
			SecurityContext context = this.contexts.createEmptyContext();
			context.setAuthentication(authenticated);
			this.contexts.setContext(context);
		}
		catch (AuthenticationException ex) {
			this.contexts.clearContext();
			this.entryPoint.commence(request, response, ex);
			return;
		}
		chain.doFilter(request, response);
	}

}
