package dev.adamopt.web;

import java.time.Clock;
import java.util.EnumSet;

import dev.adamopt.session.LimitsProperties;
import jakarta.servlet.DispatcherType;
import org.apache.catalina.Container;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Valve;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.AbstractProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.boot.tomcat.autoconfigure.TomcatServerProperties;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * Tomcat sized so that connections and slow clients cannot exhaust the heap or the worker threads (see
 * {@link HttpProperties}), and answering every refusal as a problem.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(HttpProperties.class)
class TomcatConfiguration {

	private static final Logger log = LoggerFactory.getLogger(TomcatConfiguration.class);

	/**
	 * Heap of one connection beyond its socket buffers while a request is in progress (Tomcat's request processor:
	 * header buffers, request and response objects), measured: see {@link #bytesPerConnection}.
	 */
	static final long PROCESSOR_OVERHEAD = 76 * 1024;

	/** Tomcat checks timeouts about once a second: the upload timeout ends this long after the body's deadline. */
	private static final long TIMEOUT_CHECK_MARGIN_MILLIS = 5_000;

	/**
	 * The heap one connection may take at most: its read and write buffers (held while it is open, idle or not) and,
	 * while a request is in progress, a processor whose input buffer is again one socket buffer. Measured with
	 * -Xmx1g, live heap after a full GC with 1,000 connections open (socket buffer: idle / request in progress):
	 * 8 KiB: 17.5 / 100.2 KiB, 16 KiB: 33.5 / 124.2 KiB, 32 KiB: 65.5 / 172.3 KiB, 64 KiB: 129.5 / 268.2 KiB; that is
	 * 2 buffers + 1.5 KiB idle, 3 buffers + 76 KiB in progress. A body read ahead comes on top, bounded by
	 * {@code adam.http.buffered-bodies-memory} for all connections together.
	 */
	static long bytesPerConnection(long socketBufferSize) {
		return 3 * socketBufferSize + PROCESSOR_OVERHEAD;
	}

	/**
	 * The most connections open at once: as many as {@code adam.http.connection-memory} holds, at most
	 * {@code server.tomcat.max-connections}; beyond it connections wait in the accept queue
	 * ({@code server.tomcat.accept-count}), beyond that the operating system refuses them.
	 */
	static int maxConnections(HttpProperties http, int configuredMax) {
		long fit = http.connectionMemoryBytes() / bytesPerConnection(http.socketBufferSize().toBytes());
		return (int) Math.max(1, Math.min(configuredMax, fit));
	}

	/**
	 * Runs after Spring Boot's own Tomcat customizer (order 0), so that the connection limit it sets from
	 * {@code server.tomcat.max-connections} is narrowed here, not overwritten.
	 */
	@Bean
	WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory> connectionLimits(HttpProperties http,
			LimitsProperties limits, TomcatServerProperties tomcat) {
		return new ConnectionLimits(http, limits, tomcat);
	}

	@Bean
	FilterRegistrationBean<RequestBodyFilter> requestBodyFilter(HttpProperties http, LimitsProperties limits,
			Clock clock) {
		RequestBodyFilter filter = new RequestBodyFilter(limits.maxRequestSize().toBytes(), limits.requestBodyTimeout(),
				http.bufferedBodySize().toBytes(), http.bufferedBodiesMemoryBytes(), http.maxStreamedBodies(), clock);
		FilterRegistrationBean<RequestBodyFilter> registration = new FilterRegistrationBean<>(filter);
		// after the character encoding, observation and CORS filters and the API keys' check (spring.security.filter.order;
		// none reads a body, so no body of a request without a valid key is read; metrics see the refusals and the read
		// ahead; refusals carry the CORS headers), before any filter that may read one (FormContentFilter)
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 5);
		registration.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
		registration.setAsyncSupported(true);
		return registration;
	}

	private static final class ConnectionLimits
			implements WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory>, Ordered {

		private final HttpProperties http;

		private final LimitsProperties limits;

		private final TomcatServerProperties tomcat;

		ConnectionLimits(HttpProperties http, LimitsProperties limits, TomcatServerProperties tomcat) {
			this.http = http;
			this.limits = limits;
			this.tomcat = tomcat;
		}

		@Override
		public int getOrder() {
			return 1;
		}

		@Override
		public void customize(ConfigurableTomcatWebServerFactory factory) {
			long buffer = this.http.socketBufferSize().toBytes();
			int maxConnections = maxConnections(this.http, this.tomcat.getMaxConnections());
			long uploadTimeout = this.limits.requestBodyTimeout().toMillis() + TIMEOUT_CHECK_MARGIN_MILLIS;
			factory.addConnectorCustomizers(connector -> {
				connector.setProperty("socket.appReadBufSize", Long.toString(buffer));
				connector.setProperty("socket.appWriteBufSize", Long.toString(buffer));
				// a blocked read of a request body ends this long after the last byte arrived (the body's own
				// deadline is checked between reads, and by the async timeout for bodies read ahead)
				connector.setProperty("disableUploadTimeout", "false");
				connector.setProperty("connectionUploadTimeout", Long.toString(uploadTimeout));
				if (connector.getProtocolHandler() instanceof AbstractProtocol<?> protocol) {
					protocol.setMaxConnections(maxConnections);
				}
				log.info("HTTP: at most {} connections ({} KiB socket buffers, {} KiB per connection, {} MiB of "
						+ "adam.http.connection-memory), accept queue {}", maxConnections, buffer / 1024,
						bytesPerConnection(buffer) / 1024, this.http.connectionMemoryBytes() / (1024 * 1024),
						this.tomcat.getAcceptCount());
			});
			factory.addEngineValves(new UploadAbortValve());
			factory.addContextCustomizers(context -> context.addLifecycleListener(event -> {
				if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
					useProblemErrorReports(context.getParent());
				}
			}));
		}

		/** Puts the problem-writing error report valve in place of Tomcat's (and Spring Boot's) HTML one. */
		private static void useProblemErrorReports(Container host) {
			boolean present = false;
			for (Valve valve : host.getPipeline().getValves()) {
				if (valve instanceof ProblemErrorReportValve) {
					present = true;
				}
				else if (valve instanceof ErrorReportValve) {
					host.getPipeline().removeValve(valve);
				}
			}
			if (!present) {
				host.getPipeline().addValve(new ProblemErrorReportValve());
			}
		}

	}

}
