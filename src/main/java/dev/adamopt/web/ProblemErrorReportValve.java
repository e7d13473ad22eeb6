package dev.adamopt.web;

import java.io.IOException;
import java.util.Locale;
import java.util.regex.Pattern;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tomcat's error reports as problems: what Tomcat refuses before a request reaches Spring MVC (an invalid URL, an
 * encoded NUL or slash, a request line or headers too large, an unsupported HTTP version) is answered as
 * {@code application/problem+json} instead of Tomcat's HTML page. Never a stack trace, never the server's version.
 */
final class ProblemErrorReportValve extends ErrorReportValve {

	private static final Logger log = LoggerFactory.getLogger(ProblemErrorReportValve.class);

	private static final Pattern INVALID_ESCAPE = Pattern.compile("%(?![0-9a-f]{2})");

	ProblemErrorReportValve() {
		setShowReport(false);
		setShowServerInfo(false);
	}

	@Override
	protected void report(Request request, Response response, Throwable throwable) {
		int status = response.getStatus();
		if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
			return;
		}
		Problem problem = problem(status, response.getMessage(), throwable, request.getRequestURI());
		log.debug("Refused {} {} below Spring MVC: {} ({})", request.getMethod(), ProblemResponses.abbreviate(
				request.getRequestURI()), problem.detail(), (throwable != null) ? throwable.toString() : response.getMessage());
		try {
			ProblemResponses.write(response, problem.type(), problem.detail(), null);
		}
		catch (IOException | IllegalStateException ex) {
			log.debug("Could not write the problem for {}: {}", status, ex.toString());
		}
	}

	record Problem(ProblemType type, String detail) {
	}

	private static final String API = " The API lives under /v1/sessions; see /swagger-ui.html.";

	/**
	 * The problem for a status Tomcat set by itself, from its message and the failure behind it (both may be null)
	 * and the request's undecoded URI (null when the request line was unreadable).
	 */
	static Problem problem(int status, String message, Throwable throwable, String rawUri) {
		String failure = (throwable != null && throwable.getMessage() != null) ? throwable.getMessage() : "";
		String reason = failure + " " + ((message != null) ? message : "");
		if (reason.contains("header is too large")) {
			return new Problem(ProblemType.HEADERS_TOO_LARGE, "the request line and headers are larger than this "
					+ "service takes (server.max-http-request-header-size, 8 KB by default): send a shorter URL and "
					+ "fewer or shorter headers");
		}
		if (status == 505) {
			return new Problem(ProblemType.BAD_REQUEST, "this HTTP version is not supported: send HTTP/1.1");
		}
		if (status == 400 && (reason.contains("Invalid URI") || reason.contains("request target"))) {
			return new Problem(ProblemType.INVALID_URL, urlReason(reason, rawUri) + "." + API);
		}
		if (status == 400) {
			String detail = reason.contains("method name") ? "the method is not a valid HTTP method name"
					: "the request is not valid HTTP/1.1: check the request line and the Host and Content-Length headers";
			return new Problem(ProblemType.BAD_REQUEST, detail);
		}
		if (status == 503) {
			return new Problem(ProblemType.SERVICE_UNAVAILABLE, "the service is shutting down: retry in a moment");
		}
		ProblemType type = ProblemType.forStatus(status);
		return new Problem(type,
				(type == ProblemType.INTERNAL_ERROR) ? "an unexpected error occurred; it has been logged" : type.title());
	}

	private static String urlReason(String reason, String rawUri) {
		if (reason.contains("request target")) {
			return "the URL holds a character that must be %-encoded (such as a space, \\, {, }, |, ^ or `)";
		}
		String uri = (rawUri != null) ? rawUri.toLowerCase(Locale.ROOT) : "";
		if (uri.contains("%00")) {
			return "the URL holds an encoded NUL (%00)";
		}
		if (reason.contains("hexadecimal") || INVALID_ESCAPE.matcher(uri).find()) {
			return "the URL holds an invalid %-encoding: % must be followed by two hexadecimal digits";
		}
		if (reason.contains("slash") || uri.contains("%2f") || uri.contains("%5c")) {
			return "the URL holds an encoded slash or backslash (%2F, %5C)";
		}
		if (uri.contains("..") || uri.contains("%2e")) {
			return "the URL's '..' segments lead above the root";
		}
		return "the URL could not be decoded";
	}


}
