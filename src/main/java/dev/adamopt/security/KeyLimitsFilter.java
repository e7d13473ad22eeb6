package dev.adamopt.security;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.adamopt.memory.RequestMemory;
import dev.adamopt.session.Caller;
import dev.adamopt.session.KeyQuotas;
import dev.adamopt.web.ProblemResponses;
import dev.adamopt.web.ProblemType;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpHeaders;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextHolderStrategy;

/**
 * The per-key limits of a request made with an API key ({@code adam.limits.per-key.*}), once it is authenticated:
 * its key's rate (a Bucket4j token bucket per key: beyond it {@code 429} {@code /problems/too-many-requests} with
 * {@code Retry-After}, and nothing is done), and its key's memory quota, which the tensors the request decodes and the
 * copies made for its answer are charged to (within the service's budget) until the answer is written.
 */
final class KeyLimitsFilter extends RequestDispatchFilter {

	private final Integer requestsPerSecond;

	private final KeyQuotas quotas;

	private final TimeMeter time;

	private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

	private final SecurityContextHolderStrategy contexts = SecurityContextHolder.getContextHolderStrategy();

	/**
	 * @param requestsPerSecond each key's rate, {@code null} for none
	 * @param clock the buckets' time
	 */
	KeyLimitsFilter(Integer requestsPerSecond, KeyQuotas quotas, Clock clock) {
		this.requestsPerSecond = requestsPerSecond;
		this.quotas = quotas;
		this.time = new TimeMeter() {

			@Override
			public long currentTimeNanos() {
				return TimeUnit.MILLISECONDS.toNanos(clock.millis());
			}

			@Override
			public boolean isWallClockBased() {
				return true;
			}

		};
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		Authentication authentication = this.contexts.getContext().getAuthentication();
		if (!(authentication instanceof ApiKeyAuthentication key) || !key.isAuthenticated()) {
			chain.doFilter(request, response);
			return;
		}
		String name = key.getName();
		// a body read ahead is decoded on a second (async) dispatch of the same request: counted once
		if (this.requestsPerSecond != null && request.getDispatcherType() == DispatcherType.REQUEST) {
			ConsumptionProbe probe = this.buckets.computeIfAbsent(name, this::bucket).tryConsumeAndReturnRemaining(1);
			if (!probe.isConsumed()) {
				long seconds = Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999) / 1_000_000_000);
				response.setHeader(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
				ProblemResponses.refuse(request, response, ProblemType.TOO_MANY_REQUESTS, "API key '" + name
						+ "' has made more than its " + this.requestsPerSecond + " requests per second "
						+ "(adam.limits.per-key.requests-per-second); nothing was done: retry after " + seconds
						+ " s (Retry-After)");
				return;
			}
		}
		try (RequestMemory memory = RequestMemory.open(this.quotas.memory(Caller.key(name)))) {
			chain.doFilter(request, response);
		}
	}

	/** A bucket of one second's requests, refilled continuously: a burst of up to that many, that rate on average. */
	private Bucket bucket(String name) {
		int rate = this.requestsPerSecond;
		return Bucket.builder()
			.addLimit(limit -> limit.capacity(rate).refillGreedy(rate, Duration.ofSeconds(1)))
			.withCustomTimePrecision(this.time)
			.build();
	}

}
