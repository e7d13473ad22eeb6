package dev.adamopt.session;

import java.util.Map;

import com.hazelcast.map.EntryProcessor;

/**
 * What the Hazelcast store asks of the member that owns a session, and of its backups: an entry processor on the
 * sessions' map. It runs where the session lives, on the partition's thread (so the operations on one session are
 * serialized), and every backup runs the same operation on its copy (the kernel gives the same bits on every member),
 * so a step's gradients cross the network instead of the session's state.
 * <p>
 * Everything it decides is decided from what it carries (the caller, the time by the calling member's clock, the idle
 * timeout), so the owner and its backups decide the same: whether the session expired, whether the caller may use it,
 * what the operation does.
 */
final class ClusterOperation implements EntryProcessor<String, ClusterSession, Object> {

	enum Kind {

		/** Runs the operation for the caller, a use of the session. */
		APPLY,

		/** Runs the operation without counting as a use (listing). */
		LOOK,

		/** Adds the session it carries, unless one with its id is there. */
		ADD,

		/** Puts back the session it carries from a file, unless the one with its id is as new. */
		RESTORE,

		/** Removes the session. */
		REMOVE,

		/** Removes the session if it expired. */
		EXPIRE,

		/** A backup's record of a use that changed nothing. */
		TOUCH

	}

	final Kind kind;

	final boolean backup;

	final SessionOperation<?> operation;

	final Caller caller;

	/** Milliseconds of the calling member's clock. */
	final long now;

	final long idleTimeout;

	/** The session to add. */
	final PersistedSession added;

	/** The member this runs on: set by the store that made it, or by the serializer that read it. */
	private final transient ClusterMember member;

	ClusterOperation(Kind kind, boolean backup, SessionOperation<?> operation, Caller caller, long now,
			long idleTimeout, PersistedSession added, ClusterMember member) {
		this.kind = kind;
		this.backup = backup;
		this.operation = operation;
		this.caller = caller;
		this.now = now;
		this.idleTimeout = idleTimeout;
		this.added = added;
		this.member = member;
	}

	static ClusterOperation apply(SessionOperation<?> operation, Caller caller, long now, long idleTimeout,
			ClusterMember member) {
		return new ClusterOperation(Kind.APPLY, false, operation, caller, now, idleTimeout, null, member);
	}

	static ClusterOperation look(SessionOperation<?> operation, Caller caller, long now, long idleTimeout,
			ClusterMember member) {
		return new ClusterOperation(Kind.LOOK, false, operation, caller, now, idleTimeout, null, member);
	}

	/** Adds ({@link Kind#ADD}) or puts back ({@link Kind#RESTORE}) a session as its file holds it. */
	static ClusterOperation adding(Kind kind, PersistedSession session, long now, long idleTimeout,
			ClusterMember member) {
		return new ClusterOperation(kind, false, null, Caller.anyone(), now, idleTimeout, session, member);
	}

	static ClusterOperation remove(long now, long idleTimeout, ClusterMember member) {
		return new ClusterOperation(Kind.REMOVE, false, null, Caller.anyone(), now, idleTimeout, null, member);
	}

	static ClusterOperation expire(long now, long idleTimeout, ClusterMember member) {
		return new ClusterOperation(Kind.EXPIRE, false, null, Caller.anyone(), now, idleTimeout, null, member);
	}

	@Override
	public Object process(Map.Entry<String, ClusterSession> entry) {
		ClusterSession copy = entry.getValue();
		if (copy != null && copy.expired(this.now, this.idleTimeout)) {
			this.member.release(copy, !this.backup);
			entry.setValue(null);
			copy = null;
			if (this.kind == Kind.REMOVE || this.kind == Kind.EXPIRE) {
				return Boolean.FALSE;
			}
		}
		switch (this.kind) {
			case ADD:
				return add(entry, copy);
			case RESTORE:
				if (copy != null && copy.session.version() < this.added.version()) {
					this.member.release(copy, !this.backup);
					entry.setValue(null);
					copy = null;
				}
				return add(entry, copy);
			case REMOVE:
				if (copy == null) {
					return Boolean.FALSE;
				}
				this.member.release(copy, !this.backup);
				entry.setValue(null);
				return Boolean.TRUE;
			case EXPIRE:
				return Boolean.FALSE;
			case TOUCH:
				// as the owner decided: another key's look is not a use
				if (copy != null && this.caller.mayUse(copy.session.owner())) {
					copy.lastUsed = this.now;
				}
				return null;
			default:
				return run(entry, copy);
		}
	}

	private Object add(Map.Entry<String, ClusterSession> entry, ClusterSession present) {
		if (present != null) {
			return Boolean.FALSE;
		}
		// the owner admits the session under its limits; a backup must keep it whatever it holds already
		ClusterSession copy = this.member.hold(this.added, this.backup, this.now);
		entry.setValue(copy);
		if (!this.backup) {
			this.member.changed(copy.session);
		}
		return Boolean.TRUE;
	}

	private Object run(Map.Entry<String, ClusterSession> entry, ClusterSession copy) {
		if (copy == null || !this.caller.mayUse(copy.session.owner())) {
			return null;
		}
		long version = copy.session.version();
		Object result = this.operation.apply(copy.session);
		if (this.operation instanceof SessionOperation.CloseIfMatch) {
			// closed for its deletion: it leaves the map in the same operation, on the owner and its backups, so no
			// member's death between closing and removing can leave a closed session behind
			this.member.release(copy, !this.backup);
			entry.setValue(null);
			return this.backup ? null : new Answer(result);
		}
		if (this.kind == Kind.APPLY) {
			copy.lastUsed = this.now;
			// marks the entry changed, so that the backups run getBackupProcessor(): the same change, or the use
			entry.setValue(copy);
			if (!this.backup && copy.session.version() != version) {
				this.member.changed(copy.session);
			}
		}
		return this.backup ? null : new Answer(result);
	}

	/** Whether it may change the map: anything but a look or an operation that changes nothing. */
	boolean changes() {
		return switch (this.kind) {
			case LOOK, TOUCH -> false;
			case APPLY -> this.operation.changes();
			default -> true;
		};
	}

	@Override
	public EntryProcessor<String, ClusterSession, Object> getBackupProcessor() {
		return switch (this.kind) {
			case LOOK -> null;
			case APPLY -> this.operation.changes() ? asBackup(this.kind, this.operation) : asBackup(Kind.TOUCH, null);
			default -> asBackup(this.kind, this.operation);
		};
	}

	private ClusterOperation asBackup(Kind kind, SessionOperation<?> operation) {
		return new ClusterOperation(kind, true, operation, this.caller, this.now, this.idleTimeout, this.added,
				this.member);
	}

	/** An operation's result on its way back (a value of its own, so that the codec writes it). */
	record Answer(Object result) {

	}

}
