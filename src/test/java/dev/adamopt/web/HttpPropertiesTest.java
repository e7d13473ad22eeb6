package dev.adamopt.web;

import org.junit.jupiter.api.Test;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.unit.DataSize;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code adam.http.*}: defaults, binding, self-validation, and the connection limit they give. */
class HttpPropertiesTest {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withUserConfiguration(Properties.class);

	@Test
	void defaultsShouldBeTheMeasuredBufferAndShareOfTheHeap() {
		this.runner.run(context -> {
			HttpProperties http = context.getBean(HttpProperties.class);
			assertThat(http.socketBufferSize()).isEqualTo(DataSize.ofKilobytes(32));
			assertThat(http.bufferedBodySize()).isEqualTo(DataSize.ofMegabytes(1));
			assertThat(http.maxStreamedBodies()).isEqualTo(32);
			assertThat(http.connectionMemoryBytes()).isEqualTo(Runtime.getRuntime().maxMemory() / 8);
			assertThat(http.bufferedBodiesMemoryBytes()).isEqualTo(Runtime.getRuntime().maxMemory() / 16);
		});
	}

	@Test
	void sizesShouldBindFromAnyDataSizeNotation() {
		this.runner
			.withPropertyValues("adam.http.socket-buffer-size=16KB", "adam.http.connection-memory=64MB",
					"adam.http.buffered-body-size=256KB", "adam.http.buffered-bodies-memory=8MB",
					"adam.http.max-streamed-bodies=4")
			.run(context -> {
				HttpProperties http = context.getBean(HttpProperties.class);
				assertThat(http.socketBufferSize().toBytes()).isEqualTo(16 * 1024);
				assertThat(http.connectionMemoryBytes()).isEqualTo(64L * 1024 * 1024);
				assertThat(http.bufferedBodySize().toBytes()).isEqualTo(256 * 1024);
				assertThat(http.bufferedBodiesMemoryBytes()).isEqualTo(8L * 1024 * 1024);
				assertThat(http.maxStreamedBodies()).isEqualTo(4);
			});
	}

	@Test
	void socketBufferBelowOneKilobyteShouldFailStartupNamingTheProperty() {
		this.runner.withPropertyValues("adam.http.socket-buffer-size=512B")
			.run(context -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("adam.http.socket-buffer-size must be between 1KB and 16MB, got 512B"));
	}

	@Test
	void noStreamedBodiesAtAllShouldFailStartupNamingTheProperty() {
		this.runner.withPropertyValues("adam.http.max-streamed-bodies=0")
			.run(context -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("adam.http.max-streamed-bodies must be at least 1, got 0"));
	}

	@Test
	void nonPositiveConnectionMemoryShouldFailStartupNamingTheProperty() {
		this.runner.withPropertyValues("adam.http.connection-memory=0B")
			.run(context -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("adam.http.connection-memory must be positive"));
	}

	@Test
	void connectionLimitShouldBeWhatTheConnectionMemoryHolds() {
		// 3 socket buffers + 76 KiB: 172 KiB per connection at 32 KiB buffers
		HttpProperties http = properties(DataSize.ofKilobytes(32), DataSize.ofKilobytes(172 * 1000));
		assertThat(TomcatConfiguration.bytesPerConnection(32 * 1024)).isEqualTo(172 * 1024);
		assertThat(TomcatConfiguration.maxConnections(http, 8192)).isEqualTo(1000);
		assertThat(TomcatConfiguration.maxConnections(properties(DataSize.ofKilobytes(64), DataSize.ofKilobytes(
				268 * 1000)), 8192)).isEqualTo(1000);
	}

	@Test
	void connectionLimitShouldNeverExceedTomcatsMaxConnectionsNorFallBelowOne() {
		assertThat(TomcatConfiguration.maxConnections(properties(DataSize.ofKilobytes(32), DataSize.ofGigabytes(64)),
				8192)).isEqualTo(8192);
		assertThat(TomcatConfiguration.maxConnections(properties(DataSize.ofKilobytes(32), DataSize.ofKilobytes(1)),
				8192)).isEqualTo(1);
	}

	private static HttpProperties properties(DataSize socketBuffer, DataSize connectionMemory) {
		return new HttpProperties(socketBuffer, connectionMemory, DataSize.ofMegabytes(1), null, 32);
	}

	@Configuration(proxyBeanMethods = false)
	@EnableConfigurationProperties(HttpProperties.class)
	static class Properties {

	}

}
