package dev.adamopt.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The create keys of the sessions in this process (adam.store=memory): a map, in which concurrent creates with one key
 * make one session. A session that leaves the store forgets its key ({@link #forget}).
 */
final class MemoryCreateKeys implements CreateKeys {

	/** An idempotency key in its owner's scope ({@code owner} {@code null}: a service without API keys). */
	private record OwnedKey(String owner, String key) {

	}

	private final Map<OwnedKey, Created> byKey = new ConcurrentHashMap<>();

	private final Map<String, OwnedKey> keyBySession = new ConcurrentHashMap<>();

	/**
	 * Whether a session is still in the store: one that expired is forgotten only once the store notices, and its key
	 * must not answer before that.
	 */
	private volatile Predicate<String> live = id -> true;

	/** Answers a key only while {@code live} holds its session (see {@link SessionConfiguration#store}). */
	void answerWhile(Predicate<String> live) {
		this.live = live;
	}

	@Override
	public SessionService.Created createOnce(Caller caller, IdempotencyKey key, Supplier<SessionSnapshot> create) {
		boolean[] made = { false };
		Created created = this.byKey.compute(new OwnedKey(caller.owner(), key.key()), (k, existing) -> {
			if (existing != null) {
				if (this.live.test(existing.answer().id())) {
					return existing;
				}
				// its session expired and the store has not said so yet: the key is free again
				this.keyBySession.remove(existing.answer().id(), k);
			}
			made[0] = true;
			SessionSnapshot answer = create.get();
			this.keyBySession.put(answer.id(), k);
			return new Created(key.digest(), answer);
		});
		if (!made[0]) {
			return created.replay(key);
		}
		return new SessionService.Created(created.answer(), false);
	}

	@Override
	public void restore(String sessionId, String owner, String entry) {
		Entry parsed = CreateKeys.parse(sessionId, entry);
		OwnedKey key = new OwnedKey(owner, parsed.key());
		this.keyBySession.put(sessionId, key);
		this.byKey.put(key, parsed.created());
	}

	/** Forgets the key of a session that left the store. */
	void forget(String sessionId) {
		OwnedKey key = this.keyBySession.remove(sessionId);
		if (key != null) {
			// unless the key created a newer session meanwhile
			this.byKey.computeIfPresent(key, (k, created) -> created.answer().id().equals(sessionId) ? null : created);
		}
	}

}
