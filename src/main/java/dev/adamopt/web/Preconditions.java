package dev.adamopt.web;

import java.util.Arrays;

import dev.adamopt.session.VersionMatch;

/**
 * ETags of sessions and {@code If-Match} (RFC 9110): a session's ETag is its version, {@code "N"}, which changes with
 * every step, PATCH and PUT of parameters.
 */
final class Preconditions {

	private Preconditions() {
	}

	static String etag(long version) {
		return "\"" + version + "\"";
	}

	/**
	 * What an {@code If-Match} header accepts: {@code null} (no header) accepts anything, {@code *} any version of
	 * an existing session, else the listed strong ETags (a weak one never matches, as RFC 9110 says for If-Match).
	 */
	static VersionMatch ifMatch(String header) {
		if (header == null) {
			return null;
		}
		String trimmed = header.trim();
		if (trimmed.equals("*")) {
			return VersionMatch.any();
		}
		String[] tags = trimmed.split(",");
		long[] versions = new long[tags.length];
		int count = 0;
		for (String tag : tags) {
			String t = tag.trim();
			if (t.length() > 2 && t.startsWith("\"") && t.endsWith("\"")) {
				try {
					versions[count] = Long.parseLong(t.substring(1, t.length() - 1));
					count++;
				}
				catch (NumberFormatException ex) {
					// not one of ours: it matches no version
				}
			}
		}
		return VersionMatch.oneOf(Arrays.copyOf(versions, count));
	}

}
