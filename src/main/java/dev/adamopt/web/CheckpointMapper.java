package dev.adamopt.web;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.adamopt.session.Checkpoint;
import dev.adamopt.session.OptimizerConfig;
import dev.adamopt.session.OptimizerSettings;
import dev.adamopt.session.SessionException;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.session.TensorCheckpoint;
import dev.adamopt.web.Dtos.CheckpointDocument;
import dev.adamopt.web.Dtos.TensorStateDocument;

/** Between the checkpoint's JSON document and the session's {@link Checkpoint}. */
final class CheckpointMapper {

	private CheckpointMapper() {
	}

	static CheckpointDocument toDocument(Checkpoint checkpoint) {
		Map<String, TensorStateDocument> tensors = new LinkedHashMap<>();
		checkpoint.tensors()
			.forEach((name, t) -> tensors.put(name, new TensorStateDocument(t.step(), t.firstMoment(),
					t.secondMoment(), t.maxSecondMoment(), t.parameter())));
		return new CheckpointDocument(OptimizerSettings.of(checkpoint.optimizer()),
				checkpoint.precision().wireName(), checkpoint.step(), checkpoint.skippedSteps(),
				checkpoint.holdsParameters(), tensors);
	}

	static Checkpoint fromDocument(CheckpointDocument document) {
		if (document.step() == null) {
			throw invalid("state.step is required");
		}
		if (document.tensors() == null) {
			throw invalid("state.tensors is required ({} for a session that has not stepped)");
		}
		Map<String, TensorCheckpoint> tensors = new LinkedHashMap<>();
		document.tensors().forEach((name, t) -> {
			if (t == null) {
				throw invalid("state.tensors." + name + " must be an object with step, firstMoment and secondMoment, "
						+ "got null");
			}
			if (t.step() == null) {
				throw invalid("state.tensors." + name + ".step is required");
			}
			tensors.put(name, new TensorCheckpoint(t.step(), t.firstMoment(), t.secondMoment(), t.maxSecondMoment(),
					t.parameter()));
		});
		OptimizerConfig optimizer = (document.optimizer() != null) ? document.optimizer().toCheckpointConfig()
				: OptimizerSettings.resolve(null);
		long skipped = (document.skippedSteps() != null) ? document.skippedSteps() : 0;
		if (skipped < 0) {
			throw invalid("state.skippedSteps must be >= 0, got " + skipped);
		}
		return new Checkpoint(optimizer, WireNames.precision(document.precision()), document.step(), skipped,
				Boolean.TRUE.equals(document.holdsParameters()), tensors);
	}

	private static SessionException invalid(String message) {
		return new SessionException(Reason.INVALID_CHECKPOINT, message);
	}

}
