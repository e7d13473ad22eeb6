package dev.adamopt.web;

import java.util.List;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The visualization's pages, served by Spring Boot from {@code src/main/resources/static}: the surface page at
 * {@code /} ({@code index.html}), the sessions page ({@code sessions.html}) and their scripts, style sheet and icon
 * under {@code /assets/}. They are static files with no data in them: everything they show they fetch from the API,
 * with the caller's key. So with API keys they load without one ({@code adam.security.open.pages}, on by default).
 * <p>
 * They carry a Content-Security-Policy ({@link #CONTENT_SECURITY_POLICY}, set by {@link SecurityHeadersFilter})
 * besides the security headers of every answer.
 */
public final class Pages {

	/** The pages' paths, as Spring Security's request matchers take them. */
	public static final List<String> PATHS = List.of("/", "/index.html", "/sessions.html", "/assets/**");

	/**
	 * Everything from the service's own origin and nothing else: no inline script or style (the pages have none), no
	 * eval, no plug-in, no {@code <base>}, no form sent anywhere (a form that JavaScript failed to take over would
	 * otherwise put the API key in a URL), no framing.
	 */
	static final String CONTENT_SECURITY_POLICY = "default-src 'self'; object-src 'none'; base-uri 'none'; "
			+ "form-action 'none'; frame-ancestors 'none'";

	private Pages() {
	}

	/**
	 * Whether the request is for one of the pages: its path as Spring MVC maps it matches one of {@link #PATHS} as
	 * Spring's path patterns match ({@code /assets/**} takes {@code /assets} too).
	 */
	static boolean isPage(HttpServletRequest request) {
		String path = request.getServletPath() + ((request.getPathInfo() != null) ? request.getPathInfo() : "");
		return path.equals("/") || path.equals("/index.html") || path.equals("/sessions.html")
				|| path.equals("/assets") || path.startsWith("/assets/");
	}

}
