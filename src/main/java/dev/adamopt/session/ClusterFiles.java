package dev.adamopt.session;

import java.io.IOException;
import java.util.Set;
import java.util.function.Predicate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster member's session files: each member writes the sessions it owns to its own directory (a session that
 * moves to another member is written there from then on), so that a restart of the whole cluster finds every session;
 * where two members' files hold one session, the newer version wins when they are put back.
 * <p>
 * Called on the owner only, never on a backup: after a session is added or changed (in every-step mode the file is
 * written before the answer; a write that fails is logged and left to the next pass, since the backups hold the
 * change already), and when it is removed.
 */
final class ClusterFiles {

	private static final Logger log = LoggerFactory.getLogger(ClusterFiles.class);

	private final SessionWriter writer;

	private final boolean everyStep;

	ClusterFiles(SessionWriter writer, boolean everyStep) {
		this.writer = writer;
		this.everyStep = everyStep;
	}

	void changed(OptimizerSession session) {
		this.writer.track(session.id(), 0);
		this.writer.changed(session.id());
		if (this.everyStep) {
			try {
				this.writer.write(session);
			}
			catch (IOException | RuntimeException ex) {
				log.error("Could not write session {} to disk; the change is held by the cluster and written again "
						+ "with the next change or the next interval", session.id(), ex);
			}
		}
	}

	void removed(OptimizerSession session) {
		this.writer.removed(session);
	}

	/**
	 * The writer's pass visits a session this member owns: one that moved here (or whose backup here took over) is
	 * tracked from now on, so that the pass writes it.
	 */
	void owned(OptimizerSession session) {
		if (!this.writer.tracks(session.id())) {
			this.writer.track(session.id(), 0);
			this.writer.changed(session.id());
		}
	}

	/**
	 * After the writer's pass: the files of sessions this member no longer owns that the cluster no longer holds
	 * either (deleted or expired on another member) are deleted; those another member owns now stay (older than its
	 * file, they lose to it on a restart) until the session is gone, and are no longer this member's to write.
	 */
	void forgetGone(Set<String> owned, Predicate<String> inCluster) {
		for (String id : this.writer.tracked()) {
			if (!owned.contains(id)) {
				if (inCluster.test(id)) {
					this.writer.ownedElsewhere(id);
				}
				else {
					this.writer.forget(id);
				}
			}
		}
	}

}
