package dev.adamopt.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import dev.adamopt.session.SessionException.Reason;

/**
 * The idempotency keys of {@code POST /v1/sessions}: each names the session it created and that answer, for as long
 * as the session lives, so a retried create answers the same session instead of making another.
 */
final class CreateKeys {

	private record Created(String key, long digest, SessionSnapshot answer) {

	}

	private final Map<String, Created> byKey = new ConcurrentHashMap<>();

	private final Map<String, String> keyBySession = new ConcurrentHashMap<>();

	/**
	 * The session created with this key before, or a new one made by {@code create}; concurrent creates with one key
	 * make one session.
	 * @return the answer and whether it is a replay
	 */
	SessionService.Created createOnce(IdempotencyKey key, Supplier<SessionSnapshot> create) {
		boolean[] made = { false };
		Created created = this.byKey.compute(key.key(), (k, existing) -> {
			if (existing != null) {
				return existing;
			}
			made[0] = true;
			SessionSnapshot answer = create.get();
			this.keyBySession.put(answer.id(), k);
			return new Created(k, key.digest(), answer);
		});
		if (!made[0] && created.digest() != key.digest()) {
			throw new SessionException(Reason.IDEMPOTENCY_KEY_REUSED, "Idempotency-Key '"
					+ OptimizerSession.abbreviate(key.key()) + "' created session " + created.answer().id()
					+ " with another body: a retry must send the same body, and a new session a new key");
		}
		return new SessionService.Created(created.answer(), !made[0]);
	}

	/** Forgets the key of a session that left the store. */
	void forget(String sessionId) {
		String key = this.keyBySession.remove(sessionId);
		if (key != null) {
			this.byKey.remove(key);
		}
	}

}
