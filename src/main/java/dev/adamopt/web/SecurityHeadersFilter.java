package dev.adamopt.web;

import java.io.IOException;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpHeaders;

/**
 * The headers that keep browsers and caches from misusing an answer, set before anything else runs, so that every
 * answer carries them whoever writes it (Spring MVC, {@code /error}, the request body filter, the CORS filter; what
 * Tomcat refuses before any filter gets both from {@link ProblemResponses}, as every problem written below Spring MVC):
 * <ul>
 * <li>{@code X-Content-Type-Options: nosniff} on every answer: a browser never takes JSON or a safetensors file for
 * a script or a page.</li>
 * <li>{@code X-Frame-Options: DENY} on every answer: no page may frame the service's (Swagger UI included), so none
 * can trick a user into clicking in it.</li>
 * <li>{@code Cache-Control: no-store} on every answer of the API ({@code /v1}), problems included: each carries a
 * session's parameters, moments, step, settings or history (or the list of sessions), which no browser or proxy
 * cache may keep or serve again; a stale copy of a session is never what a client wants. ETags stay: they are for
 * {@code If-Match}, not for caching.</li>
 * <li>{@code Content-Security-Policy} on the visualization's pages ({@link Pages}): scripts, styles and everything
 * else from the service's own origin only, nothing inline.</li>
 * </ul>
 * Headers are set, not added, so a later writer that sets them too never makes a duplicate. These are all the
 * security headers: Spring Security writes none of its own (see {@code SecurityConfiguration}), so they are the
 * same with API keys and without.
 */
final class SecurityHeadersFilter implements Filter {

	static final String NOSNIFF_HEADER = "X-Content-Type-Options";

	static final String FRAME_OPTIONS_HEADER = "X-Frame-Options";

	static final String CONTENT_SECURITY_POLICY_HEADER = "Content-Security-Policy";

	@Override
	public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
			throws IOException, ServletException {
		HttpServletResponse http = (HttpServletResponse) response;
		http.setHeader(NOSNIFF_HEADER, "nosniff");
		http.setHeader(FRAME_OPTIONS_HEADER, "DENY");
		HttpServletRequest servletRequest = (HttpServletRequest) request;
		if (isApi(servletRequest)) {
			http.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
		}
		else if (Pages.isPage(servletRequest)) {
			http.setHeader(CONTENT_SECURITY_POLICY_HEADER, Pages.CONTENT_SECURITY_POLICY);
		}
		chain.doFilter(request, response);
	}

	/** Whether the request is for the API: its path, decoded and normalized as Spring MVC maps it, is under /v1. */
	static boolean isApi(HttpServletRequest request) {
		String path = request.getServletPath() + ((request.getPathInfo() != null) ? request.getPathInfo() : "");
		return path.equals("/v1") || path.startsWith("/v1/");
	}

}
