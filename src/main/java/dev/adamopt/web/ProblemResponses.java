package dev.adamopt.web;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.MediaType;

/**
 * Writes a problem straight to a servlet response, for the answers given below Spring MVC (the request body filter,
 * Tomcat's error reports, {@code /error}). Same fields, in the same order, as the problems Spring MVC writes.
 */
final class ProblemResponses {

	/** Longest piece of caller input quoted back in a detail. */
	static final int MAX_ECHO = 64;

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private ProblemResponses() {
	}

	/**
	 * Replaces whatever the response holds with the problem. {@code instance} may be {@code null}.
	 */
	static void write(HttpServletResponse response, ProblemType type, String detail, String instance)
			throws IOException {
		type.count();
		response.resetBuffer();
		response.setStatus(type.status().value());
		response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
		response.setCharacterEncoding("UTF-8");
		byte[] body = JSON.writeValueAsBytes(body(type, detail, instance));
		response.setContentLength(body.length);
		response.getOutputStream().write(body);
		response.flushBuffer();
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

	/**
	 * Caller input as it may appear in a detail: at most {@value #MAX_ECHO} characters (longer input is cut, with its
	 * length said), control characters escaped.
	 */
	static String abbreviate(String input) {
		if (input == null) {
			return "null";
		}
		int cut = Math.min(input.length(), MAX_ECHO);
		if (cut < input.length() && Character.isHighSurrogate(input.charAt(cut - 1))) {
			cut--;
		}
		StringBuilder out = new StringBuilder(cut + 40);
		for (int i = 0; i < cut; i++) {
			char c = input.charAt(i);
			if (c < 0x20 || c == 0x7f) {
				out.append(String.format("\\u%04x", (int) c));
			}
			else {
				out.append(c);
			}
		}
		if (input.length() > cut) {
			out.append("... (").append(input.length()).append(" characters)");
		}
		return out.toString();
	}

}
