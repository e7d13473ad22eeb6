package dev.adamopt.session;

import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a cluster member's copies of sessions need of it, wherever an operation that reaches the member was sent from:
 * the capacity its own sessions are admitted in, the capacity of the copies it must keep (backups, sessions that move
 * here), the codec, and the copies it holds now.
 */
final class ClusterMember {

	final SessionCapacity capacity;

	final SessionCapacity replicas;

	final ClusterCodec codec;

	/** This member's session files; {@code null} when sessions are not persisted. */
	final ClusterFiles files;

	/** The copies this member holds, by id; weak, since Hazelcast drops a copy without telling (see ClusterSession). */
	private final Map<String, WeakReference<ClusterSession>> held = new ConcurrentHashMap<>();

	ClusterMember(SessionCapacity capacity, ClusterCodec codec, ClusterFiles files) {
		this.capacity = capacity;
		this.replicas = capacity.replicas();
		this.codec = codec;
		this.files = files;
	}

	/**
	 * A new copy held here of a session as its file holds it: a session just added (admitted under this member's
	 * limits) or one this member must keep (a backup, a copy that moved here: counted, never refused).
	 */
	ClusterSession hold(PersistedSession saved, boolean mustKeep, long lastUsed) {
		SessionCapacity capacity = mustKeep ? this.replicas : this.capacity;
		String owner = OptimizerSession.owner(saved);
		capacity.admit(owner);
		OptimizerSession session;
		try {
			session = OptimizerSession.restore(saved, 0, capacity);
		}
		catch (RuntimeException | Error ex) {
			capacity.leave(owner);
			throw ex;
		}
		ClusterSession copy = new ClusterSession(session, capacity, lastUsed);
		this.held.put(session.id(), new WeakReference<>(copy));
		return copy;
	}

	/** Gives back a copy that leaves the map (deleted, expired); the owner's file goes with it. */
	void release(ClusterSession copy, boolean owner) {
		if (owner && this.files != null) {
			this.files.removed(copy.session);
		}
		copy.release();
		this.held.computeIfPresent(copy.session.id(), (id, ref) -> (ref.get() == copy) ? null : ref);
	}

	/** On the owner, after a session was added or changed: its file is to be written. */
	void changed(OptimizerSession session) {
		if (this.files != null) {
			this.files.changed(session);
		}
	}

	/** The copy of this session held here, if any. */
	ClusterSession held(String id) {
		WeakReference<ClusterSession> ref = this.held.get(id);
		ClusterSession copy = (ref != null) ? ref.get() : null;
		if (ref != null && copy == null) {
			this.held.remove(id, ref);
		}
		return copy;
	}

}
