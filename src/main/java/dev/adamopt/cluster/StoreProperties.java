package dev.adamopt.cluster;

import java.util.Objects;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Which store holds the sessions. Bound whatever the store, so that a misspelt value fails the start (naming the
 * valid ones) instead of quietly running the in-memory store.
 *
 * @param store where sessions live: memory (this process only; Hazelcast is not started) or hazelcast (an embedded
 * Hazelcast member in each service process, configured by adam.cluster.*; sessions survive the loss of a node)
 */
@ConfigurationProperties("adam")
public record StoreProperties(@DefaultValue("memory") StoreKind store) {

	/** The property that chooses the store. */
	public static final String PROPERTY = "adam.store";

	public StoreProperties {
		Objects.requireNonNull(store, "adam.store must be memory or hazelcast");
	}

	/** Whether this process runs a Hazelcast member. */
	public boolean clustered() {
		return this.store == StoreKind.HAZELCAST;
	}

}
