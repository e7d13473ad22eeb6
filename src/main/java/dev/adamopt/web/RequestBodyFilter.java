package dev.adamopt.web;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.BufferedReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.http.HttpHeaders;

/**
 * Reads request bodies so that a slow or stalled client cannot hold a worker thread for long, and refuses bodies
 * beyond {@code adam.limits.max-request-size}.
 * <ul>
 * <li>A body whose {@code Content-Length} is beyond the limit is refused at once (413), unread.</li>
 * <li>A body of at most {@code adam.http.buffered-body-size} (by {@code Content-Length}) is read with Servlet
 * non-blocking I/O: no worker thread waits while the client sends it. Once it is whole the request is dispatched
 * again, with the body in memory; if it is not whole by {@code adam.limits.request-body-timeout} the answer is 408
 * and the application never sees the request. The bodies being read this way share
 * {@code adam.http.buffered-bodies-memory}.</li>
 * <li>Larger and chunked bodies are streamed to the codecs on a worker thread as before (no copy), at most
 * {@code adam.http.max-streamed-bodies} at once (beyond that 503 with {@code Retry-After}); every read checks the
 * deadline and the size limit. A read that blocks is ended by Tomcat's upload timeout (set a little beyond the
 * deadline by {@link TomcatConfiguration}).</li>
 * </ul>
 * In every case a request is handed to the application only once its whole body has arrived in time, or, when
 * streamed, fails before the application acts on it: a step whose body came too late is never applied.
 */
final class RequestBodyFilter implements Filter {

	private static final Logger log = LoggerFactory.getLogger(RequestBodyFilter.class);

	private static final String BODY = RequestBodyFilter.class.getName() + ".body";

	/** Seconds a client refused for lack of capacity should wait before it retries. */
	static final int RETRY_AFTER_SECONDS = 1;

	private final long maxRequestSize;

	private final Duration timeout;

	private final long bufferedBodySize;

	private final AtomicLong bufferedBytesFree;

	private final Semaphore streams;

	private final int maxStreams;

	private final Clock clock;

	RequestBodyFilter(long maxRequestSize, Duration timeout, long bufferedBodySize, long bufferedBodiesMemory,
			int maxStreamedBodies, Clock clock) {
		this.maxRequestSize = maxRequestSize;
		this.timeout = timeout;
		this.bufferedBodySize = bufferedBodySize;
		this.bufferedBytesFree = new AtomicLong(bufferedBodiesMemory);
		this.streams = new Semaphore(maxStreamedBodies);
		this.maxStreams = maxStreamedBodies;
		this.clock = clock;
	}

	@Override
	public void doFilter(ServletRequest servletRequest, ServletResponse servletResponse, FilterChain chain)
			throws IOException, ServletException {
		HttpServletRequest request = (HttpServletRequest) servletRequest;
		HttpServletResponse response = (HttpServletResponse) servletResponse;
		if (request.getDispatcherType() == DispatcherType.ASYNC) {
			if (request.getAttribute(BODY) instanceof BodyReader body) {
				// the second dispatch of a request whose body was read without a worker thread
				try {
					chain.doFilter(new BufferedBodyRequest(request, body.body), response);
				}
				finally {
					body.release();
				}
			}
			else {
				chain.doFilter(request, response);
			}
			return;
		}
		long length = request.getContentLengthLong();
		boolean chunked = length < 0 && request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
		if (length <= 0 && !chunked) {
			chain.doFilter(request, response);
			return;
		}
		if (length > this.maxRequestSize) {
			refuse(request, response, ProblemType.PAYLOAD_TOO_LARGE, "the request body has " + length
					+ " bytes (Content-Length), more than the " + this.maxRequestSize + " this service takes "
					+ "(adam.limits.max-request-size); nothing was read or changed. " + SMALLER);
			return;
		}
		if (!chunked && length <= this.bufferedBodySize && reserve(length)) {
			BodyReader reader = new BodyReader(request, (int) length);
			try {
				reader.start();
			}
			catch (IOException | RuntimeException ex) {
				reader.release();
				throw ex;
			}
			return;
		}
		if (!this.streams.tryAcquire()) {
			response.setHeader(HttpHeaders.RETRY_AFTER, Integer.toString(RETRY_AFTER_SECONDS));
			refuse(request, response, ProblemType.SERVICE_UNAVAILABLE, "the service is receiving as many large or "
					+ "chunked request bodies as it takes at once (" + this.maxStreams + ", adam.http.max-streamed-bodies)"
					+ "; nothing was read or changed: retry after " + RETRY_AFTER_SECONDS + " s (Retry-After)");
			return;
		}
		try {
			DeadlineInputStream body = new DeadlineInputStream(request.getInputStream(),
					this.clock.millis() + this.timeout.toMillis());
			chain.doFilter(new StreamedBodyRequest(request, body), response);
			finish(request, response, body);
		}
		finally {
			this.streams.release();
		}
	}

