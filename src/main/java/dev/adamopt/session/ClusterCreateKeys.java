package dev.adamopt.session;

import java.io.Serializable;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

import com.hazelcast.config.MapConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.query.Predicates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The create keys of a cluster's sessions (adam.store=hazelcast), so that a create retried through another member
 * answers the session the first one made. A map of the cluster ({@value #MAP}, backed up as the sessions are) names,
 * for each key in its owner's scope, the session it created; the answer itself is the session's own (its file's entry
 * {@link CreateKeys#ENTRY}, which travels with it), so a key answers only while its session lives.
 * <p>
 * Creates with one key take the key's lock of the map, so concurrent creates through several members make one session
 * (a member that dies holding a lock loses it). A key whose session is gone (deleted, expired) is stale: a create that
 * finds one makes a new session, and the member that owned a session forgets its key when it leaves the map.
 */
final class ClusterCreateKeys implements CreateKeys, AutoCloseable {

	private static final Logger log = LoggerFactory.getLogger(ClusterCreateKeys.class);

	/** The name of the map of create keys (and, under {@link #BY_SESSION}, which key each session has). */
	static final String MAP = "adam-create-keys";

	/** The prefix of a session's entry in the map, which names its key; keys of owners start with a digit. */
	private static final String BY_SESSION = "session:";

	private final IMap<String, String> keys;

	private final HazelcastSessionStore store;

	private final IMap<String, ClusterSession> sessions;

	/** Forgets the keys of the sessions that leave this member's partitions. */
	private final UUID listener;

	ClusterCreateKeys(HazelcastInstance hazelcast, HazelcastSessionStore store) {
		this.keys = hazelcast.getMap(MAP);
		this.store = store;
		// on the member that owned it, a session that leaves the map (deleted, expired) takes its key along
		this.sessions = hazelcast.getMap(HazelcastSessionStore.MAP);
		this.listener = this.sessions.addLocalEntryListener(
				(EntryRemovedListener<String, ClusterSession>) event -> forget(event.getKey()), Predicates.alwaysTrue(),
				false);
	}

	/** Stops forgetting keys here (the member stops). */
	@Override
	public void close() {
		this.sessions.removeEntryListener(this.listener);
	}

	/** The map of create keys in a member's configuration: as many backups as the sessions have. */
	static MapConfig mapConfig(int backupCount) {
		return new MapConfig(MAP).setBackupCount(backupCount).setAsyncBackupCount(0);
	}

	@Override
	public SessionService.Created createOnce(Caller caller, IdempotencyKey key, Supplier<SessionSnapshot> create) {
		String owned = owned(caller.owner(), key.key());
		this.keys.lock(owned);
		try {
			String id = this.keys.get(owned);
			if (id != null) {
				Optional<Entry> entry = this.store.look(id, caller, new CreateEntry())
					.filter(json -> !json.isEmpty())
					.map(json -> CreateKeys.parse(id, json))
					.filter(parsed -> parsed.key().equals(key.key()));
				if (entry.isPresent()) {
					return entry.get().created().replay(key);
				}
				// its session is gone: the key is free again
				this.keys.delete(BY_SESSION + id);
			}
			SessionSnapshot answer = create.get();
			this.keys.set(BY_SESSION + answer.id(), owned);
			this.keys.set(owned, answer.id());
			return new SessionService.Created(answer, false);
		}
		finally {
			this.keys.unlock(owned);
		}
	}

	/**
	 * Every member that puts back a file of the session names its key (the same one); the session's own entry, the
	 * newest file's, is what a retry is answered with.
	 */
	@Override
	public void restore(String sessionId, String owner, String entry) {
		Entry parsed = CreateKeys.parse(sessionId, entry);
		String owned = owned(owner, parsed.key());
		this.keys.set(BY_SESSION + sessionId, owned);
		this.keys.set(owned, sessionId);
	}

	/** Forgets the key of a session that left the cluster, unless it names a newer session by now. */
	private void forget(String sessionId) {
		try {
			String owned = this.keys.remove(BY_SESSION + sessionId);
			if (owned != null) {
				this.keys.remove(owned, sessionId);
			}
		}
		catch (RuntimeException ex) {
			// e.g. this member is shutting down: a stale key is found stale by the next create with it
			log.debug("Could not forget the create key of session {}: {}", sessionId, ex.toString());
		}
	}

	/** A key in its owner's scope, unambiguously: the owner's length first ({@code -} for none). */
	static String owned(String owner, String key) {
		return (owner == null) ? "-:" + key : owner.length() + ":" + owner + ":" + key;
	}

	/** The session's create-key entry where it lives ({@code ""}: none); no use of the session. */
	record CreateEntry() implements SessionOperation<String>, Serializable {

		@Override
		public String apply(OptimizerSession session) {
			String entry = session.kept(ENTRY);
			return (entry != null) ? entry : "";
		}

		@Override
		public boolean changes() {
			return false;
		}

	}

}
