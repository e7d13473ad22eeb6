package dev.adamopt.web;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Which web pages may call the API from their browser (CORS). See {@link BrowserConfiguration}.
 *
 * @param allowedOrigins the origins ({@code scheme://host[:port]}, e.g. {@code https://app.example.com}) whose pages
 * may call {@code /v1}, or {@code *} for any page. Default: none, so a browser lets no page on another origin call
 * the API (its preflight is answered 403)
 * @param maxAge how long a browser may reuse the answer to a preflight before it asks again (browsers cap it: Chrome
 * at 2 h, Firefox at 24 h)
 */
@ConfigurationProperties("adam.cors")
record CorsProperties(@DefaultValue List<String> allowedOrigins, @DefaultValue("30m") Duration maxAge) {

	CorsProperties {
		allowedOrigins = List.copyOf(allowedOrigins.stream().map(String::trim).filter(o -> !o.isEmpty()).toList());
		for (String origin : allowedOrigins) {
			String problem = originProblem(origin);
			if (problem != null) {
				throw new IllegalArgumentException("adam.cors.allowed-origins: '" + origin + "' " + problem
						+ "; list origins as scheme://host[:port], such as https://app.example.com, or * for any");
			}
		}
		if (maxAge.isNegative()) {
			throw new IllegalArgumentException("adam.cors.max-age must not be negative, got " + maxAge);
		}
	}

	/** Why this is not an origin a browser sends, or {@code null} when it is one. */
	private static String originProblem(String origin) {
		if (origin.equals("*")) {
			return null;
		}
		URI uri;
		try {
			uri = new URI(origin);
		}
		catch (URISyntaxException ex) {
			return "is not a URL";
		}
		String scheme = (uri.getScheme() != null) ? uri.getScheme().toLowerCase(Locale.ROOT) : "";
		if (!scheme.equals("http") && !scheme.equals("https")) {
			return "does not start with http:// or https://";
		}
		if (uri.getHost() == null || uri.getRawUserInfo() != null) {
			return "has no host name (or has a user name)";
		}
		boolean noPath = uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/");
		if (!noPath || uri.getRawQuery() != null || uri.getRawFragment() != null) {
			return "has a path, query or fragment, which an origin never has";
		}
		return null;
	}

}
