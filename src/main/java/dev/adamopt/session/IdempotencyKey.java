package dev.adamopt.session;

import java.util.UUID;

/**
 * A client's key for one request, so that a retry is answered, not applied again.
 *
 * @param key the client's {@code Idempotency-Key}
 * @param digest a digest of the request's body: a retry must send the same body
 */
public record IdempotencyKey(String key, long digest) {

	/** Keys are opaque to the service; this bounds what it remembers. */
	public static final int MAX_LENGTH = 255;

	public IdempotencyKey {
		if (key == null || key.isEmpty() || key.length() > MAX_LENGTH) {
			throw new IllegalArgumentException("an idempotency key has 1 to " + MAX_LENGTH + " characters");
		}
	}

	/**
	 * The prefix of the keys a store gives the steps that come without one ({@link HazelcastSessionStore}): such a key
	 * guards the step against being applied twice when it is sent again, and is not the client's, so a session does
	 * not remember it among the client's older keys.
	 */
	static final String GUARD_PREFIX = "adam-guard:";

	/** A new guard key (122 random bits). */
	static IdempotencyKey guard() {
		return new IdempotencyKey(GUARD_PREFIX + UUID.randomUUID(), 0);
	}

	static boolean isGuard(String key) {
		return key.startsWith(GUARD_PREFIX);
	}

	/** A 64-bit hash of the key (FNV-1a over its characters), to remember older keys in little space. */
	long hash() {
		long hash = 0xcbf29ce484222325L;
		for (int i = 0; i < this.key.length(); i++) {
			hash = (hash ^ this.key.charAt(i)) * 0x100000001b3L;
		}
		return hash;
	}

}
