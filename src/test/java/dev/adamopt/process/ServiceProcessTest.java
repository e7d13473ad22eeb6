package dev.adamopt.process;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ServiceProcessTest {

	@Test
	void serviceShouldRunInItsOwnJvmAndStopOnSigterm() throws Exception {
		try (ServiceProcess service = ServiceProcess.start("process-test", List.of("-Xmx256m"), Map.of())) {
			HttpResponse<String> created = HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(service.uri("/v1/sessions"))
					.header("Content-Type", "application/json")
					.POST(HttpRequest.BodyPublishers.ofString("{}"))
					.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(created.statusCode()).isEqualTo(201);
			assertThat(service.pid()).isNotEqualTo(ProcessHandle.current().pid());
			service.terminate();
			assertThat(service.awaitExit(Duration.ofSeconds(60))).isNotEqualTo(-1);
			assertThat(service.isAlive()).isFalse();
		}
	}

}
