package dev.adamopt.security;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Who may use the API. Without keys the service is open (as on a laptop): anyone who reaches it sees and changes
 * every session, which it says in one WARN line at start.
 *
 * @param apiKeys the API keys, each as {@code name:sha256hex}: a name for the key (letters, digits, '.', '_', '-'; at
 * most 64), which owns the sessions the key creates and names it in answers and logs, and the SHA-256 of the key in
 * hexadecimal (64 digits), never the key itself. Clients send the key as {@code Authorization: Bearer <key>}. Replacing
 * a key's hash under the same name keeps its sessions with it. Settable as {@code ADAM_SECURITY_API_KEYS}, comma
 * separated
 * @param open what stays reachable without a key when there are keys
 */
@ConfigurationProperties("adam.security")
record ApiSecurityProperties(@DefaultValue List<String> apiKeys, @DefaultValue Open open) {

	private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

	private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

	ApiSecurityProperties {
		apiKeys = List.copyOf(apiKeys);
		Set<String> names = new HashSet<>();
		Set<String> hashes = new HashSet<>();
		for (int i = 0; i < apiKeys.size(); i++) {
			// never quote the value: a key pasted in place of its hash must not end up in a log
			String entry = apiKeys.get(i).strip();
			int colon = entry.indexOf(':');
			if (colon < 0) {
				throw new IllegalArgumentException("adam.security.api-keys[" + i + "] must be name:sha256hex (the "
						+ "SHA-256 of the key in hexadecimal, never the key itself); it has no ':'");
			}
			String name = entry.substring(0, colon);
			String hash = entry.substring(colon + 1);
			if (!NAME.matcher(name).matches()) {
				throw new IllegalArgumentException("adam.security.api-keys[" + i + "]: the name must be 1 to 64 "
						+ "letters, digits, '.', '_' or '-'");
			}
			if (!SHA256_HEX.matcher(hash).matches()) {
				throw new IllegalArgumentException("adam.security.api-keys[" + i + "] (" + name + "): the hash must be "
						+ "the key's SHA-256 as 64 hexadecimal digits, not the key itself; it has " + hash.length()
						+ " characters");
			}
			if (!names.add(name)) {
				throw new IllegalArgumentException("adam.security.api-keys names '" + name + "' twice");
			}
			if (!hashes.add(hash.toLowerCase(Locale.ROOT))) {
				throw new IllegalArgumentException("adam.security.api-keys[" + i + "] (" + name + ") has the hash of "
						+ "another entry: each key needs a key of its own");
			}
		}
	}

	/**
	 * What stays reachable without a key when there are keys (with no keys, everything is). Everything else needs a
	 * key.
	 *
	 * @param apiDocs the OpenAPI document, {@code /v3/api-docs} (generated clients and Swagger UI read it)
	 * @param swaggerUi Swagger UI, {@code /swagger-ui.html} and {@code /swagger-ui/**}; its Authorize button takes the
	 * key for the requests it sends
	 * @param health {@code /actuator/health}, for load balancers and the container's HEALTHCHECK
	 * @param pages the visualization's pages: {@code /} (the surface page), {@code /sessions.html} and their scripts and
	 * style sheet under {@code /assets/}. Static files with no data in them: they ask for the key and send it with
	 * every call to the API. {@code false} makes them need a key, which a browser opening them does not send
	 */
	record Open(@DefaultValue("true") boolean apiDocs, @DefaultValue("true") boolean swaggerUi,
			@DefaultValue("true") boolean health, @DefaultValue("true") boolean pages) {

	}

}
