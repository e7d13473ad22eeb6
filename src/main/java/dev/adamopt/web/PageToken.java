package dev.adamopt.web;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

import dev.adamopt.session.SessionSnapshot;
import dev.adamopt.session.SessionStore;

/**
 * Opaque page tokens for listing sessions (AIP-158): the place after which the next page starts, in the order of
 * creation, so a page costs its own size however many sessions there are, and sessions created or deleted between
 * pages neither repeat nor hide others.
 */
final class PageToken {

	static final int DEFAULT_PAGE_SIZE = 100;

	static final int MAX_PAGE_SIZE = 1000;

	private static final String VERSION = "1";

	private PageToken() {
	}

	static int pageSize(Integer requested) {
		if (requested == null || requested == 0) {
			return DEFAULT_PAGE_SIZE;
		}
		if (requested < 0) {
			throw new InvalidQueryParameterException(
					"pageSize must be between 1 and " + MAX_PAGE_SIZE + ", got " + requested);
		}
		return Math.min(requested, MAX_PAGE_SIZE);
	}

	static String encode(SessionSnapshot last) {
		Instant at = last.createdAt();
		String text = VERSION + ":" + at.getEpochSecond() + ":" + at.getNano() + ":" + last.id();
		return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
	}

	/** The place a token names, or {@code null} for none (the first page). */
	static SessionStore.Key decode(String token) {
		if (token == null || token.isEmpty()) {
			return null;
		}
		try {
			String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
			String[] parts = text.split(":", 4);
			if (parts.length == 4 && parts[0].equals(VERSION)) {
				Instant at = Instant.ofEpochSecond(Long.parseLong(parts[1]), Long.parseLong(parts[2]));
				return new SessionStore.Key(at, parts[3]);
			}
		}
		catch (IllegalArgumentException | java.time.DateTimeException ex) {
			// falls through to the problem below
		}
		throw new InvalidQueryParameterException("pageToken is not a token this service gave: pass the "
				+ "nextPageToken of the previous page as it is, or leave pageToken out for the first page");
	}

	/** A query parameter the caller must fix. */
	static final class InvalidQueryParameterException extends RuntimeException {

		InvalidQueryParameterException(String message) {
			super(message, null, false, false);
		}

	}

}
