package dev.adamopt.cluster;

/** Where the service keeps its sessions: {@code adam.store}. */
public enum StoreKind {

	/** In this process's memory (the default): one node, no Hazelcast started, nothing on the request path. */
	MEMORY,

	/**
	 * In a Hazelcast cluster: each service process runs an embedded member ({@code adam.cluster.*}), every node serves
	 * every session, and a session survives the loss of a node.
	 */
	HAZELCAST

}
