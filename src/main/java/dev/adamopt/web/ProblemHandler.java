package dev.adamopt.web;

import java.net.SocketTimeoutException;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.adamopt.memory.MemoryBudgetExceededException;
import dev.adamopt.session.SessionException;
import dev.adamopt.tensor.SafetensorsException;
import dev.adamopt.tensor.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.exc.InvalidNullException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.context.request.async.AsyncRequestNotUsableException;
import org.springframework.web.util.DisconnectedClientHelper;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Turns every failure into an RFC 9457 problem with a stable type, a fixed title and a detail that says what to fix.
 * No stack trace or internal class name reaches the caller.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

	private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);


	/** Jackson's hints about its own settings, which the caller cannot change. */
	private static final Pattern JACKSON_SETTING = Pattern.compile(": enable `[^`]+` to allow|, from `[^`]+`"
			+ "| \\(not recognized as one since Feature '[^']+' not enabled for parser\\)");

	@ExceptionHandler(SessionException.class)
	ResponseEntity<Object> handleSession(SessionException ex, WebRequest request) {
		ProblemType type = switch (ex.reason()) {
			case SESSION_NOT_FOUND -> ProblemType.SESSION_NOT_FOUND;
			case INVALID_SETTING -> ProblemType.INVALID_SETTING;
			case TENSOR_MISMATCH -> ProblemType.TENSOR_MISMATCH;
			case INVALID_TENSOR -> ProblemType.INVALID_TENSOR;
			case NON_FINITE_GRADIENT -> ProblemType.NON_FINITE_GRADIENT;
			case NON_FINITE_RESULT -> ProblemType.NON_FINITE_RESULT;
			case IMMUTABLE_SETTING -> ProblemType.IMMUTABLE_SETTING;
			case INVALID_CHECKPOINT -> ProblemType.INVALID_CHECKPOINT;
			case PARAMETERS_NOT_HELD -> ProblemType.PARAMETERS_NOT_HELD;
			case TOO_MANY_SESSIONS -> ProblemType.TOO_MANY_SESSIONS;
			case TOO_MANY_TENSORS -> ProblemType.TOO_MANY_TENSORS;
			case IDEMPOTENCY_KEY_REUSED -> ProblemType.IDEMPOTENCY_KEY_REUSED;
			case IDEMPOTENCY_KEY_OUTDATED -> ProblemType.IDEMPOTENCY_KEY_OUTDATED;
			case PRECONDITION_FAILED -> ProblemType.PRECONDITION_FAILED;
			case NOT_PERSISTED -> ProblemType.PERSISTENCE_FAILED;
			case CLUSTER_UNAVAILABLE -> ProblemType.CLUSTER_UNAVAILABLE;
		};
		return problem(type, ex.getMessage());
	}

	@ExceptionHandler(PageToken.InvalidQueryParameterException.class)
	ResponseEntity<Object> handleQueryParameter(PageToken.InvalidQueryParameterException ex, WebRequest request) {
		return problem(ProblemType.INVALID_QUERY_PARAMETER, ex.getMessage());
	}

	@ExceptionHandler(IdempotencyKeys.InvalidHeaderException.class)
	ResponseEntity<Object> handleHeader(IdempotencyKeys.InvalidHeaderException ex, WebRequest request) {
		return problem(ProblemType.INVALID_HEADER, ex.getMessage());
	}

	@ExceptionHandler(MemoryBudgetExceededException.class)
	ResponseEntity<Object> handleMemoryBudget(MemoryBudgetExceededException ex, WebRequest request) {
		return problem(ProblemType.INSUFFICIENT_STORAGE, ex.getMessage());
	}

	@ExceptionHandler(Exception.class)
	ResponseEntity<Object> handleUnexpected(Exception ex, WebRequest request) {
		RequestBodyException refused = RequestBodyException.find(ex);
		if (refused != null) {
			return refusedBody(refused);
		}
		if (clientWentAway(ex, request)) {
			return null;
		}
		log.error("Unexpected failure on {}", request.getDescription(false), ex);
		return problem(ProblemType.INTERNAL_ERROR, "an unexpected error occurred; it has been logged");
	}

	/**
	 * A body refused while it was read (too large, too slow): the rest of it is not read, so the connection closes
	 * after the answer.
	 */
	private static ResponseEntity<Object> refusedBody(RequestBodyException refused) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(refused.type().status(), refused.getMessage());
		problem.setType(refused.type().type());
		problem.setTitle(refused.type().title());
		return ResponseEntity.status(refused.type().status()).header(HttpHeaders.CONNECTION, "close").body(problem);
	}

	/**
	 * A client that closed its connection before it had the whole answer (or sent the whole body): nobody is left to
	 * answer, and it is not the service's failure. One DEBUG line.
	 */
	private static boolean clientWentAway(Throwable ex, WebRequest request) {
		Throwable root = ex;
		while (root.getCause() != null && root.getCause() != root) {
			root = root.getCause();
		}
		if (root instanceof SocketTimeoutException) {
			// a streamed body that stalled past Tomcat's upload timeout: Tomcat answers 408 through /error
			log.debug("Request body stalled during {}: {}", request.getDescription(false), root.toString());
			return true;
		}
		if (!DisconnectedClientHelper.isClientDisconnectedException(ex)) {
			return false;
		}
		log.debug("Client went away during {}: {}", request.getDescription(false), root.toString());
		return true;
	}

	@Override
	protected ResponseEntity<Object> handleAsyncRequestNotUsableException(AsyncRequestNotUsableException ex,
			WebRequest request) {
		clientWentAway(ex, request);
		return null;
	}

	@Override
	protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		RequestBodyException refused = RequestBodyException.find(ex);
		if (refused != null) {
			return refusedBody(refused);
		}
		if (clientWentAway(ex, request)) {
			return null;
		}
		Throwable cause = ex.getCause();
		MemoryBudgetExceededException budget = find(ex, MemoryBudgetExceededException.class);
		if (budget != null) {
			// a tensor being decoded did not fit the memory budget: not the body's fault
			return handleMemoryBudget(budget, request);
		}
		if (cause instanceof SafetensorsException invalid) {
			return problem(ProblemType.INVALID_SAFETENSORS, invalid.getMessage());
		}
		if (cause instanceof MismatchedInputException mismatch && mismatch.getTargetType() == Tensor.class) {
			return problem(ProblemType.INVALID_TENSOR, at(mismatch) + mismatch.getOriginalMessage());
		}
		if (cause instanceof JacksonException jackson) {
			return problem(ProblemType.MALFORMED_REQUEST, describe(jackson));
		}
		return problem(ProblemType.MALFORMED_REQUEST, "the request body is missing or unreadable: send a JSON object");
	}

	@Override
	protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		String detail = ex.getBindingResult()
			.getFieldErrors()
			.stream()
			.map(error -> error.getField() + " " + error.getDefaultMessage())
			.sorted()
			.collect(Collectors.joining("; "));
		return problem(ProblemType.MALFORMED_REQUEST, detail);
	}

	@Override
	protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers,
			HttpStatusCode statusCode, WebRequest request) {
		if (clientWentAway(ex, request)) {
			return null;
		}
		ProblemType type = ProblemType.forStatus(statusCode.value());
		ProblemDetail problem = (body instanceof ProblemDetail given) ? given
				: (ex instanceof ErrorResponse response) ? response.getBody()
						: ProblemDetail.forStatusAndDetail(statusCode, type.title());
		problem.setDetail(hint(type, problem.getDetail()));
		problem.setType(type.type());
		problem.setTitle(type.title());
		type.count();
		if (statusCode.is5xxServerError()) {
			log.error("Failure on {}", request.getDescription(false), ex);
			problem.setDetail("an unexpected error occurred; it has been logged");
		}
		return super.handleExceptionInternal(ex, problem, headers, statusCode, request);
	}

	/** The first throwable of this type in the cause chain of {@code ex}, or {@code null}. */
	private static <T extends Throwable> T find(Throwable ex, Class<T> type) {
		for (Throwable t = ex; t != null && t != t.getCause(); t = t.getCause()) {
			if (type.isInstance(t)) {
				return type.cast(t);
			}
		}
		return null;
	}

	/** Spring's own details say what is wrong; add what to do about it. */
	private static String hint(ProblemType type, String detail) {
		String base = (detail != null) ? detail : type.title();
		return switch (type) {
			case UNSUPPORTED_MEDIA_TYPE -> (base.contains("'null'") ? "The request has no Content-Type." : base)
					+ " Send the body as application/json (or application/octet-stream for safetensors where the "
					+ "operation takes it).";
			case NOT_ACCEPTABLE -> base + " Accept application/json (errors come as application/problem+json).";
			case RESOURCE_NOT_FOUND -> base + " The API lives under /v1/sessions; see /swagger-ui.html.";
			case METHOD_NOT_ALLOWED -> base + " See /swagger-ui.html for the operations of each path.";
			default -> base;
		};
	}

	private ResponseEntity<Object> problem(ProblemType type, String detail) {
		type.count();
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(type.status(), detail);
		problem.setType(type.type());
		problem.setTitle(type.title());
		return ResponseEntity.status(type.status()).body(problem);
	}

	private static String describe(JacksonException ex) {
		if (ex instanceof UnrecognizedPropertyException unknown) {
			return "unknown field '" + ProblemResponses.abbreviate(unknown.getPropertyName()) + "'" + in(unknown) + "; known fields: "
					+ known(unknown.getKnownPropertyIds());
		}
		if (ex instanceof InvalidNullException) {
			return at((DatabindException) ex) + "null is not allowed here: leave the field out or give a value";
		}
		if (ex instanceof MismatchedInputException mismatch) {
			String message = mismatch.getOriginalMessage();
			if (message.startsWith("Trailing token")) {
				return "malformed JSON" + location(mismatch.getLocation())
						+ ": more content follows the request's JSON object; send exactly one JSON object";
			}
			return at(mismatch) + (message.startsWith("expected ") ? message : "expected " + expected(mismatch.getTargetType()));
		}
		if (ex instanceof DatabindException databind) {
			return at(databind) + databind.getOriginalMessage();
		}
		if (ex instanceof StreamConstraintsException) {
			return "the JSON exceeds a limit: " + withoutSettings(ex.getOriginalMessage());
		}
		if (ex instanceof StreamReadException) {
			return "malformed JSON" + location(ex.getLocation()) + ": "
					+ withoutSettings(withoutSource(ex.getOriginalMessage()));
		}
		return "malformed JSON: " + ex.getOriginalMessage();
	}

	/** {@code "optimizer.learningRate: "} for the path of the value that failed, or nothing at the root. */
	private static String at(DatabindException ex) {
		String path = path(ex.getPath());
		return path.isEmpty() ? "" : path + ": ";
	}

	private static String in(DatabindException ex) {
		List<JacksonException.Reference> references = ex.getPath();
		String parent = path(references.subList(0, Math.max(0, references.size() - 1)));
		return parent.isEmpty() ? "" : " in " + parent;
	}

	private static String path(List<JacksonException.Reference> references) {
		StringBuilder path = new StringBuilder();
		for (JacksonException.Reference reference : references) {
			if (reference.getPropertyName() != null) {
				if (!path.isEmpty()) {
					path.append('.');
				}
				path.append(ProblemResponses.abbreviate(reference.getPropertyName()));
			}
			else if (reference.getIndex() >= 0) {
				path.append('[').append(reference.getIndex()).append(']');
			}
		}
		return path.toString();
	}

	/** Jackson's messages may end in a note about the (redacted) source; it tells the caller nothing. */
	private static String withoutSource(String message) {
		int cut = message.indexOf(" (start marker at");
		if (cut < 0) {
			cut = message.indexOf("\n at [Source");
		}
		return (cut < 0) ? message : message.substring(0, cut);
	}

	/** Drops Jackson's hints about its settings; for NaN and Infinity says what to send instead. */
	private static String withoutSettings(String message) {
		String finite = message.replace(": enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow",
				": numbers must be finite (JSON has no NaN or Infinity)");
		return JACKSON_SETTING.matcher(finite).replaceAll("");
	}

	private static String location(TokenStreamLocation location) {
		if (location == null || location.getLineNr() < 0) {
			return "";
		}
		return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
	}

	private static String expected(Class<?> type) {
		if (type == null) {
			return "a different kind of value";
		}
		if (type == Double.class || type == double.class) {
			return "a number";
		}
		if (type == Long.class || type == long.class || type == Integer.class || type == int.class) {
			return "a whole number";
		}
		if (type == Boolean.class || type == boolean.class) {
			return "true or false";
		}
		if (type == String.class) {
			return "a string";
		}
		if (Collection.class.isAssignableFrom(type) || type.isArray()) {
			return "an array";
		}
		return "a JSON object";
	}

	private static String known(Collection<Object> ids) {
		return (ids == null) ? "[]" : ids.stream().map(String::valueOf).sorted().collect(Collectors.joining(", ", "[", "]"));
	}

}
