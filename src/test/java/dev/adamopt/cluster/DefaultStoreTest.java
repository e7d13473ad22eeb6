package dev.adamopt.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.context.ApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The application as it starts by default ({@code ./mvnw spring-boot:run}): sessions in memory, no Hazelcast member.
 * (The same context as the other default tests, so the context cache starts it once.)
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class DefaultStoreTest {

	@Autowired
	private ApplicationContext context;

	@Test
	void theDefaultApplicationShouldKeepSessionsInMemoryAndStartNoHazelcastMember() {
		assertThat(this.context.getBean(StoreProperties.class).store()).isEqualTo(StoreKind.MEMORY);
		assertThat(this.context.getBeanNamesForType(HazelcastInstance.class)).isEmpty();
		assertThat(this.context.getBeanNamesForType(Config.class)).isEmpty();
		assertThat(this.context.getBeanNamesForType(ClusterProperties.class)).isEmpty();
	}

}
