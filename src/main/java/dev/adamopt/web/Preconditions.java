package dev.adamopt.web;

import java.util.function.LongPredicate;

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
	static LongPredicate ifMatch(String header) {
		if (header == null) {
			return null;
		}
		String trimmed = header.trim();
		if (trimmed.equals("*")) {
			return version -> true;
		}
		String[] tags = trimmed.split(",");
		long[] versions = new long[tags.length];
		int count = 0;
		for (String tag : tags) {
			String t = tag.trim();
			if (t.length() > 2 && t.startsWith("\"") && t.endsWith("\"")) {
				try {
					versions[count++] = Long.parseLong(t.substring(1, t.length() - 1));
				}
				catch (NumberFormatException ex) {
					// not one of ours: it matches no version
				}
			}
		}
		int n = count;
		return version -> {
			for (int i = 0; i < n; i++) {
				if (versions[i] == version) {
					return true;
				}
			}
			return false;
		};
	}

}
