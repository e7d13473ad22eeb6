package dev.adamopt.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The API keys the service knows, by the SHA-256 of each ({@code adam.security.api-keys}). A key is looked up by
 * hashing it and comparing the hash with every known one in constant time ({@link MessageDigest#isEqual}), all of them
 * whether one matched or not: how long a lookup takes tells nothing about the keys. The keys themselves are never
 * kept, logged or quoted.
 */
final class ApiKeys {

	private record Entry(String name, byte[] sha256) {

	}

	private final List<Entry> entries;

	/** @param entries {@code name:sha256hex}, as {@link ApiSecurityProperties} has checked them */
	ApiKeys(List<String> entries) {
		this.entries = entries.stream().map(String::strip).map(entry -> {
			int colon = entry.indexOf(':');
			return new Entry(entry.substring(0, colon), HexFormat.of().parseHex(entry.substring(colon + 1)));
		}).toList();
	}

	/** Whether there are keys: without, the service is open. */
	boolean configured() {
		return !this.entries.isEmpty();
	}

	int size() {
		return this.entries.size();
	}

	/** The name of this key, or empty when it is not one of the service's. */
	Optional<String> nameOf(String key) {
		byte[] hash = sha256(key);
		String found = null;
		for (Entry entry : this.entries) {
			if (MessageDigest.isEqual(entry.sha256, hash) && found == null) {
				found = entry.name;
			}
		}
		return Optional.ofNullable(found);
	}

	static byte[] sha256(String key) {
		try {
			return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("every Java runtime has SHA-256", ex);
		}
	}

}
