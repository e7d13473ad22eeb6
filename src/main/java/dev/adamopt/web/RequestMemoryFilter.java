package dev.adamopt.web;

import java.io.IOException;

import dev.adamopt.memory.MemoryBudget;
import dev.adamopt.memory.RequestMemory;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Opens the request's account in the memory budget: tensors being decoded and copies made for the answer are charged
 * to it before they are allocated, and given back once the answer is written.
 * <p>
 * Before the API keys' check ({@code spring.security.filter.order}, next): with a per-key memory quota the key's
 * account is opened inside this one, and the innermost account is the one charged, so a keyed request's copies count
 * against its key's quota (which lies within the service's budget) rather than the service's budget alone.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 3)
class RequestMemoryFilter extends OncePerRequestFilter {

	private final MemoryBudget budget;

	RequestMemoryFilter(MemoryBudget budget) {
		this.budget = budget;
	}

	/** A body read ahead without a worker thread is decoded on the request's second, async, dispatch. */
	@Override
	protected boolean shouldNotFilterAsyncDispatch() {
		return false;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		try (RequestMemory memory = RequestMemory.open(this.budget)) {
			chain.doFilter(request, response);
		}
	}

}
