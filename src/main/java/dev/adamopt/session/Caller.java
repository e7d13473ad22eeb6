package dev.adamopt.session;

import java.util.Objects;
import java.util.Optional;

/**
 * Who makes a request: the API key it came with (by the key's name), or anyone when the service has no API keys (it
 * is open). A session belongs to the key that created it: a key sees only its own sessions, and every other session
 * is to it as if it did not exist. Without keys nobody owns a session and every caller sees every session, as on a
 * laptop.
 * <p>
 * The web layer makes callers from the request's authentication; nothing else can (no public constructor, so no
 * request parameter binds to one).
 */
public final class Caller {

	private static final Caller ANYONE = new Caller(null);

	/** The key's name; {@code null} for anyone. */
	private final String key;

	private Caller(String key) {
		this.key = key;
	}

	/** The caller of a service without API keys: sees every session, and the sessions it creates have no owner. */
	public static Caller anyone() {
		return ANYONE;
	}

	/** The holder of the API key with this name: sees only the sessions this key created. */
	public static Caller key(String name) {
		return new Caller(Objects.requireNonNull(name, "name"));
	}

	/** The name of the caller's API key; empty for anyone. */
	public Optional<String> keyName() {
		return Optional.ofNullable(this.key);
	}

	/** The owner of the sessions this caller creates: the key's name, {@code null} for anyone. */
	String owner() {
		return this.key;
	}

	/** Whether a session with this owner ({@code null}: none) exists for this caller. */
	boolean mayUse(String owner) {
		return this.key == null || this.key.equals(owner);
	}

	@Override
	public boolean equals(Object other) {
		return other instanceof Caller caller && Objects.equals(this.key, caller.key);
	}

	@Override
	public int hashCode() {
		return Objects.hashCode(this.key);
	}

	@Override
	public String toString() {
		return (this.key != null) ? "API key '" + this.key + "'" : "anyone";
	}

}
