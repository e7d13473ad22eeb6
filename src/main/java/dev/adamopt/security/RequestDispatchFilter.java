package dev.adamopt.security;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;

import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A filter of the security chain that sees a request and its async dispatch (a body read ahead is decoded there, by
 * the controller), but not an error page included or forwarded after the answer (Tomcat includes one after a refused
 * upload): that is not another request.
 */
abstract class RequestDispatchFilter extends OncePerRequestFilter {

	@Override
	protected final boolean shouldNotFilterAsyncDispatch() {
		return false;
	}

	@Override
	protected final boolean shouldNotFilter(HttpServletRequest request) {
		return request.getDispatcherType() == DispatcherType.INCLUDE
				|| request.getDispatcherType() == DispatcherType.FORWARD;
	}

}
