package dev.adamopt.web;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.adamopt.session.SessionSnapshot;
import dev.adamopt.tensor.Tensor;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;

/** The JSON bodies of API v1. */
final class Dtos {

	private Dtos() {
	}

	@Schema(description = "Creates a session. Every field is optional: {} gives torch's Adam defaults in float64.")
	record CreateSessionRequest(
			@Schema(description = "Hyperparameters; missing fields take torch's defaults.") OptimizerSettings optimizer,
			@Schema(description = "Precision of the state and the arithmetic.", allowableValues = { "float64",
					"float32" }, defaultValue = "float64") String precision,
			@Schema(description = "When given, the session holds the parameters ({name: tensor}) and steps then send "
					+ "gradients only. Fixes the tensors' names and shapes.") Map<String, Tensor> parameters,
			@Schema(description = "A checkpoint from GET /v1/sessions/{id}/state: the new session resumes it exactly. "
					+ "Excludes the other fields.") CheckpointDocument state) {
	}

	@Schema(description = "A tensor's name, shape and own step count (it does not advance in steps without its gradient).")
	record TensorInfo(@Schema(description = "The tensor's name.", example = "W1") String name,
			@Schema(description = "The tensor's shape; [] for a 0-d tensor.", example = "[4, 3]") int[] shape,
			@Schema(description = "How many steps this tensor had a gradient in.", example = "3") long step) {
	}

	@Schema(description = "An optimizer session.")
	record SessionResponse(
			@Schema(description = "The session's random, unguessable id.",
					example = "0b9d2a5e-8a53-4d47-b7a0-5ad9e3d6d2c1") String id,
			@Schema(description = "Number of step calls so far (the article's t).", example = "0") long step,
			@Schema(description = "Hyperparameters in force, every field resolved.") OptimizerSettings optimizer,
			@Schema(description = "Precision of the state and the arithmetic.", allowableValues = { "float64",
					"float32" }) String precision,
			@Schema(description = "Whether the session holds the parameters (steps then send gradients only).")
			boolean holdsParameters,
			@Schema(description = "The tensors, in the order the first step or the parameters gave them; empty until "
					+ "then.") List<TensorInfo> tensors,
			@Schema(description = "When the session was created (UTC).") Instant createdAt,
			@Schema(description = "When the session was last changed by a step or PATCH (UTC).") Instant lastUsedAt,
			@Schema(description = "Bytes of memory the session holds (moments, held parameters, remembered answers), "
					+ "counted against the service's memory budget (adam.limits.memory).", example = "1536")
			long bytes) {

		static SessionResponse of(SessionSnapshot s) {
			return new SessionResponse(s.id(), s.step(), OptimizerSettings.of(s.hyperparameters()),
					s.precision().wireName(), s.holdsParameters(),
					s.tensors().stream().map(t -> new TensorInfo(t.name(), t.shape(), t.step())).toList(),
					s.createdAt(), s.lastUsedAt(), s.bytes());
		}
	}

	@Schema(description = "A page of the live sessions.")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	record SessionList(@Schema(description = "The sessions, oldest first.") List<SessionResponse> sessions,
			@Schema(description = "Pass it as pageToken for the next page; absent on the last page.")
			String nextPageToken) {
	}

	@Schema(description = "Changes hyperparameters between steps, e.g. for a learning-rate schedule.")
	record PatchSessionRequest(@Schema(description = "The fields to change; the others keep their values. "
			+ "algorithm and amsgrad cannot change.", requiredMode = Schema.RequiredMode.REQUIRED)
	@NotNull(message = "is required: send {\"optimizer\": {...fields to change...}}") @Valid OptimizerSettings optimizer) {
	}

	@Schema(description = "One Adam step.")
	record StepRequest(
			@Schema(description = "Every tensor's current value ({name: tensor}). Leave out when the session holds "
					+ "the parameters.") Map<String, Tensor> parameters,
			@Schema(description = "Gradients by tensor name; 'd' + name is accepted too (dW1 for W1). A tensor "
					+ "without a gradient stays as it is.", requiredMode = Schema.RequiredMode.REQUIRED)
			@NotNull(message = "is required: send {\"gradients\": {name: tensor}}") Map<String, Tensor> gradients) {
	}

	@Schema(description = "The result of one step.")
	record StepResponse(@Schema(description = "The session's step count after this step.", example = "1") long step,
			@Schema(description = "Every tensor's parameter after the step, in the shape it was sent.")
			Map<String, Tensor> parameters) {
	}

	@Schema(description = "Parameters by tensor name: {name: tensor}.")
	record ParameterSet(Map<String, Tensor> tensors) {

		@JsonCreator(mode = JsonCreator.Mode.DELEGATING)
		static ParameterSet of(Map<String, Tensor> tensors) {
			return new ParameterSet(tensors);
		}

		@JsonValue
		@Override
		public Map<String, Tensor> tensors() {
			return this.tensors;
		}
	}

	@Schema(description = "A checkpoint: everything needed to resume a session bit for bit.")
	record CheckpointDocument(@Schema(description = "Hyperparameters in force.") OptimizerSettings optimizer,
			@Schema(description = "Precision of the state.", allowableValues = { "float64", "float32" }) String precision,
			@Schema(description = "Number of step calls so far.", requiredMode = Schema.RequiredMode.REQUIRED) Long step,
			@Schema(description = "Whether the session holds the parameters.") Boolean holdsParameters,
			@Schema(description = "Each tensor's state by name.", requiredMode = Schema.RequiredMode.REQUIRED)
			Map<String, TensorStateDocument> tensors) {
	}

	@Schema(description = "One tensor's optimizer state.")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	record TensorStateDocument(
			@Schema(description = "The tensor's own step count.", requiredMode = Schema.RequiredMode.REQUIRED) Long step,
			@Schema(description = "torch's exp_avg (the article's v).") Tensor firstMoment,
			@Schema(description = "torch's exp_avg_sq (the article's s).") Tensor secondMoment,
			@Schema(description = "torch's max_exp_avg_sq; amsgrad only.") Tensor maxSecondMoment,
			@Schema(description = "The parameter; only when the session holds it.") Tensor parameter) {
	}

}
