package dev.adamopt.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.context.properties.bind.Name;

/**
 * The embedded Hazelcast member each service process runs when {@code adam.store=hazelcast}. Members find each other
 * by TCP/IP only (no multicast, no cloud discovery): list every member.
 *
 * @param name the cluster's name: members join only a cluster of the same name, so two clusters on the same hosts
 * stay apart
 * @param members every member of the cluster as host:port, comma-separated (10.0.0.1:5701,10.0.0.2:5701); a range
 * (127.0.0.1:5701-5703, at most 100 ports) stands for a member on each of its ports. Empty: a cluster of this member
 * alone
 * @param port the port this member listens on (no other port is tried when it is taken)
 * @param networkInterface the IP address this member binds to and gives the others. Default: 127.0.0.1 when every listed member is on loopback (or none is listed), else Hazelcast's own choice among
 * the host's addresses; set it on hosts with several addresses (containers, VPNs)
 * @param backupCount how many other members hold a synchronous backup of each session (0 to 6): a step is answered
 * once they all applied it, and a session survives the loss of that many members at once
 * @param heartbeatInterval how often members tell each other they are alive (whole seconds)
 * @param failureTimeout how long a member may stay silent before the others declare it dead and take over its
 * sessions (whole seconds, longer than the heartbeat interval): shorter detects a dead node sooner, longer survives
 * longer pauses (GC, a busy machine) without a false alarm
 */
