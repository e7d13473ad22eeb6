package dev.adamopt.session;

import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Import;

/**
 * The real session layer for web slice tests: {@link SessionService} with the store and clock of the package-private
 * {@link SessionConfiguration}, so requests change real state.
 */
@TestConfiguration(proxyBeanMethods = false)
@Import({ SessionConfiguration.class, SessionService.class })
public class SessionLayerTestConfiguration {

}
