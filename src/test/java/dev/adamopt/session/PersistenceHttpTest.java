package dev.adamopt.session;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** Every-step persistence over real HTTP: answers follow the files, and a file that cannot be written is a 503. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "adam.persistence.mode=every-step")
@DirtiesContext
class PersistenceHttpTest {

	private static final HttpClient HTTP = HttpClient.newHttpClient();

	private static final String STEP = "{\"gradients\": {\"dw\": [0.5, -0.25]}}";

	@TempDir
	static Path dir;

	@DynamicPropertySource
	static void directory(DynamicPropertyRegistry registry) {
		registry.add("adam.persistence.directory", () -> dir.toString());
	}

	@LocalServerPort
	private int port;

	@Autowired
	private JsonMapper json;

	@Test
	void everyAnswerShouldComeAfterItsFileAndCopiesForTheFileShouldBeGivenBack() throws Exception {
		HttpResponse<String> created = send("POST", "/v1/sessions", "{\"parameters\": {\"w\": [1.0, 2.0]}}");
		assertThat(created.statusCode()).isEqualTo(201);
		String id = this.json.readTree(created.body()).get("id").asString();
		assertThat(onDisk(id).version()).isEqualTo(2);

		for (int i = 1; i <= 3; i++) {
			HttpResponse<String> step = send("POST", "/v1/sessions/" + id + "/steps", STEP);
			assertThat(step.statusCode()).isEqualTo(200);
			assertThat(onDisk(id).checkpoint().step()).isEqualTo(i);
			assertThat(step.headers().firstValue("ETag")).hasValue("\"" + onDisk(id).version() + "\"");
		}
		long held = 0;
		for (JsonNode session : this.json.readTree(send("GET", "/v1/sessions", null).body()).get("sessions")) {
			held += session.get("bytes").asLong();
		}
		JsonNode health = this.json.readTree(send("GET", "/actuator/health", null).body());
		assertThat(health.at("/components/memoryBudget/details/usedBytes").asLong())
			.as("the copies written to disk were given back: the budget holds the sessions only").isEqualTo(held);

		assertThat(send("GET", "/actuator/prometheus", null).body()).contains("adam_persistence_writes_total",
				"adam_persistence_failures_total", "adam_persistence_lag_seconds 0.0");

		assertThat(send("DELETE", "/v1/sessions/" + id, null).statusCode()).isEqualTo(204);
		assertThat(dir.resolve(id + ".session")).doesNotExist();
	}

	@Test
	void stepWhoseFileCannotBeWrittenShouldAnswer503AndBeWrittenLater() throws Exception {
		String id = this.json.readTree(send("POST", "/v1/sessions", "{\"parameters\": {\"w\": [1.0, 2.0]}}").body())
			.get("id")
			.asString();
		Path away = dir.resolveSibling(dir.getFileName() + "-away");
		Files.move(dir, away);
		HttpResponse<String> failed;
		try {
			failed = send("POST", "/v1/sessions/" + id + "/steps", STEP);
		}
		finally {
			Files.move(away, dir);
		}

		assertThat(failed.statusCode()).isEqualTo(503);
		assertThat(failed.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		JsonNode problem = this.json.readTree(failed.body());
		assertThat(problem.get("type").asString()).isEqualTo("/problems/persistence-failed");
		assertThat(problem.get("detail").asString()).contains("could not be written to disk", "GET the session")
			.doesNotContain(dir.toString());
		assertThat(this.json.readTree(send("GET", "/v1/sessions/" + id, null).body()).get("step").asLong())
			.as("the step was made").isEqualTo(1);

		assertThat(send("POST", "/v1/sessions/" + id + "/steps", STEP).statusCode()).isEqualTo(200);
		assertThat(onDisk(id).checkpoint().step()).isEqualTo(2);
	}

	private PersistedSession onDisk(String id) throws IOException {
		Path file = dir.resolve(id + ".session");
		try (InputStream in = Files.newInputStream(file)) {
			return new SessionFile(PersistenceTestSupport.FORMAT).read(in, Files.size(file));
		}
	}

	private HttpResponse<String> send(String method, String path, String body) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path))
			.method(method, (body != null) ? HttpRequest.BodyPublishers.ofString(body)
					: HttpRequest.BodyPublishers.noBody());
		if (body != null) {
			request.header("Content-Type", "application/json");
		}
		return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

}
