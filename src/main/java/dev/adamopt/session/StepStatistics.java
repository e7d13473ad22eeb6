package dev.adamopt.session;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What one step did, for the answer and the history. Made before the step's apply phase; the apply phase only sets
 * {@link #updateNorm}, so that it allocates nothing.
 */
public final class StepStatistics {

	/** The default group's learning rate the step used. */
	public final double learningRate;

	/** The L2 norm over all gradients of the step, before clipping; NaN or infinite for a non-finite gradient. */
	public final double gradNorm;

	/** With clipping by norm: the total norm in the clipping's norm type, as clip_grad_norm_ returns it; else NaN. */
	public final double totalNorm;

	/** The L2 norm of the change of the parameters (0 for a skipped step). */
	double updateNorm;

	/** Whether clipping changed a gradient. */
	public final boolean clipped;

	/** Whether the step was skipped under nonFinite "skip". */
	public final boolean skipped;

	StepStatistics(double learningRate, double gradNorm, double totalNorm, double updateNorm, boolean clipped,
			boolean skipped) {
		this.learningRate = learningRate;
		this.gradNorm = gradNorm;
		this.totalNorm = totalNorm;
		this.updateNorm = updateNorm;
		this.clipped = clipped;
		this.skipped = skipped;
	}

	public double updateNorm() {
		return this.updateNorm;
	}

	private static final JsonMapper MAPPER = JsonMapper.builder().build();

	/** As the session's file keeps them with an idempotency record: non-finite norms as null. */
	ObjectNode toJson() {
		ObjectNode json = MAPPER.createObjectNode();
		json.put("learningRate", this.learningRate);
		putFinite(json, "gradNorm", this.gradNorm);
		putFinite(json, "totalNorm", this.totalNorm);
		json.put("updateNorm", this.updateNorm);
		json.put("clipped", this.clipped);
		json.put("skipped", this.skipped);
		return json;
	}

	private static void putFinite(ObjectNode json, String name, double value) {
		if (Double.isFinite(value)) {
			json.put(name, value);
		}
	}

	/** Read back from {@link #toJson()}; {@code null} for a missing node (a file written before statistics). */
	static StepStatistics fromJson(JsonNode json) {
		if (json == null || !json.isObject()) {
			return null;
		}
		return new StepStatistics(json.path("learningRate").asDouble(Double.NaN),
				json.path("gradNorm").asDouble(Double.NaN), json.path("totalNorm").asDouble(Double.NaN),
				json.path("updateNorm").asDouble(0), json.path("clipped").asBoolean(false),
				json.path("skipped").asBoolean(false));
	}

}
