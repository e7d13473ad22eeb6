package dev.adamopt.session;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import dev.adamopt.session.SessionException.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store whose sessions also live in files. It tracks every session it adds for the {@link SessionWriter}; in
 * every-step mode a create, step, PATCH or PUT returns only once the session's file holds it, in interval mode
 * {@link SessionPersistence} writes the changed sessions in the background. Sessions that leave the store lose their
 * file through the store's removal callback ({@link SessionWriter#removed}).
 */
final class PersistentSessionStore implements SessionStore {

	private static final Logger log = LoggerFactory.getLogger(PersistentSessionStore.class);

	private final SessionStore sessions;

	private final SessionWriter writer;

	private final boolean everyStep;

	PersistentSessionStore(SessionStore sessions, SessionWriter writer, boolean everyStep) {
		this.sessions = sessions;
		this.writer = writer;
		this.everyStep = everyStep;
	}

	@Override
	public void add(OptimizerSession session) {
		// before its file is written: that would overwrite the file of the session already there
		if (this.sessions.apply(session.id(), Caller.anyone(), present -> Boolean.TRUE).isPresent()) {
			throw CaffeineSessionStore.alreadyThere(session.id());
		}
		// a session restored from its file is tracked already, with the version on disk
		this.writer.track(session.id(), 0);
		this.writer.changed(session.id());
		if (this.everyStep) {
			try {
				this.writer.write(session);
			}
			catch (IOException | RuntimeException ex) {
				this.writer.forget(session.id());
				log.error("Could not write new session {} to disk; it was not created", session.id(), ex);
				throw new SessionException(Reason.NOT_PERSISTED, "the session could not be written to disk (the "
						+ "cause is logged), so it was not created; try again later");
			}
		}
		this.sessions.add(session);
	}

	@Override
	public <T> Optional<T> apply(String id, Caller caller, SessionOperation<T> action) {
		return this.sessions.apply(id, caller, session -> {
			long before = session.version();
			T result = action.apply(session);
			if (session.version() != before) {
				this.writer.changed(id);
				if (this.everyStep) {
					writeChange(session);
				}
			}
			return result;
		});
	}

	private void writeChange(OptimizerSession session) {
		try {
			this.writer.write(session);
		}
		catch (IOException | RuntimeException ex) {
			log.error("Could not write session {} to disk; the change stays in memory and is written again with the "
					+ "next change or the next interval", session.id(), ex);
			throw new SessionException(Reason.NOT_PERSISTED, "the change was made but could not be written to disk "
					+ "(the cause is logged): the session keeps it in memory and the service writes it again later. "
					+ "GET the session to see its step before you retry");
		}
	}

	@Override
	public boolean remove(String id) {
		return this.sessions.remove(id);
	}

	@Override
	public long size() {
		return this.sessions.size();
	}

	@Override
	public <T> List<T> page(Key after, int limit, Caller caller, SessionOperation<T> action) {
		return this.sessions.page(after, limit, caller, action);
	}

	@Override
	public void forEach(Consumer<OptimizerSession> action) {
		this.sessions.forEach(action);
	}

}
