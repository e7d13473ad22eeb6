package dev.adamopt.cluster;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;
import org.junit.jupiter.api.Test;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;

import dev.adamopt.tensor.Tensor;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ClusterConfiguration}: a member only for {@code adam.store=hazelcast}, customized, shut down with Spring. */
class ClusterConfigurationTest {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withUserConfiguration(StoreConfiguration.class, ClusterConfiguration.class, Customizers.class);

	@Test
	void theMemoryStoreShouldHaveNoHazelcastConfigurationOrMember() {
		this.runner.run(context -> assertThat(context).hasNotFailed()
			.doesNotHaveBean(Config.class)
			.doesNotHaveBean(HazelcastInstance.class)
			.doesNotHaveBean(ClusterProperties.class));
		this.runner.withPropertyValues("adam.store=memory")
			.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(HazelcastInstance.class));
	}

	@Test
	void theHazelcastStoreShouldStartACustomizedMemberOnItsLoopbackPortAndShutItDownWithTheContext() {
		int port = LoopbackPorts.free(1)[0];
		List<HazelcastInstance> started = new ArrayList<>();
		this.runner
			.withPropertyValues("adam.store=hazelcast", "adam.cluster.name=spring-" + port,
					"adam.cluster.port=" + port, "adam.cluster.heartbeat-interval=1s",
					"adam.cluster.failure-timeout=8s")
			.run(context -> {
				assertThat(context).hasNotFailed().hasSingleBean(HazelcastInstance.class);
				HazelcastInstance member = context.getBean(HazelcastInstance.class);
				started.add(member);
				assertThat(member.getConfig().getClusterName()).isEqualTo("spring-" + port);
				assertThat(member.getCluster().getLocalMember().getAddress().getHost()).isEqualTo("127.0.0.1");
				assertThat(member.getCluster().getLocalMember().getAddress().getPort()).isEqualTo(port);
				assertThat(member.getCluster().getMembers()).hasSize(1);
				assertThat(member.getConfig().getProperty("hazelcast.heartbeat.interval.seconds")).isEqualTo("1");
				// health's cluster component names this member and the members it sees
				Health health = context.getBean(ClusterHealthIndicator.class).health();
				assertThat(health.getStatus()).isEqualTo(Status.UP);
				assertThat(health.getDetails()).containsEntry("name", "spring-" + port)
					.containsEntry("member", "127.0.0.1:" + port)
					.containsEntry("members", List.of("127.0.0.1:" + port))
					.containsEntry("safe", true);
				assertThat(member.getConfig().getMapConfig("tensors").getInMemoryFormat())
					.as("from the customizer").isEqualTo(InMemoryFormat.BINARY);
				assertThat(member.getConfig().getMapConfig("tensors").getBackupCount())
					.as("the later customizer wins").isEqualTo(0);

				// a value serialized with the bulk codec crosses the member's own serialization and comes back
				Map<String, Tensor> tensors = new LinkedHashMap<>();
				tensors.put("w", Tensor.ofFloat64(new int[] { 2, 3 }, BulkCodecTest.awkwardDoubles(6)));
				tensors.put("b", Tensor.ofFloat32(new int[] { 3 }, BulkCodecTest.awkwardFloats(3)));
				IMap<String, TensorsValue> map = member.getMap("tensors");
				map.put("session", new TensorsValue(tensors));
				Map<String, Tensor> back = map.get("session").tensors;
				assertThat(back.keySet()).containsExactly("w", "b");
				assertThat(BulkCodecTest.bits(back.get("w").float64()))
					.containsExactly(BulkCodecTest.bits(tensors.get("w").float64()));
				assertThat(BulkCodecTest.bits(back.get("b").float32()))
					.containsExactly(BulkCodecTest.bits(tensors.get("b").float32()));
			});
		assertThat(started).singleElement()
			.satisfies(member -> assertThat(member.getLifecycleService().isRunning()).isFalse())
			.satisfies(member -> assertThat(new ClusterHealthIndicator(member).health().getStatus())
				.as("a stopped member").isEqualTo(Status.DOWN));
	}

	@Configuration(proxyBeanMethods = false)
	static class Customizers {

		@Bean
		@Order(1)
		ClusterCustomizer tensorsMap() {
			return config -> config.getMapConfig("tensors").setInMemoryFormat(InMemoryFormat.BINARY).setBackupCount(1);
		}

		@Bean
		@Order(2)
		ClusterCustomizer noBackupOfTensors() {
			return config -> config.getMapConfig("tensors").setBackupCount(0);
		}

	}

	/** A map value written with {@link BulkCodec}. */
	static class TensorsValue implements DataSerializable {

		Map<String, Tensor> tensors;

		TensorsValue() {
		}

		TensorsValue(Map<String, Tensor> tensors) {
			this.tensors = tensors;
		}

		@Override
		public void writeData(ObjectDataOutput out) throws IOException {
			BulkCodec.writeTensors(out, this.tensors);
		}

		@Override
		public void readData(ObjectDataInput in) throws IOException {
			this.tensors = BulkCodec.readTensors(in);
		}

	}

}
