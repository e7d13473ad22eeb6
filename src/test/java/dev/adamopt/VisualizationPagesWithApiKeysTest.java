package dev.adamopt;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The visualization's pages against a service with API keys ({@link PageScenarios}): they load without a key
 * ({@code adam.security.open.pages}), meet the API's 401, show it with their key field, and once given the key
 * (kept in the tab's sessionStorage) work as without keys, with the key's own sessions only.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = "adam.security.api-keys=carol:" + VisualizationPagesWithApiKeysTest.CAROL_SHA256 + ",dave:"
				+ VisualizationPagesWithApiKeysTest.DAVE_SHA256)
class VisualizationPagesWithApiKeysTest {

	static final String CAROL = "carol-pages-key-51d0";

	/** {@code printf %s carol-pages-key-51d0 | sha256sum} */
	static final String CAROL_SHA256 = "763e71ba23cc5d30c4970c2b10095506c7c8d94281fc6ef21855db167a246894";

	static final String DAVE = "dave-pages-key-8e27";

	/** {@code printf %s dave-pages-key-8e27 | sha256sum} */
	static final String DAVE_SHA256 = "43d9df34801ed822f35138e1cd40ac70bb15a908655362f5577b05a39344f90b";

	@LocalServerPort
	private int port;

	@BeforeAll
	static void installPlaywright() throws Exception {
		BrowserScripts.installPlaywright();
		Files.createDirectories(VisualizationPagesTest.SCREENSHOTS);
	}

	@Test
	void surfacePageShouldAskForTheKeyOnTheApis401AndThenRunItsSessionsWithIt(@TempDir Path dir) throws Exception {
		new PageScenarios(this.port, CAROL).surface(200,
				VisualizationPagesTest.SCREENSHOTS.resolve("surface-with-api-key.png"), dir);
	}

	@Test
	void sessionsPageShouldAskForTheKeyAndListAndPlotThatKeysSessionsOnly(@TempDir Path dir) throws Exception {
		new PageScenarios(this.port, CAROL).sessions(
				VisualizationPagesTest.SCREENSHOTS.resolve("sessions-with-api-key.png"), dir, DAVE);
	}

}