	private static final String SMALLER = "Send fewer tensors per request, or safetensors (application/octet-stream), "
			+ "which is about a third of JSON's size.";

	/**
	 * After the application answered a streamed request: reads what it left of the body (as Tomcat would), under the
	 * same deadline and size limit, so that the client gets to read the answer; if that fails, Tomcat reads no more.
	 */
	private static void finish(HttpServletRequest request, HttpServletResponse response, DeadlineInputStream body) {
		try {
			body.drain();
		}
		catch (IOException ex) {
			try {
				response.flushBuffer();
			}
			catch (IOException closed) {
				// the client is gone: nothing to flush
			}
			UploadAbortValve.abortUpload(request);
		}
	}

	private void refuse(HttpServletRequest request, HttpServletResponse response, ProblemType type, String detail)
			throws IOException {
		response.setHeader(HttpHeaders.CONNECTION, "close");
		ProblemResponses.write(response, type, detail, request.getRequestURI());
		UploadAbortValve.abortUpload(request);
	}

	private boolean reserve(long bytes) {
		long free;
		do {
			free = this.bufferedBytesFree.get();
			if (free < bytes) {
				return false;
			}
		}
		while (!this.bufferedBytesFree.compareAndSet(free, free - bytes));
		return true;
	}

	private String tooSlow() {
		return "the request body did not arrive within " + format(this.timeout) + " (adam.limits.request-body-timeout); "
				+ "nothing was changed: send the whole body without pauses";
	}

	private String tooLarge() {
		return "the request body is longer than the " + this.maxRequestSize + " bytes this service takes "
				+ "(adam.limits.max-request-size); nothing was changed. " + SMALLER;
	}

	static String format(Duration duration) {
		long millis = duration.toMillis();
		return (millis % 1000 == 0) ? (millis / 1000) + " s" : millis + " ms";
	}

	/**
	 * Reads one body of known length into memory with non-blocking I/O, then dispatches the request again; answers
	 * 408 when the deadline passes first. Every path ends in exactly one of dispatch, 408 or (the client went away)
	 * complete, and gives the reserved memory back when the request is done.
	 */
	private final class BodyReader implements ReadListener, AsyncListener {

		private final HttpServletRequest request;

		private final byte[] body;

		private final AtomicBoolean settled = new AtomicBoolean();

		private final AtomicBoolean released = new AtomicBoolean();

		private AsyncContext async;

		private ServletInputStream in;

		private int filled;

		BodyReader(HttpServletRequest request, int length) {
			this.request = request;
			this.body = new byte[length];
		}

		void start() throws IOException {
			this.async = this.request.startAsync();
			this.async.setTimeout(RequestBodyFilter.this.timeout.toMillis());
			this.async.addListener(this);
			this.in = this.request.getInputStream();
			this.in.setReadListener(this);
		}

		@Override
		public void onDataAvailable() throws IOException {
			while (this.filled < this.body.length && this.in.isReady()) {
				int n = this.in.read(this.body, this.filled, this.body.length - this.filled);
				if (n < 0) {
					break;
				}
				this.filled += n;
			}
		}

		@Override
		public void onAllDataRead() {
			if (this.filled == this.body.length && this.settled.compareAndSet(false, true)) {
				this.request.setAttribute(BODY, this);
				this.async.dispatch();
			}
		}

		@Override
		public void onError(Throwable failure) {
			if (this.settled.compareAndSet(false, true)) {
				log.debug("Request body of {} {} not read: {}", this.request.getMethod(), this.request.getRequestURI(),
						failure.toString());
				release();
				complete();
			}
		}

		@Override
		public void onTimeout(AsyncEvent event) throws IOException {
			if (this.settled.compareAndSet(false, true)) {
				HttpServletResponse response = (HttpServletResponse) this.async.getResponse();
				response.setHeader(HttpHeaders.CONNECTION, "close");
				ProblemResponses.write(response, ProblemType.REQUEST_TIMEOUT, tooSlow(), this.request.getRequestURI());
				release();
				complete();
			}
		}

		@Override
		public void onError(AsyncEvent event) {
			onError(event.getThrowable());
		}

