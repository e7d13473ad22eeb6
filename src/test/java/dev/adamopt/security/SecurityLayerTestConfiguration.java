package dev.adamopt.security;

import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Import;

/**
 * The application's security for web slice tests: the package-private {@link SecurityConfiguration}, open or with the
 * keys the test's properties give. Needs the session layer's beans (import {@code SessionLayerTestConfiguration}).
 */
@TestConfiguration(proxyBeanMethods = false)
@Import(SecurityConfiguration.class)
public class SecurityLayerTestConfiguration {

}
