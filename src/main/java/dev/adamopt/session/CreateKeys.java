package dev.adamopt.session;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import dev.adamopt.kernel.Precision;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import dev.adamopt.session.SessionException.Reason;

/**
 * The idempotency keys of {@code POST /v1/sessions}: each names the session it created and that answer, for as long
 * as the session lives, so a retried create answers the same session instead of making another. Keys are the
 * caller's: another API key that sends the same Idempotency-Key creates a session of its own, and never learns of the
 * first.
 * <p>
 * Two implementations: {@link MemoryCreateKeys} for the sessions of this process (adam.store=memory), and
 * {@link ClusterCreateKeys} for a cluster's (adam.store=hazelcast), where a retry may reach another member.
 */
interface CreateKeys {

	/** The session file's entry for the key a session was created with. */
	String ENTRY = "createKey";

	/** Reads and writes the entries. */
	JsonMapper MAPPER = JsonMapper.builder().build();

	/**
	 * The session the caller created with this key before, or a new one made by {@code create}; concurrent creates
	 * with one key make one session.
	 * @return the answer and whether it is a replay
	 * @throws SessionException (IDEMPOTENCY_KEY_REUSED) when the key created a session with another body
	 */
	SessionService.Created createOnce(Caller caller, IdempotencyKey key, Supplier<SessionSnapshot> create);

	/** Remembers the key a restored session of {@code owner} was created with, from its file's entry. */
	void restore(String sessionId, String owner, String entry);

	/** A key's create: the digest of its body and its answer. */
	record Created(long digest, SessionSnapshot answer) {

		/** The answer to a retry with {@code key}; refuses one with another body. */
		SessionService.Created replay(IdempotencyKey key) {
			if (this.digest != key.digest()) {
				throw new SessionException(Reason.IDEMPOTENCY_KEY_REUSED, "Idempotency-Key '"
						+ OptimizerSession.abbreviate(key.key()) + "' created session " + this.answer.id()
						+ " with another body: a retry must send the same body, and a new session a new key");
			}
			return new SessionService.Created(this.answer, true);
		}

	}

	/** The key and the create it answers, as a session file's entry holds them. */
	record Entry(String key, Created created) {

	}

	/** Reads a session's entry ({@link #json}). */
	static Entry parse(String sessionId, String entry) {
		JsonNode node;
		try {
			node = MAPPER.readTree(entry);
		}
		catch (JacksonException ex) {
			throw invalid("it is not JSON");
		}
		JsonNode answer = node.path("answer");
		if (!node.path("key").isString() || !node.path("digest").isIntegralNumber() || !answer.isObject()) {
			throw invalid("it needs key, digest and answer");
		}
		List<SessionSnapshot.TensorSummary> tensors = new ArrayList<>();
		for (JsonNode tensor : answer.path("tensors")) {
			int[] shape = new int[tensor.path("shape").size()];
			for (int i = 0; i < shape.length; i++) {
				shape[i] = tensor.path("shape").get(i).asInt();
			}
			tensors.add(new SessionSnapshot.TensorSummary(tensor.path("name").asString(), shape,
					tensor.path("step").asLong(), tensor.path("group").asInt(-1)));
		}
		SessionSnapshot snapshot;
		try {
			snapshot = new SessionSnapshot(sessionId, answer.path("step").asLong(),
					MAPPER.treeToValue(answer.path("optimizer"), OptimizerSettings.class).toCheckpointConfig(),
					Precision.fromWireName(answer.path("precision").asString()),
					answer.path("holdsParameters").asBoolean(), List.copyOf(tensors),
					Instant.parse(answer.path("createdAt").asString()), Instant.parse(answer.path("lastUsedAt").asString()),
					answer.path("bytes").asLong(), answer.path("version").asLong(),
					answer.path("skippedSteps").asLong());
		}
		catch (RuntimeException ex) {
			throw invalid(ex.getMessage());
		}
		return new Entry(node.get("key").asString(), new Created(node.get("digest").asLong(), snapshot));
	}

	/** The entry a session's file keeps for the key it was created with, and the answer to its create. */
	static String json(IdempotencyKey key, SessionSnapshot answer) {
		ObjectNode node = MAPPER.createObjectNode();
		node.put("key", key.key());
		node.put("digest", key.digest());
		ObjectNode view = node.putObject("answer");
		view.put("step", answer.step());
		view.set("optimizer", MAPPER.valueToTree(OptimizerSettings.of(answer.optimizer())));
		view.put("precision", answer.precision().wireName());
		view.put("holdsParameters", answer.holdsParameters());
		ArrayNode tensors = view.putArray("tensors");
		for (SessionSnapshot.TensorSummary tensor : answer.tensors()) {
			ObjectNode t = tensors.addObject();
			t.put("name", tensor.name());
			ArrayNode shape = t.putArray("shape");
			for (int dim : tensor.shape()) {
				shape.add(dim);
			}
			t.put("step", tensor.step());
			if (tensor.group() >= 0) {
				t.put("group", tensor.group());
			}
		}
		view.put("createdAt", answer.createdAt().toString());
		view.put("lastUsedAt", answer.lastUsedAt().toString());
		view.put("bytes", answer.bytes());
		view.put("version", answer.version());
		view.put("skippedSteps", answer.skippedSteps());
		return MAPPER.writeValueAsString(node);
	}

	static SessionException invalid(String why) {
		return new SessionException(Reason.INVALID_CHECKPOINT, "the session's create key is not valid: " + why);
	}

}
