package dev.adamopt.web;

import java.io.IOException;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.util.StringUtils;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.CorsUtils;
import org.springframework.web.cors.DefaultCorsProcessor;

/**
 * Spring's CORS processing, with a refusal answered as a problem ({@code 403 /problems/cross-origin-not-allowed},
 * whose detail says what was not allowed) instead of Spring's plain-text "Invalid CORS request". A refusal carries no
 * {@code Access-Control-Allow-Origin}, so the browser keeps the answer from the page: the detail is for whoever reads
 * the browser's network log.
 * <p>
 * Unlike Spring's processor, a preflight for a path without CORS rules is refused too (Spring would answer it 200
 * without any {@code Access-Control-*} header, which the browser refuses just the same, without saying why).
 */
final class ProblemCorsProcessor extends DefaultCorsProcessor {

	private final boolean anyOriginAllowed;

	/** {@code anyOriginAllowed}: whether {@code adam.cors.allowed-origins} lists any origin. */
	ProblemCorsProcessor(boolean anyOriginAllowed) {
		this.anyOriginAllowed = anyOriginAllowed;
	}

	@Override
	public boolean processRequest(CorsConfiguration config, HttpServletRequest request, HttpServletResponse response)
			throws IOException {
		boolean preflight = CorsUtils.isPreFlightRequest(request);
		boolean allowed = (config != null || !preflight) && super.processRequest(config, request, response);
		if (!allowed) {
			refuse(request, response, reason(config, request, preflight));
		}
		return allowed;
	}

	/** Nothing here: {@link #processRequest} writes the problem, with the reason. */
	@Override
	protected void rejectRequest(ServerHttpResponse response) {
	}

	/**
	 * All or nothing: a preflight that asks for a header the API does not read is refused, with the header named
	 * (Spring would allow the others and leave the browser to refuse, without saying why).
	 */
	@Override
	protected List<String> checkHeaders(CorsConfiguration config, List<String> requestHeaders) {
		List<String> allowed = super.checkHeaders(config, requestHeaders);
		return (allowed != null && allowed.size() == requestHeaders.size()) ? allowed : null;
	}

	private String reason(CorsConfiguration config, HttpServletRequest request, boolean preflight) {
		String origin = request.getHeader(HttpHeaders.ORIGIN);
		if (config == null) {
			return this.anyOriginAllowed ? "cross-origin requests are answered under /v1 only"
					: "no page on another origin may call this service: adam.cors.allowed-origins lists no origin "
							+ "(the service's operator lists there the origins of the pages that may call it)";
		}
		if (!isValidOrigin(request)) {
			return "the Origin header " + quoted(origin) + " is not a valid origin";
		}
		if (checkOrigin(config, origin) == null) {
			return "pages on " + quoted(origin) + " may not call this service: that origin is not "
					+ "in adam.cors.allowed-origins (the service's operator lists there the origins that may)";
		}
		String method = preflight ? request.getHeader(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD) : request.getMethod();
		if (method == null || checkMethods(config, HttpMethod.valueOf(method)) == null) {
			return "the method " + quoted(method) + " is not one a page may use: "
					+ String.join(", ", BrowserConfiguration.ALLOWED_METHODS);
		}
		List<String> headers = requestedHeaders(request);
		List<String> refused = headers.stream().filter(h -> config.checkHeaders(List.of(h)) == null).toList();
		return "the headers " + quoted(String.join(", ", refused)) + " are not ones a page may "
				+ "send: " + String.join(", ", BrowserConfiguration.ALLOWED_HEADERS)
				+ " (and those browsers send by themselves)";
	}

	private static String quoted(String input) {
		return "'" + ProblemResponses.abbreviate(input) + "'";
	}

	private static boolean isValidOrigin(HttpServletRequest request) {
		try {
			CorsUtils.isCorsRequest(request);
			return true;
		}
		catch (IllegalArgumentException ex) {
			return false;
		}
	}

	private static List<String> requestedHeaders(HttpServletRequest request) {
		String header = request.getHeader(HttpHeaders.ACCESS_CONTROL_REQUEST_HEADERS);
		return (header == null) ? List.of()
				: List.of(StringUtils.tokenizeToStringArray(header, ","));
	}

	/**
	 * The problem, and the connection closed after it when the request has a body, which is then not read (as for
	 * the request body filter's refusals).
	 */
	private static void refuse(HttpServletRequest request, HttpServletResponse response, String detail)
			throws IOException {
		boolean body = request.getContentLengthLong() > 0 || request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
		if (body) {
			response.setHeader(HttpHeaders.CONNECTION, "close");
		}
		ProblemResponses.write(response, ProblemType.CROSS_ORIGIN_NOT_ALLOWED, detail, request.getRequestURI());
		if (body) {
			UploadAbortValve.abortUpload(request);
		}
	}

}
