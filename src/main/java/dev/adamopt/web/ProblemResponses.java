package dev.adamopt.web;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.adamopt.kernel.Precision;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;

/**
 * Writes a problem straight to a servlet response, for the answers given below Spring MVC (the request body filter,
 * authentication and per-key limits, Tomcat's error reports, {@code /error}). Same fields, in the same order, as the problems Spring MVC writes.
 */
public final class ProblemResponses {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private ProblemResponses() {
	}

	/**
	 * Replaces whatever the response holds with the problem. {@code instance} may be {@code null}.
	 */
	public static void write(HttpServletResponse response, ProblemType type, String detail, String instance)
			throws IOException {
		type.count();
		response.resetBuffer();
		response.setStatus(type.status().value());
		response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
		// set here too for what Tomcat refuses before any filter runs, under /v1 or not (see SecurityHeadersFilter)
		response.setHeader(SecurityHeadersFilter.NOSNIFF_HEADER, "nosniff");
		response.setHeader(SecurityHeadersFilter.FRAME_OPTIONS_HEADER, "DENY");
		response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
		response.setCharacterEncoding("UTF-8");
		byte[] body = JSON.writeValueAsBytes(body(type, detail, instance));
		response.setContentLength(body.length);
		response.getOutputStream().write(body);
		response.flushBuffer();
	}

	/**
	 * Refuses a request before the application reads its body (authentication, per-key limits): a body that was read
	 * ahead is gone already; a streamed one is not read (a client the service refuses does not get to make it read its
	 * upload), so the connection closes after the answer, as for the request body filter's own refusals.
	 */
	public static void refuse(HttpServletRequest request, HttpServletResponse response, ProblemType type,
			String detail) throws IOException {
		boolean unreadBody = request.getDispatcherType() == DispatcherType.REQUEST
				&& (request.getContentLengthLong() > 0 || request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null);
		if (unreadBody) {
			response.setHeader(HttpHeaders.CONNECTION, "close");
		}
		write(response, type, detail, request.getRequestURI());
		if (unreadBody) {
			UploadAbortValve.abortUpload(request);
		}
	}

	static Map<String, Object> body(ProblemType type, String detail, String instance) {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("detail", detail);
		if (instance != null) {
			body.put("instance", instance);
		}
		body.put("status", type.status().value());
		body.put("title", type.title());
		body.put("type", type.type().toString());
		return body;
	}

	/** Caller input as it may appear in a detail: see {@link Precision#quoted}. */
	static String abbreviate(String input) {
		return Precision.quoted(input);
	}

}
