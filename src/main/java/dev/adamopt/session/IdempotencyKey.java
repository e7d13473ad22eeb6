package dev.adamopt.session;

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

	/** A 64-bit hash of the key (FNV-1a over its characters), to remember older keys in little space. */
	long hash() {
		long hash = 0xcbf29ce484222325L;
		for (int i = 0; i < this.key.length(); i++) {
			hash = (hash ^ this.key.charAt(i)) * 0x100000001b3L;
		}
		return hash;
	}

}
