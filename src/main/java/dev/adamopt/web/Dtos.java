package dev.adamopt.web;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.adamopt.session.OptimizerSettings;
import dev.adamopt.session.SessionSnapshot;
import dev.adamopt.session.StepResult;
import dev.adamopt.session.StepStatistics;
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
			// the default is told, not declared: a generated client would send a declared default beside 'state'
			@Schema(description = "Precision of the state and the arithmetic; float64 when left out.",
					allowableValues = { "float64", "float32" }) String precision,
			@Schema(description = "When given, the session holds the parameters ({name: tensor}) and steps then send "
					+ "gradients only. Fixes the tensors' names and shapes.") Map<String, Tensor> parameters,
			@Schema(description = "A checkpoint from GET /v1/sessions/{id}/state: the new session resumes it exactly. "
					+ "Excludes the other fields.") CheckpointDocument state) {
	}

	@Schema(description = "A tensor's name, shape, own step count (it does not advance in steps without its "
			+ "gradient) and parameter group.")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	record TensorInfo(@Schema(description = "The tensor's name.", example = "W1") String name,
			@Schema(description = "The tensor's shape; [] for a 0-d tensor.", example = "[4, 3]") int[] shape,
			@Schema(description = "How many steps this tensor had a gradient in.", example = "3") long step,
			@Schema(description = "The index in optimizer.groups of the group the tensor belongs to (the first whose "
					+ "match fits its name); absent for the default group.", example = "0") Integer group) {
	}

	@Schema(description = "An optimizer session.")
	record SessionResponse(
			@Schema(description = "The session's random, unguessable id.",
					example = "0b9d2a5e-8a53-4d47-b7a0-5ad9e3d6d2c1") String id,
			@Schema(description = "Number of step calls so far (the article's t).", example = "0") long step,
			@Schema(description = "The optimizer in force, every field resolved: learningRate is the rate the next "
					+ "step uses.") OptimizerSettings optimizer,
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
			long bytes,
			@Schema(description = "Steps skipped under nonFinite \"skip\" (they changed nothing).", example = "0")
			long skippedSteps) {

		static SessionResponse of(SessionSnapshot s) {
			return new SessionResponse(s.id(), s.step(), OptimizerSettings.of(s.optimizer()),
					s.precision().wireName(), s.holdsParameters(),
					s.tensors().stream().map(t -> new TensorInfo(t.name(), t.shape(), t.step(),
							(t.group() >= 0) ? t.group() : null)).toList(),
					s.createdAt(), s.lastUsedAt(), s.bytes(), s.skippedSteps());
		}
	}

	@Schema(description = "A page of the live sessions.")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	record SessionList(@Schema(description = "The sessions, oldest first.") List<SessionResponse> sessions,
			@Schema(description = "Pass it as pageToken for the next page; absent on the last page.")
			String nextPageToken) {
	}

	@Schema(description = "Changes the optimizer between steps, as torch changes a running one.")
	record PatchSessionRequest(@Schema(description = "The fields to change; the others keep their values. "
			+ "algorithm and amsgrad cannot change; learningRate is assigned as torch's param_group['lr'] (a "
			+ "schedule goes on from it); a schedule is attached anew (position 0, from the current rates); groups "
			+ "change their values, not their match once the tensors are fixed.",
			requiredMode = Schema.RequiredMode.REQUIRED)
	@NotNull(message = "is required: send {\"optimizer\": {...fields to change...}}") @Valid OptimizerSettings optimizer) {
	}

	@Schema(description = "One Adam step.")
	record StepRequest(
			@Schema(description = "Every tensor's current value ({name: tensor}). Leave out when the session holds "
					+ "the parameters.") Map<String, Tensor> parameters,
			@Schema(description = "Gradients by tensor name; 'd' + name is accepted too (dW1 for W1). A tensor "
					+ "without a gradient stays as it is.", requiredMode = Schema.RequiredMode.REQUIRED)
			@NotNull(message = "is required: send {\"gradients\": {name: tensor}}") Map<String, Tensor> gradients,
			@Schema(description = "The loss of this step, recorded in the history (not used by the optimizer).",
					example = "0.6931") Double loss) {
	}

	@Schema(description = "The result of one step.")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	record StepResponse(@Schema(description = "The session's step count after this step.", example = "1") long step,
			@Schema(description = "Every tensor's parameter after the step, in the shape it was sent.",
					example = "{\"W1\": [[0.499, -0.199], [0.099, 0.3]], \"b1\": [[-0.001], [0.001]]}")
			Map<String, Tensor> parameters,
			@Schema(description = "The default group's learning rate this step used (the first tensor's group's when "
					+ "the default group has no tensor).", example = "0.001")
			Double learningRate,
			@Schema(description = "L2 norm over all gradients of the step, before clipping; absent when a gradient "
					+ "is not finite.", example = "1.732") Double gradNorm,
			@Schema(description = "With clipping by norm: the total norm in its normType, as clip_grad_norm_ "
					+ "returns it.", example = "1.732") Double totalNorm,
			@Schema(description = "L2 norm of the change of the parameters.", example = "0.0017") Double updateNorm,
			@Schema(description = "Whether clipping changed the gradients.", example = "false") Boolean clipped,
			@Schema(description = "Whether the step was skipped (nonFinite \"skip\"): nothing changed.",
					example = "false") Boolean skipped) {

		static StepResponse of(StepResult result) {
			StepStatistics s = result.statistics();
			if (s == null) {
				return new StepResponse(result.step(), result.parameters(), null, null, null, null, null, null);
			}
			return new StepResponse(result.step(), result.parameters(), finite(s.learningRate), finite(s.gradNorm),
					finite(s.totalNorm), finite(s.updateNorm()), s.clipped, s.skipped);
		}

		/** Strict JSON: a number that is not finite is left out. */
		static Double finite(double value) {
			return Double.isFinite(value) ? value : null;
		}
	}

	@Schema(description = "The latest steps of a session, oldest first.")
	record HistoryResponse(@Schema(description = "One entry per step (skipped ones included).")
	List<HistoryEntry> steps) {
	}

	@Schema(description = "One step as the history keeps it.")
	@JsonInclude(JsonInclude.Include.NON_NULL)
	record HistoryEntry(
			@Schema(description = "The session's step count after the step (a skipped step keeps the count).",
					example = "1") long step,
			@Schema(description = "When the step was applied (UTC).") Instant time,
			@Schema(description = "The default group's learning rate used.", example = "0.001") Double learningRate,
			@Schema(description = "L2 norm of the gradients before clipping; absent when not finite.",
					example = "1.732") Double gradNorm,
			@Schema(description = "L2 norm of the change of the parameters.", example = "0.0017") Double updateNorm,
			@Schema(description = "The loss the step reported; absent when none (or not finite).",
					example = "0.6931") Double loss,
			@Schema(description = "Whether clipping changed the gradients.") boolean clipped,
			@Schema(description = "Whether the step was skipped.") boolean skipped,
			@Schema(description = "Time the step took in the optimizer, from taking the session's lock to the end "
					+ "of its update, in microseconds.", example = "85") long durationMicros) {
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

	@Schema(description = "A checkpoint: everything needed to resume a session bit for bit (optimizer with its "
			+ "current and initial learning rates and schedule position).")
	record CheckpointDocument(@Schema(description = "Hyperparameters in force.") OptimizerSettings optimizer,
			@Schema(description = "Precision of the state.", allowableValues = { "float64", "float32" }) String precision,
			@Schema(description = "Number of step calls so far.", requiredMode = Schema.RequiredMode.REQUIRED) Long step,
			@Schema(description = "Steps skipped under nonFinite \"skip\".", example = "0") Long skippedSteps,
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
