package dev.adamopt.web;

import java.io.IOException;

import dev.adamopt.session.LimitsProperties;
import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.util.DisconnectedClientHelper;

/**
 * {@code /error} as a problem, whatever the client accepts: the errors that reach the servlet container's error page
 * rather than Spring MVC's exception handling (a failed read of a streamed body, an exception from a filter, a method
 * Tomcat refuses) and a request for {@code /error} itself. Replaces Spring Boot's {@code BasicErrorController}.
 */
@Controller
@Hidden
class ProblemErrorController implements ErrorController {

	private static final Logger log = LoggerFactory.getLogger(ProblemErrorController.class);

	private final LimitsProperties limits;

	ProblemErrorController(LimitsProperties limits) {
		this.limits = limits;
	}

	@RequestMapping("${server.error.path:${error.path:/error}}")
	void error(HttpServletRequest request, HttpServletResponse response) {
		if (response.isCommitted()) {
			return;
		}
		if (!(request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE) instanceof Integer status)) {
			write(response, ProblemType.RESOURCE_NOT_FOUND, "no resource at "
					+ request.getRequestURI() + ". The API lives under /v1/sessions; see /swagger-ui.html.",
					request.getRequestURI());
			return;
		}
		Throwable failure = (request.getAttribute(RequestDispatcher.ERROR_EXCEPTION) instanceof Throwable t) ? t : null;
		String uri = (request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String path) ? path : null;
		RequestBodyException refused = RequestBodyException.find(failure);
		if (refused != null) {
			write(response, refused.type(), refused.getMessage(), uri);
			return;
		}
		if (failure != null && DisconnectedClientHelper.isClientDisconnectedException(failure)) {
			log.debug("Client went away during {}: {}", uri, failure.toString());
			return;
		}
		ProblemType type = ProblemType.forStatus(status);
		String detail = switch (type) {
			case REQUEST_TIMEOUT -> "the request body did not arrive within "
					+ RequestBodyFilter.format(this.limits.requestBodyTimeout())
					+ " (adam.limits.request-body-timeout); nothing was changed: send the whole body without pauses";
			case METHOD_NOT_ALLOWED -> "this method is not allowed here (the Allow header lists those that are). See "
					+ "/swagger-ui.html for the operations of each path.";
			case RESOURCE_NOT_FOUND -> "no resource at " + uri + ". The API lives under /v1/sessions; see /swagger-ui.html.";
			case INTERNAL_ERROR -> {
				log.error("Unexpected failure on {}", uri, failure);
				yield "an unexpected error occurred; it has been logged";
			}
			case BAD_REQUEST -> (failure instanceof IOException) ? "the request body could not be read: the connection "
					+ "failed while it was being sent" : "the request could not be read";
			default -> type.title();
		};
		write(response, type, detail, uri);
	}

	/** Writes the problem; a client that is gone by now is one DEBUG line (an exception here would be an ERROR). */
	private static void write(HttpServletResponse response, ProblemType type, String detail, String uri) {
		try {
			ProblemResponses.write(response, type, detail, uri);
		}
		catch (IOException ex) {
			log.debug("Client went away during {}: {}", uri, ex.toString());
		}
	}

}
