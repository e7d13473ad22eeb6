package dev.adamopt.security;

import java.io.IOException;

import dev.adamopt.web.ProblemResponses;
import dev.adamopt.web.ProblemType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;

/**
 * A request without a valid API key, answered as the service answers every error: {@code 401}
 * {@code /problems/unauthorized}, with {@code WWW-Authenticate: Bearer} (RFC 6750: with {@code error="invalid_token"}
 * when a key was sent but is not one of the service's). The detail never quotes the key.
 */
final class ProblemAuthenticationEntryPoint implements AuthenticationEntryPoint {

	static final String MISSING = "this service needs an API key: send it as 'Authorization: Bearer <key>' (see the "
			+ "README's Authentication section)";

	@Override
	public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException ex)
			throws IOException {
		boolean invalid = ex instanceof BadCredentialsException;
		response.setHeader(HttpHeaders.WWW_AUTHENTICATE,
				invalid ? "Bearer error=\"invalid_token\"" : "Bearer");
		ProblemResponses.refuse(request, response, ProblemType.UNAUTHORIZED, invalid ? ex.getMessage() : MISSING);
	}

}
