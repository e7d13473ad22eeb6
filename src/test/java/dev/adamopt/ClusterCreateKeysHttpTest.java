package dev.adamopt;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import dev.adamopt.cluster.LoopbackPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two service nodes of one cluster (adam.store=hazelcast) in this JVM, over real HTTP: a create retried through the
 * other node with its Idempotency-Key answers the session the first made.
 */
class ClusterCreateKeysHttpTest {

	private static final HttpClient HTTP = HttpClient.newHttpClient();

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final List<ConfigurableApplicationContext> nodes = new ArrayList<>();

	@AfterEach
	void stopNodes() {
		this.nodes.forEach(ConfigurableApplicationContext::close);
	}

	@Test
	void aCreateRetriedThroughAnotherNodeShouldAnswerTheSessionTheFirstNodeCreated() throws Exception {
		int[] ports = LoopbackPorts.free(2);
		String members = Arrays.stream(ports).mapToObj(port -> "127.0.0.1:" + port).collect(Collectors.joining(","));
		for (int port : ports) {
			this.nodes.add(new SpringApplicationBuilder(AdamServiceApplication.class).run("--server.port=0",
					"--server.address=127.0.0.1", "--adam.store=hazelcast", "--adam.cluster.name=keys-" + ports[0],
					"--adam.cluster.members=" + members, "--adam.cluster.port=" + port,
					"--adam.cluster.heartbeat-interval=1s", "--adam.cluster.failure-timeout=8s",
					"--adam.persistence.directory="));
		}
		await().atMost(60, TimeUnit.SECONDS)
			.until(() -> this.nodes.stream()
				.allMatch(node -> node.getBean(com.hazelcast.core.HazelcastInstance.class)
					.getCluster()
					.getMembers()
					.size() == 2));
		String body = "{\"parameters\": {\"w\": [0.5, -0.25]}}";

		HttpResponse<String> first = create(0, "k1", body);
		HttpResponse<String> retry = create(1, "k1", body);

		assertThat(first.statusCode()).isEqualTo(201);
		assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).contains("true");
		assertThat(retry.body()).isEqualTo(first.body());
		String id = JSON.readTree(first.body()).get("id").asString();
		assertThat(retry.headers().firstValue("Location")).hasValueSatisfying(location -> assertThat(location)
			.endsWith("/v1/sessions/" + id));
		assertThat(JSON.readTree(send(1, "GET", "/v1/sessions", null).body()).get("sessions")).hasSize(1);
		// another body with the key is refused through either node, naming the session
		HttpResponse<String> reused = create(0, "k1", "{}");
		assertThat(reused.statusCode()).isEqualTo(422);
		assertThat(reused.body()).contains("/problems/idempotency-key-reused", id);
	}

	private HttpResponse<String> create(int node, String key, String body) throws Exception {
		return HTTP.send(request(node, "POST", "/v1/sessions", body).header("Idempotency-Key", key).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> send(int node, String method, String path, String body) throws Exception {
		return HTTP.send(request(node, method, path, body).build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpRequest.Builder request(int node, String method, String path, String body) {
		int port = ((WebServerApplicationContext) this.nodes.get(node)).getWebServer().getPort();
		return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.header("Content-Type", "application/json")
			.method(method, (body != null) ? HttpRequest.BodyPublishers.ofString(body)
					: HttpRequest.BodyPublishers.noBody());
	}

}
