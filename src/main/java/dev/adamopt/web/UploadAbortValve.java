package dev.adamopt.web;

import java.io.IOException;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;

/**
 * Gives the application a way to tell Tomcat not to read the rest of a request body it refused. Otherwise Tomcat
 * reads ("swallows") whatever the client still sends before it closes the connection, on a worker thread, for as long
 * as the client takes: exactly what a refused body (too large, too slow) must not get.
 */
final class UploadAbortValve extends ValveBase {

	private static final String ATTRIBUTE = UploadAbortValve.class.getName();

	UploadAbortValve() {
		super(true);
	}

	@Override
	public void invoke(Request request, Response response) throws IOException, ServletException {
		org.apache.coyote.Request coyote = request.getCoyoteRequest();
		request.setAttribute(ATTRIBUTE, (Runnable) () -> coyote.action(ActionCode.DISABLE_SWALLOW_INPUT, null));
		getNext().invoke(request, response);
	}

	/**
	 * Tomcat reads no more of this request's body and closes the connection after the answer. Call it once the answer
	 * is written (Tomcat turns a status below 400 into 500 here). Does nothing outside Tomcat (MockMvc).
	 */
	static void abortUpload(HttpServletRequest request) {
		if (request.getAttribute(ATTRIBUTE) instanceof Runnable abort) {
			abort.run();
		}
	}

}
