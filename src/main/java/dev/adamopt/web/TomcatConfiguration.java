package dev.adamopt.web;

import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class TomcatConfiguration {

	/**
	 * Tensors are megabytes: socket buffers of 64 KiB instead of Tomcat's 8 KiB move them in an eighth of the system
	 * calls. Measured with bench/large_step.py (1M parameters, safetensors, same machine, alternating runs): round
	 * trips 20-35% faster. Cost: 128 KiB per open connection.
	 */
	@Bean
	TomcatConnectorCustomizer largeSocketBuffers() {
		return connector -> {
			connector.setProperty("socket.appReadBufSize", "65536");
			connector.setProperty("socket.appWriteBufSize", "65536");
		};
	}

}
