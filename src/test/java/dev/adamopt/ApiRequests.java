package dev.adamopt;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;

/** Requests to the API as a client with (or without) an API key sends them, for the tests over real HTTP. */
public final class ApiRequests {

	private ApiRequests() {
	}

	/**
	 * A request with a JSON {@code body} ({@code null}: none) and {@code Authorization: Bearer key} ({@code null}: no
	 * key), with a timeout generous enough for a busy machine.
	 */
	public static HttpRequest.Builder json(URI uri, String method, String body, String key) {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri)
			.timeout(Duration.ofSeconds(60))
			.method(method, (body != null) ? HttpRequest.BodyPublishers.ofString(body)
					: HttpRequest.BodyPublishers.noBody());
		if (body != null) {
			request.header("Content-Type", "application/json");
		}
		if (key != null) {
			request.header("Authorization", "Bearer " + key);
		}
		return request;
	}

}