		@Override
		public void onComplete(AsyncEvent event) {
			release();
		}

		/**
		 * Gives the body's memory back, once: when the application is done with it (after the second dispatch), or
		 * when the request ends without it (408, the client went away).
		 */
		void release() {
			if (this.released.compareAndSet(false, true)) {
				RequestBodyFilter.this.bufferedBytesFree.addAndGet(this.body.length);
			}
		}

		@Override
		public void onStartAsync(AsyncEvent event) {
		}

		private void complete() {
			try {
				this.async.complete();
			}
			catch (IllegalStateException alreadyCompleting) {
				// Tomcat ends the request itself after some errors
			}
		}

	}

	/** The request as the application sees it when its body was read ahead: the body comes from memory. */
	private static final class BufferedBodyRequest extends HttpServletRequestWrapper {

		private final byte[] body;

		BufferedBodyRequest(HttpServletRequest request, byte[] body) {
			super(request);
			this.body = body;
		}

		@Override
		public ServletInputStream getInputStream() {
			ByteArrayInputStream in = new ByteArrayInputStream(this.body);
			return new ServletInputStream() {

				@Override
				public int read() {
					return in.read();
				}

				@Override
				public int read(byte[] buffer, int offset, int length) {
					return in.read(buffer, offset, length);
				}

				@Override
				public int available() {
					return in.available();
				}

				@Override
				public boolean isFinished() {
					return in.available() == 0;
				}

				@Override
				public boolean isReady() {
					return true;
				}

				@Override
				public void setReadListener(ReadListener listener) {
					throw new IllegalStateException("the body has been read already");
				}

			};
		}

		@Override
		public BufferedReader getReader() {
			return new BufferedReader(new InputStreamReader(getInputStream(), charset(this)));
		}

	}

	/** The request as the application sees it when its body is streamed: every read is checked. */
	private static final class StreamedBodyRequest extends HttpServletRequestWrapper {

		private final DeadlineInputStream body;

		StreamedBodyRequest(HttpServletRequest request, DeadlineInputStream body) {
			super(request);
			this.body = body;
		}

		@Override
		public ServletInputStream getInputStream() {
			return this.body;
		}

		@Override
		public BufferedReader getReader() {
			return new BufferedReader(new InputStreamReader(this.body, charset(this)));
		}

	}

	private static Charset charset(HttpServletRequest request) {
		String encoding = request.getCharacterEncoding();
		return (encoding != null && Charset.isSupported(encoding)) ? Charset.forName(encoding) : StandardCharsets.UTF_8;
	}

	/**
	 * The streamed body: before and after every read, the deadline; after every read, the size limit. A body that
	 * fails either fails every later read too.
	 */
	private final class DeadlineInputStream extends ServletInputStream {

		private final ServletInputStream in;

		private final long deadline;

		private long count;

		private boolean finished;

		DeadlineInputStream(ServletInputStream in, long deadline) {
			this.in = in;
			this.deadline = deadline;
		}

		@Override
		public int read() throws IOException {
			check();
			int b = this.in.read();
			counted((b < 0) ? -1 : 1);
			return b;
		}

		@Override
		public int read(byte[] buffer, int offset, int length) throws IOException {
			if (length == 0) {
				return 0;
			}
			check();
			int n = this.in.read(buffer, offset, length);
			counted(n);
			return n;
		}

		private void counted(int n) throws RequestBodyException {
			if (n < 0) {
				this.finished = true;
				return;
			}
			this.count += n;
			if (this.count > RequestBodyFilter.this.maxRequestSize) {
				throw new RequestBodyException(ProblemType.PAYLOAD_TOO_LARGE, tooLarge());
			}
			check();
		}

		private void check() throws RequestBodyException {
			if (RequestBodyFilter.this.clock.millis() > this.deadline) {
				throw new RequestBodyException(ProblemType.REQUEST_TIMEOUT, tooSlow());
			}
		}

		/** Reads the rest of the body, if any, under the same checks. */
		void drain() throws IOException {
			byte[] scratch = null;
			while (!isFinished()) {
				if (scratch == null) {
					scratch = new byte[8192];
				}
				read(scratch, 0, scratch.length);
			}
		}

		@Override
		public int available() throws IOException {
			return this.in.available();
		}

		@Override
		public boolean isFinished() {
			return this.finished || this.in.isFinished();
		}

		@Override
		public boolean isReady() {
			return this.in.isReady();
		}

		@Override
		public void setReadListener(ReadListener listener) {
			throw new IllegalStateException("a streamed body is read with blocking reads");
		}

	}

}