@ConfigurationProperties("adam.cluster")
public record ClusterProperties(@DefaultValue("adam-optimizer") String name, @DefaultValue List<String> members,
		@DefaultValue("5701") int port, @Name("interface") String networkInterface, @DefaultValue("1") int backupCount,
		@DefaultValue("5s") Duration heartbeatInterval, @DefaultValue("60s") Duration failureTimeout) {

	/** The most backups Hazelcast keeps of a map entry. */
	public static final int MAX_BACKUP_COUNT = 6;

	/** The most ports one range in {@code adam.cluster.members} may cover (each is tried when a member joins). */
	public static final int MAX_RANGE_PORTS = 100;

	private static final String LOOPBACK = "127.0.0.1";

	public ClusterProperties {
		if (name == null || name.isBlank()) {
			throw new IllegalArgumentException("adam.cluster.name must not be empty: give the cluster a name "
					+ "(every member of one cluster uses the same), e.g. adam-optimizer");
		}
		name = name.strip();
		members = (members != null) ? members.stream().map(String::strip).toList() : List.of();
		for (String member : members) {
			checkMember(member);
		}
		checkPort("adam.cluster.port", port, String.valueOf(port));
		networkInterface = (networkInterface == null || networkInterface.isBlank()) ? null : networkInterface.strip();
		if (networkInterface != null) {
			checkInterface(networkInterface);
		}
		if (backupCount < 0 || backupCount > MAX_BACKUP_COUNT) {
			throw new IllegalArgumentException("adam.cluster.backup-count must be between 0 and " + MAX_BACKUP_COUNT
					+ " (Hazelcast keeps at most " + MAX_BACKUP_COUNT + " backups), got " + backupCount);
		}
		checkWholeSeconds("adam.cluster.heartbeat-interval", heartbeatInterval);
		checkWholeSeconds("adam.cluster.failure-timeout", failureTimeout);
		if (failureTimeout.compareTo(heartbeatInterval) <= 0) {
			throw new IllegalArgumentException("adam.cluster.failure-timeout (" + failureTimeout.toSeconds()
					+ "s) must be longer than adam.cluster.heartbeat-interval (" + heartbeatInterval.toSeconds()
					+ "s), or a live member is declared dead between two heartbeats: make it several intervals long");
		}
	}

	/**
	 * The address this member binds to and announces, {@code null} to let Hazelcast choose: the configured interface,
	 * else loopback when every listed member is on loopback (or none is listed).
	 */
	public String bindAddress() {
		if (this.networkInterface != null) {
			return this.networkInterface;
		}
		return this.members.stream().allMatch(ClusterProperties::onLoopback) ? LOOPBACK : null;
	}

	/**
	 * The member list the TCP/IP join uses, one host:port each: the configured members with their port ranges
	 * written out, or this member alone.
	 */
	public List<String> joinMembers() {
		if (this.members.isEmpty()) {
			return List.of(hostPort(bindAddress() != null ? bindAddress() : LOOPBACK, this.port));
		}
		List<String> join = new ArrayList<>();
		for (String member : this.members) {
			String host = host(member);
			String port = member.substring(member.lastIndexOf(':') + 1);
			int dash = port.indexOf('-');
			int first = Integer.parseInt(dash < 0 ? port : port.substring(0, dash));
			int last = (dash < 0) ? first : Integer.parseInt(port.substring(dash + 1));
			for (int p = first; p <= last; p++) {
				String one = hostPort(host, p);
				if (!join.contains(one)) {
					join.add(one);
				}
			}
		}
		return List.copyOf(join);
	}

	/** {@code host:port}, with brackets around an IPv6 address. */
	static String hostPort(String host, int port) {
		return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
	}

	private static boolean onLoopback(String member) {
		String host = host(member).toLowerCase(Locale.ROOT);
		return host.equals("localhost") || host.startsWith("127.") || host.equals("::1")
				|| host.equals("0:0:0:0:0:0:0:1");
	}

	/** The host of a member already checked by {@link #checkMember}. */
	private static String host(String member) {
		if (member.startsWith("[")) {
			return member.substring(1, member.indexOf(']'));
		}
		return member.substring(0, member.lastIndexOf(':'));
	}

	private static void checkMember(String member) {
		String example = " Write each member as host:port, e.g. 10.0.0.2:5701 or [fd00::2]:5701";
		if (member.isEmpty()) {
			throw new IllegalArgumentException("adam.cluster.members has an empty entry (two commas in a row?)."
					+ example);
		}
		String host;
		String port;
		if (member.startsWith("[")) {
			int close = member.indexOf(']');
			if (close < 0 || close + 1 >= member.length() || member.charAt(close + 1) != ':') {
				throw new IllegalArgumentException(
						"adam.cluster.members: '" + member + "' has no port after the IPv6 address." + example);
			}
			host = member.substring(1, close);
			port = member.substring(close + 2);
		}
		else {
			int colon = member.lastIndexOf(':');
			if (colon < 0) {
				throw new IllegalArgumentException("adam.cluster.members: '" + member + "' has no port." + example);
			}
			host = member.substring(0, colon);
			port = member.substring(colon + 1);
			if (host.indexOf(':') >= 0) {
				throw new IllegalArgumentException("adam.cluster.members: '" + member
						+ "' looks like an IPv6 address: put it in brackets and add the port." + example);
			}
		}
		if (host.isEmpty() || host.chars().anyMatch(c -> Character.isWhitespace(c) || c == '*' || c == ',')) {
			throw new IllegalArgumentException("adam.cluster.members: '" + member
					+ "' needs a host name or IP address (no wildcards)." + example);
		}
		int dash = port.indexOf('-');
		if (dash >= 0) {
			int first = parsePort(port.substring(0, dash));
			int last = parsePort(port.substring(dash + 1));
			if (first < 1 || last > 65535 || last < first || last - first >= MAX_RANGE_PORTS) {
				throw new IllegalArgumentException("adam.cluster.members: '" + member + "' is not a port range this "
						+ "service accepts: write host:first-last with ports between 1 and 65535, first <= last, at "
						+ "most " + MAX_RANGE_PORTS + " ports (e.g. 127.0.0.1:5701-5703), or list every member with "
						+ "its own port");
			}
			return;
		}
		checkPort("adam.cluster.members: '" + member + "'", parsePort(port), port);
	}

	private static int parsePort(String port) {
		try {
			return port.isEmpty() ? -1 : Integer.parseInt(port);
		}
		catch (NumberFormatException ex) {
			return -1;
		}
	}

	private static void checkPort(String what, int port, String given) {
		if (port < 1 || port > 65535) {
			throw new IllegalArgumentException(what + " needs a port between 1 and 65535, got '" + given + "'");
		}
	}

	private static void checkInterface(String address) {
		boolean ipv4 = address.matches("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
		boolean ipv6 = address.indexOf(':') >= 0 && address.matches("[0-9A-Fa-f:.]+") && validIpv6(address);
		if (!ipv4 && !ipv6) {
			throw new IllegalArgumentException("adam.cluster.interface must be one IP address of this host (the "
					+ "member binds to it and gives it to the others), e.g. 10.0.0.1 or fd00::1; got '" + address
					+ "' (no host names, wildcards or ranges)");
		}
	}

	private static boolean validIpv6(String address) {
		try {
			// an IPv6 literal (checked to be made of hex digits, colons and dots) is parsed, never looked up
			return java.net.InetAddress.getByName(address) instanceof java.net.Inet6Address;
		}
		catch (java.net.UnknownHostException ex) {
			return false;
		}
	}

	private static void checkWholeSeconds(String property, Duration duration) {
		if (duration == null || duration.toSeconds() < 1 || duration.toNanosPart() != 0) {
			throw new IllegalArgumentException(property + " must be a whole number of seconds, at least 1s "
					+ "(Hazelcast counts it in seconds), got " + duration);
		}
	}

}
