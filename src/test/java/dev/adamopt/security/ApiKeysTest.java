package dev.adamopt.security;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;

import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** {@code adam.security.api-keys}: how entries bind and are checked, and how a key is found by its SHA-256. */
class ApiKeysTest {

	/** {@code printf %s alice-secret-key | sha256sum} */
	private static final String ALICE_SHA256 = "d85cc5e31c65548b64632af4304e20eb0f792b7280b1cf6fd73ffa0d9c745f5b";

	private static final String BOB_SHA256 = "2656fecc42e5ed2e72a2a5f2d92068d8c7bfe8f9af4c62895a25dcb6f5bbb64b";

	@Test
	void aKeyShouldBeFoundByItsSha256AndNothingElseShould() {
		ApiKeys keys = new ApiKeys(List.of("alice:" + ALICE_SHA256, "bob:" + BOB_SHA256.toUpperCase(Locale.ROOT)));
		assertThat(keys.configured()).isTrue();
		assertThat(keys.nameOf("alice-secret-key")).hasValue("alice");
		assertThat(keys.nameOf("bob-secret-key")).hasValue("bob");
		assertThat(keys.nameOf("alice-secret-key ")).isEmpty();
		assertThat(keys.nameOf("Alice-secret-key")).isEmpty();
		assertThat(keys.nameOf(ALICE_SHA256)).as("the hash is not the key").isEmpty();
		assertThat(keys.nameOf("")).isEmpty();
		assertThat(new ApiKeys(List.of()).configured()).isFalse();
	}

	@Test
	void theCommaSeparatedFormOfTheEnvironmentShouldBindWithTheOpenPathsOnByDefault() {
		ApiSecurityProperties properties = bind(Map.of("adam.security.api-keys",
				"alice:" + ALICE_SHA256 + ", bob:" + BOB_SHA256));
		assertThat(properties.apiKeys()).hasSize(2);
		ApiKeys keys = new ApiKeys(properties.apiKeys());
		assertThat(keys.nameOf("bob-secret-key")).hasValue("bob");
		assertThat(properties.open().apiDocs()).isTrue();
		assertThat(properties.open().swaggerUi()).isTrue();
		assertThat(properties.open().health()).isTrue();
		assertThat(properties.open().pages()).isTrue();
		assertThat(bind(Map.of()).apiKeys()).isEmpty();
	}

	@Test
	void aBadEntryShouldStopTheStartNamingWhatIsWrongButNeverQuotingTheValue() {
		String rawKey = "my-very-secret-api-key";
		assertRefused("alice:" + rawKey, "64 hexadecimal digits", rawKey);
		assertRefused(rawKey, "has no ':'", rawKey);
		assertRefused("al ice:" + ALICE_SHA256, "the name must be 1 to 64", ALICE_SHA256);
		assertRefused(":" + ALICE_SHA256, "the name must be 1 to 64", ALICE_SHA256);
		assertRefused("x".repeat(65) + ":" + ALICE_SHA256, "the name must be 1 to 64", ALICE_SHA256);
		assertRefused("alice:" + ALICE_SHA256 + ",alice:" + BOB_SHA256, "names 'alice' twice", BOB_SHA256);
		assertRefused("alice:" + ALICE_SHA256 + ",bob:" + ALICE_SHA256.toUpperCase(Locale.ROOT),
				"the hash of another entry", ALICE_SHA256);
	}

	private static void assertRefused(String entries, String reason, String secret) {
		Throwable thrown = catchThrowable(() -> bind(Map.of("adam.security.api-keys", entries)));
		assertThat(thrown).isInstanceOf(BindException.class);
		Throwable root = thrown;
		while (root.getCause() != null) {
			root = root.getCause();
		}
		assertThat(root).isInstanceOf(IllegalArgumentException.class);
		assertThat(root.getMessage()).contains(reason).doesNotContain(secret);
	}

	private static ApiSecurityProperties bind(Map<String, String> properties) {
		return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate("adam.security",
				ApiSecurityProperties.class);
	}

	@Test
	void anAuthenticationShouldNeverShowTheKey() {
		ApiKeyAuthentication sent = ApiKeyAuthentication.unauthenticated("alice-secret-key");
		assertThat(sent.toString()).doesNotContain("alice-secret-key");
		assertThat(sent.isAuthenticated()).isFalse();
		ApiKeyAuthentication found = ApiKeyAuthentication.authenticated("alice");
		assertThat(found.isAuthenticated()).isTrue();
		assertThat(found.getName()).isEqualTo("alice");
		assertThat(found.getCredentials()).isNull();
		assertThatThrownBy(() -> new ApiKeyAuthenticationProvider(new ApiKeys(List.of("alice:" + ALICE_SHA256)))
			.authenticate(ApiKeyAuthentication.unauthenticated("wrong-key")))
			.hasMessageNotContaining("wrong-key");
	}

}
