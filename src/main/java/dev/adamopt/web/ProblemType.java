package dev.adamopt.web;

import java.net.URI;

import io.micrometer.core.instrument.Metrics;

import org.springframework.http.HttpStatus;

/**
 * The kinds of problem this API answers with (RFC 9457). Each has a stable {@code type} and a {@code title} that does
 * not vary; the {@code detail} says what to fix. Public for the answers given before Spring MVC sees a request
 * (authentication, per-key limits), which {@link ProblemResponses} writes.
 */
public enum ProblemType {

	MALFORMED_REQUEST(HttpStatus.BAD_REQUEST, "malformed-request", "Malformed request body"),

	INVALID_TENSOR(HttpStatus.BAD_REQUEST, "invalid-tensor", "Invalid tensor"),

	INVALID_SAFETENSORS(HttpStatus.BAD_REQUEST, "invalid-safetensors", "Invalid safetensors file"),

	PARAMETERS_NOT_HELD(HttpStatus.CONFLICT, "parameters-not-held", "Session does not hold parameters"),

	INVALID_SETTING(HttpStatus.BAD_REQUEST, "invalid-setting", "Invalid optimizer setting"),

	INVALID_CHECKPOINT(HttpStatus.BAD_REQUEST, "invalid-checkpoint", "Invalid checkpoint"),

	TENSOR_MISMATCH(HttpStatus.UNPROCESSABLE_CONTENT, "tensor-mismatch", "Tensors do not fit the session"),

	NON_FINITE_GRADIENT(HttpStatus.UNPROCESSABLE_CONTENT, "non-finite-gradient", "Gradient is not finite"),

	NON_FINITE_RESULT(HttpStatus.UNPROCESSABLE_CONTENT, "non-finite-result", "Step would not stay finite"),

	IMMUTABLE_SETTING(HttpStatus.CONFLICT, "immutable-setting", "Setting cannot change"),

	TOO_MANY_TENSORS(HttpStatus.UNPROCESSABLE_CONTENT, "too-many-tensors", "Too many tensors"),

	INSUFFICIENT_STORAGE(HttpStatus.INSUFFICIENT_STORAGE, "insufficient-storage", "Not enough memory for the request"),

	TOO_MANY_SESSIONS(HttpStatus.INSUFFICIENT_STORAGE, "too-many-sessions", "Too many sessions"),

	INVALID_QUERY_PARAMETER(HttpStatus.BAD_REQUEST, "invalid-query-parameter", "Invalid query parameter"),

	INVALID_HEADER(HttpStatus.BAD_REQUEST, "invalid-header", "Invalid header"),

	IDEMPOTENCY_KEY_REUSED(HttpStatus.UNPROCESSABLE_CONTENT, "idempotency-key-reused", "Idempotency key reused"),

	IDEMPOTENCY_KEY_OUTDATED(HttpStatus.CONFLICT, "idempotency-key-outdated", "Idempotency key of an older step"),

	PRECONDITION_FAILED(HttpStatus.PRECONDITION_FAILED, "precondition-failed", "Precondition failed"),

	CROSS_ORIGIN_NOT_ALLOWED(HttpStatus.FORBIDDEN, "cross-origin-not-allowed", "Cross-origin request not allowed"),

	UNAUTHORIZED(HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized"),

	TOO_MANY_REQUESTS(HttpStatus.TOO_MANY_REQUESTS, "too-many-requests", "Too many requests"),

	SESSION_NOT_FOUND(HttpStatus.NOT_FOUND, "session-not-found", "Session not found"),

	RESOURCE_NOT_FOUND(HttpStatus.NOT_FOUND, "resource-not-found", "Resource not found"),

	METHOD_NOT_ALLOWED(HttpStatus.METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed"),

	NOT_ACCEPTABLE(HttpStatus.NOT_ACCEPTABLE, "not-acceptable", "Not acceptable"),

	UNSUPPORTED_MEDIA_TYPE(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type"),

	PAYLOAD_TOO_LARGE(HttpStatus.CONTENT_TOO_LARGE, "payload-too-large", "Request body too large"),

	REQUEST_TIMEOUT(HttpStatus.REQUEST_TIMEOUT, "request-timeout", "Request body too slow"),

	INVALID_URL(HttpStatus.BAD_REQUEST, "invalid-url", "Invalid URL"),

	HEADERS_TOO_LARGE(HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers-too-large", "Request headers too large"),

	SERVICE_UNAVAILABLE(HttpStatus.SERVICE_UNAVAILABLE, "service-unavailable", "Service unavailable"),

	BAD_REQUEST(HttpStatus.BAD_REQUEST, "bad-request", "Bad request"),

	PERSISTENCE_FAILED(HttpStatus.SERVICE_UNAVAILABLE, "persistence-failed", "Not written to disk"),

	CLUSTER_UNAVAILABLE(HttpStatus.SERVICE_UNAVAILABLE, "cluster-unavailable", "Cluster unavailable"),

	INTERNAL_ERROR(HttpStatus.INTERNAL_SERVER_ERROR, "internal-error", "Internal error");

	/** Problem types are documented in the README under this path. */
	static final String BASE = "/problems/";

	private final HttpStatus status;

	private final String slug;

	private final URI type;

	private final String title;

	ProblemType(HttpStatus status, String slug, String title) {
		this.status = status;
		this.slug = slug;
		this.type = URI.create(BASE + slug);
		this.title = title;
	}

	String slug() {
		return this.slug;
	}

	/**
	 * Counts one answer of this type in {@code adam.problems} (by type and status), wherever it was made: in Spring
	 * MVC, in the request body filter or below Spring MVC. Micrometer's global registry, which Spring Boot binds its
	 * registries to, so that Tomcat's valve, made outside the application context, counts too.
	 */
	void count() {
		Metrics.counter("adam.problems", "type", this.slug, "status", Integer.toString(this.status.value()))
			.increment();
	}

	public HttpStatus status() {
		return this.status;
	}

	public URI type() {
		return this.type;
	}

	public String title() {
		return this.title;
	}

	/** The type for a status that Spring MVC or Tomcat raised by itself. */
	static ProblemType forStatus(int status) {
		return switch (status) {
			case 401 -> UNAUTHORIZED;
			case 404 -> RESOURCE_NOT_FOUND;
			case 405 -> METHOD_NOT_ALLOWED;
			case 406 -> NOT_ACCEPTABLE;
			case 408 -> REQUEST_TIMEOUT;
			case 413 -> PAYLOAD_TOO_LARGE;
			case 415 -> UNSUPPORTED_MEDIA_TYPE;
			case 429 -> TOO_MANY_REQUESTS;
			case 431 -> HEADERS_TOO_LARGE;
			case 503 -> SERVICE_UNAVAILABLE;
			default -> (status >= 500) ? INTERNAL_ERROR : BAD_REQUEST;
		};
	}

}
