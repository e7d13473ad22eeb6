package dev.adamopt.session;

import java.util.Map;

import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Tensor;

/** Checks that a checkpoint is self-consistent before a session is built from it. */
final class CheckpointValidator {

	/**
	 * The largest step count a checkpoint may carry (2^53 - 1, the largest integer every JSON reader keeps exact).
	 * Far below {@code Long.MAX_VALUE}, so no number of later steps can overflow a step count.
	 */
	static final long MAX_STEP = (1L << 53) - 1;

	private CheckpointValidator() {
	}

	/**
	 * Checks a checkpoint from a client: {@link #checkStructure}, every value finite (a session's state always is:
	 * a step that would make it otherwise is refused or skipped) and the second moments not negative.
	 */
	static void check(Checkpoint checkpoint) {
		checkStructure(checkpoint);
		checkpoint.tensors().forEach((name, tensor) -> {
			String where = "tensors." + name;
			requireFinite(tensor.firstMoment(), where + ".firstMoment");
			requireFinite(tensor.secondMoment(), where + ".secondMoment");
			requireNonNegative(tensor.secondMoment(), where + ".secondMoment");
			if (tensor.maxSecondMoment() != null) {
				requireFinite(tensor.maxSecondMoment(), where + ".maxSecondMoment");
				requireNonNegative(tensor.maxSecondMoment(), where + ".maxSecondMoment");
			}
			if (tensor.parameter() != null) {
				requireFinite(tensor.parameter(), where + ".parameter");
			}
		});
	}

	private static void requireFinite(Tensor tensor, String what) {
		int index = tensor.firstNonFinite();
		if (index >= 0) {
			throw invalid(what + " holds " + tensor.get(index) + " at flat index " + index
					+ ": a session's state is always finite");
		}
	}

	/**
	 * Checks names, shapes, step counts and which parts are present, not the values: a session's own file is
	 * restored as it was written (a file from before non-finite results were refused may hold infinities or NaN).
	 */
	static void checkStructure(Checkpoint checkpoint) {
		if (checkpoint.step() < 0 || checkpoint.step() > MAX_STEP) {
			throw invalid("step must be between 0 and " + MAX_STEP + ", got " + checkpoint.step());
		}
		if (checkpoint.holdsParameters() && checkpoint.tensors().isEmpty()) {
			throw invalid("holdsParameters is true but there are no tensors: a session holds at least one parameter");
		}
		boolean amsgrad = checkpoint.optimizer().hyperparameters().amsgrad();
		for (Map.Entry<String, TensorCheckpoint> entry : checkpoint.tensors().entrySet()) {
			String name = entry.getKey();
			TensorCheckpoint tensor = entry.getValue();
			OptimizerSession.checkName(name);
			String where = "tensors." + name;
			if (tensor.step() < 0 || tensor.step() > checkpoint.step()) {
				throw invalid(where + ".step must be between 0 and the session's step " + checkpoint.step() + ", got "
						+ tensor.step());
			}
			Tensor first = require(tensor.firstMoment(), where + ".firstMoment");
			int[] shape = first.shape();
			requireShape(require(tensor.secondMoment(), where + ".secondMoment"), shape, where + ".secondMoment");
			if (amsgrad) {
				Tensor max = require(tensor.maxSecondMoment(), where + ".maxSecondMoment (amsgrad is on)");
				requireShape(max, shape, where + ".maxSecondMoment");
			}
			else if (tensor.maxSecondMoment() != null) {
				throw invalid(where + ".maxSecondMoment is given but amsgrad is off: leave it out or turn amsgrad on");
			}
			if (checkpoint.holdsParameters()) {
				requireShape(require(tensor.parameter(), where + ".parameter (holdsParameters is true)"), shape,
						where + ".parameter");
			}
			else if (tensor.parameter() != null) {
				throw invalid(where + ".parameter is given but holdsParameters is false");
			}
		}
	}

	private static Tensor require(Tensor tensor, String what) {
		if (tensor == null) {
			throw invalid(what + " is required");
		}
		return tensor;
	}

	private static void requireShape(Tensor tensor, int[] shape, String what) {
		if (!tensor.hasShape(shape)) {
			throw invalid(what + " has shape " + java.util.Arrays.toString(tensor.shape()) + ", firstMoment has "
					+ java.util.Arrays.toString(shape));
		}
	}

	private static void requireNonNegative(Tensor tensor, String what) {
		for (int i = 0; i < tensor.size(); i++) {
			if (!(tensor.get(i) >= 0)) {
				throw invalid(what + " must be >= 0 everywhere (it is a mean of squares), got " + tensor.get(i)
						+ " at flat index " + i);
			}
		}
	}

	private static SessionException invalid(String message) {
		return new SessionException(Reason.INVALID_CHECKPOINT, message);
	}

}
