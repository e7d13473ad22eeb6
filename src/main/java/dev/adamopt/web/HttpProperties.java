package dev.adamopt.web;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * How the HTTP connector spends heap and worker threads on connections and request bodies, so that neither many
 * connections nor slow clients can take the service down. The body size limit and the body deadline are
 * {@code adam.limits.max-request-size} and {@code adam.limits.request-body-timeout}.
 *
 * @param socketBufferSize Tomcat's read and write buffer of each open connection (and the read buffer of each request
 * in progress); larger buffers move large tensors in fewer system calls. 1M-parameter safetensors round trips
 * (client sends parameters + gradients / service holds them; four servers, median of 10 alternating rounds of 30):
 * 8 KiB 27.5 / 22.6 ms, 16 KiB 24.9 / 20.9 ms, 32 KiB 22.8 / 19.0 ms, 64 KiB 23.7 / 17.7 ms; a connection with a
 * request in progress costs 124, 172 and 268 KiB at 16, 32 and 64 KiB: 32 KiB is as fast as 64 KiB within the noise
 * at two thirds of the memory
 * @param connectionMemory heap set aside for open connections: it bounds how many are accepted at once (beyond that
 * they wait in the accept queue). Default: an eighth of the maximum heap
 * @param bufferedBodySize bodies up to this size ({@code Content-Length}) are read without holding a worker thread
 * and handed to the application whole; larger and chunked bodies are streamed on a worker thread
 * @param bufferedBodiesMemory heap for bodies being read that way, all requests together. Default: a sixteenth of
 * the maximum heap
 * @param maxStreamedBodies how many large or chunked bodies may be streamed at once; beyond that the request is
 * answered 503 with {@code Retry-After}
 */
@ConfigurationProperties("adam.http")
record HttpProperties(@DefaultValue("32KB") DataSize socketBufferSize, DataSize connectionMemory,
		@DefaultValue("1MB") DataSize bufferedBodySize, DataSize bufferedBodiesMemory,
		@DefaultValue("32") int maxStreamedBodies) {

	HttpProperties {
		if (socketBufferSize.toBytes() < 1024 || socketBufferSize.toBytes() > 16 * 1024 * 1024) {
			throw new IllegalArgumentException(
					"adam.http.socket-buffer-size must be between 1KB and 16MB, got " + socketBufferSize);
		}
		if (connectionMemory != null && connectionMemory.toBytes() <= 0) {
			throw new IllegalArgumentException("adam.http.connection-memory must be positive, got " + connectionMemory);
		}
		if (bufferedBodySize.toBytes() < 0 || bufferedBodySize.toBytes() > Integer.MAX_VALUE - 8) {
			throw new IllegalArgumentException(
					"adam.http.buffered-body-size must be between 0 and 2GB, got " + bufferedBodySize);
		}
		if (bufferedBodiesMemory != null && bufferedBodiesMemory.toBytes() < 0) {
			throw new IllegalArgumentException(
					"adam.http.buffered-bodies-memory must not be negative, got " + bufferedBodiesMemory);
		}
		if (maxStreamedBodies < 1) {
			throw new IllegalArgumentException(
					"adam.http.max-streamed-bodies must be at least 1, got " + maxStreamedBodies);
		}
	}

	long connectionMemoryBytes() {
		return (this.connectionMemory != null) ? this.connectionMemory.toBytes() : Runtime.getRuntime().maxMemory() / 8;
	}

	long bufferedBodiesMemoryBytes() {
		return (this.bufferedBodiesMemory != null) ? this.bufferedBodiesMemory.toBytes()
				: Runtime.getRuntime().maxMemory() / 16;
	}

}
