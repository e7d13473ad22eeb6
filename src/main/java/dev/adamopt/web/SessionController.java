package dev.adamopt.web;

import java.net.URI;
import java.util.List;

import dev.adamopt.session.Caller;
import dev.adamopt.session.IdempotencyKey;
import dev.adamopt.session.OptimizerSettings;
import dev.adamopt.session.SessionException;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.session.SessionService;
import dev.adamopt.session.SessionSnapshot;
import dev.adamopt.session.StepResult;
import dev.adamopt.tensor.Tensor;
import dev.adamopt.web.Dtos.CheckpointDocument;
import dev.adamopt.web.Dtos.CreateSessionRequest;
import dev.adamopt.web.Dtos.HistoryEntry;
import dev.adamopt.web.Dtos.HistoryResponse;
import dev.adamopt.web.Dtos.ParameterSet;
import dev.adamopt.web.Dtos.PatchSessionRequest;
import dev.adamopt.web.Dtos.SessionList;
import dev.adamopt.web.Dtos.SessionResponse;
import dev.adamopt.web.Dtos.StepRequest;
import dev.adamopt.web.Dtos.StepResponse;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.validation.Valid;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping(path = "/v1/sessions", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Sessions", description = "Adam optimizer sessions: create one, send gradients, get updated parameters.")
class SessionController {

	private static final String IDEMPOTENCY_KEY = "A key of the client's choosing (a UUID) that makes a retry safe: "
			+ "the same key with the same body answers the first request's result again, without applying anything, "
			+ "with Idempotent-Replayed: true; with another body it is 422. Sent in the Idempotency-Key header.";

	private static final String IF_MATCH = "The session's ETag as last read: the request is refused with 412 if the "
			+ "session has changed since.";

	private final SessionService sessions;

	private final StepMetrics stepMetrics;

	SessionController(SessionService sessions, ObjectProvider<MeterRegistry> meters) {
		this.sessions = sessions;
		this.stepMetrics = new StepMetrics(meters.getIfAvailable(SimpleMeterRegistry::new));
	}

	@PostMapping(consumes = { MediaType.APPLICATION_JSON_VALUE, MediaType.APPLICATION_OCTET_STREAM_VALUE })
	@Operation(summary = "Create a session",
			description = "Every field is optional: {} gives torch's Adam defaults in float64. With 'parameters' the "
					+ "session holds them and steps send gradients only; with 'state' it resumes a checkpoint. "
					+ "A safetensors body (application/octet-stream) is a checkpoint from GET .../state to resume.")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = { @Content(
			mediaType = MediaType.APPLICATION_JSON_VALUE,
			schema = @Schema(implementation = CreateSessionRequest.class), examples = {
			@ExampleObject(name = "defaults", summary = "torch's Adam defaults, float64", value = "{}"),
			@ExampleObject(name = "adamw", summary = "AdamW with a learning rate",
					value = "{\"optimizer\": {\"algorithm\": \"adamw\", \"learningRate\": 0.01, \"weightDecay\": 0.01}}"),
			@ExampleObject(name = "holding parameters", summary = "The service holds the parameters",
					value = "{\"optimizer\": {\"learningRate\": 0.01}, \"parameters\": "
							+ "{\"W1\": [[0.5, -0.2], [0.1, 0.3]], \"b1\": [[0.0], [0.0]]}}"),
			@ExampleObject(name = "training features",
					summary = "AdamW, warm-up then cosine, clipping by norm, no weight decay on biases",
					value = "{\"optimizer\": {\"algorithm\": \"adamw\", \"learningRate\": 0.003, "
							+ "\"weightDecay\": 0.01,\n \"schedule\": {\"type\": \"sequential\", \"milestones\": [5], "
							+ "\"schedules\": [\n   {\"type\": \"linear\", \"startFactor\": 0.1, \"totalIters\": 5},\n"
							+ "   {\"type\": \"cosine\", \"tMax\": 95, \"etaMin\": 0.0001}]},\n"
							+ " \"clipping\": {\"maxNorm\": 1.0, \"normType\": 2},\n"
							+ " \"groups\": [{\"match\": [\"b*\", \"*.bias\"], \"weightDecay\": 0.0}],\n"
							+ " \"nonFinite\": \"skip\"},\n"
							+ " \"parameters\": {\"W1\": [[0.5, -0.2], [0.1, 0.3]], \"b1\": [[0.0], [0.0]]}}") }),
			@Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE, schema = @Schema(type = "string",
					format = "binary", description = "A safetensors checkpoint from GET /v1/sessions/{id}/state")) })
	@ApiResponse(responseCode = "201", description = "Created; Location names the session.")
	@Parameter(in = ParameterIn.HEADER, name = IdempotencyKeys.HEADER, description = IDEMPOTENCY_KEY,
			schema = @Schema(type = "string", maxLength = IdempotencyKey.MAX_LENGTH), example = "8e0f4c7e-6c0b-4d0e-9d8e-2f5b3f6a1c9d")
	ResponseEntity<SessionResponse> create(@RequestBody CreateSessionRequest request,
			@Parameter(hidden = true) IdempotencyKey idempotencyKey, @Parameter(hidden = true) Caller caller) {
		SessionService.Created created = this.sessions.createOnce(caller, idempotencyKey, () -> {
			if (request.state() != null) {
				if (request.optimizer() != null || request.precision() != null || request.parameters() != null) {
					throw new SessionException(Reason.INVALID_CHECKPOINT, "'state' carries its own optimizer, "
							+ "precision and parameters: send it alone, then PATCH the optimizer if needed");
				}
				return this.sessions.resume(caller, CheckpointMapper.fromDocument(request.state()));
			}
			return this.sessions.create(caller, OptimizerSettings.resolve(request.optimizer()),
					WireNames.precision(request.precision()), request.parameters());
		});
		SessionSnapshot session = created.session();
		return ResponseEntity.created(URI.create("/v1/sessions/" + session.id()))
			.headers(headers -> replayed(headers, created.replayed()))
			.eTag(Preconditions.etag(session.version()))
			.body(SessionResponse.of(session));
	}

	@GetMapping
	@Operation(summary = "List sessions",
			description = "The live sessions, oldest first, a page at a time (AIP-158): pass the answer's "
					+ "nextPageToken as pageToken for the next page; there are no more when it is absent.")
	SessionList list(
			@Parameter(description = "How many sessions a page holds at most: 1 to " + PageToken.MAX_PAGE_SIZE
					+ " (larger values are taken as " + PageToken.MAX_PAGE_SIZE + "); default "
					+ PageToken.DEFAULT_PAGE_SIZE + ".") @RequestParam(required = false) Integer pageSize,
			@Parameter(description = "The nextPageToken of the previous page; leave out for the first page.")
			@RequestParam(required = false) String pageToken, @Parameter(hidden = true) Caller caller) {
		int size = PageToken.pageSize(pageSize);
		List<SessionSnapshot> page = this.sessions.list(caller, PageToken.decode(pageToken), size + 1);
		List<SessionResponse> shown = page.stream().limit(size).map(SessionResponse::of).toList();
		String next = (page.size() > size) ? PageToken.encode(page.get(size - 1)) : null;
		return new SessionList(shown, next);
	}

	@GetMapping("/{id}")
	@Operation(summary = "Get a session", description = "The session's settings, step count and tensors.")
	ResponseEntity<SessionResponse> get(@PathVariable String id, @Parameter(hidden = true) Caller caller) {
		return withETag(this.sessions.get(caller, id));
	}

	// no body to negotiate: any Accept is served (application/problem+json alone included)
	@DeleteMapping(path = "/{id}", produces = MediaType.ALL_VALUE)
	@ResponseStatus(HttpStatus.NO_CONTENT)
	@Operation(summary = "Delete a session", description = "Frees its state at once.")
	@ApiResponse(responseCode = "204", description = "Deleted.")
	void delete(@PathVariable String id,
			@Parameter(description = IF_MATCH) @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
			@Parameter(hidden = true) Caller caller) {
		this.sessions.delete(caller, id, Preconditions.ifMatch(ifMatch));
	}

	@PatchMapping(path = "/{id}", consumes = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "Change the optimizer",
			description = "Between steps, as torch changes a running optimizer. Fields left out keep their values; "
					+ "algorithm and amsgrad cannot change (409). learningRate is assigned as param_group['lr'] "
					+ "(a schedule goes on from it); a schedule is attached anew, from position 0 and the current "
					+ "rates; {\"type\": \"none\"} removes it, clipping {} removes clipping; groups change their "
					+ "values, not their match once the tensors are fixed (409).")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(examples = {
			@ExampleObject(name = "decay the learning rate", value = "{\"optimizer\": {\"learningRate\": 0.0005}}"),
			@ExampleObject(name = "attach a schedule", summary = "As constructing a torch scheduler now",
					value = "{\"optimizer\": {\"schedule\": {\"type\": \"cosineWarmRestarts\", \"t0\": 10, "
							+ "\"tMult\": 2}}}"),
			@ExampleObject(name = "clip by value and skip non-finite steps",
					value = "{\"optimizer\": {\"clipping\": {\"maxValue\": 0.5}, \"nonFinite\": \"skip\"}}"),
			@ExampleObject(name = "remove schedule and clipping", summary = "The learning rate stays where it is",
					value = "{\"optimizer\": {\"schedule\": {\"type\": \"none\"}, \"clipping\": {}}}") }))
	ResponseEntity<SessionResponse> patch(@PathVariable String id, @Valid @RequestBody PatchSessionRequest request,
			@Parameter(description = IF_MATCH) @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
			@Parameter(hidden = true) Caller caller) {
		return withETag(this.sessions.updateOptimizer(caller, id, request.optimizer(), Preconditions.ifMatch(ifMatch)));
	}

	@PostMapping(path = "/{id}/steps", consumes = { MediaType.APPLICATION_JSON_VALUE, MediaType.APPLICATION_OCTET_STREAM_VALUE },
			produces = { MediaType.APPLICATION_JSON_VALUE, MediaType.APPLICATION_OCTET_STREAM_VALUE })
	@Operation(summary = "Take one Adam step",
			description = "Send the gradients (and the parameters, unless the session holds them); get every "
					+ "parameter back after the step. The first step fixes the tensors' names and shapes. "
					+ "In safetensors (application/octet-stream, by Content-Type and Accept independently) a parameter "
					+ "goes under its name and its gradient under name + '.grad' (F64, F32; F16 and BF16 for "
					+ "gradients); the answer holds each parameter in the dtype it was sent, the step in `__metadata__`.")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = { @Content(
			mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = StepRequest.class),
			examples = {
			@ExampleObject(name = "parameters and gradients",
					summary = "For a session that does not hold its parameters",
					value = "{\"parameters\": {\"W1\": [[0.5, -0.2], [0.1, 0.3]], \"b1\": [[0.0], [0.0]]},\n"
							+ " \"gradients\": {\"dW1\": [[0.01, -0.03], [0.02, 0.0]], \"db1\": [[0.1], [-0.1]]}}"),
			@ExampleObject(name = "gradients only", summary = "For a session created with the example's parameters",
					value = "{\"gradients\": {\"dW1\": [[0.01, -0.03], [0.02, 0.0]], \"db1\": [[0.1], [-0.1]]}}"),
			@ExampleObject(name = "gradients and loss",
					summary = "For a held session; the loss is recorded in the history",
					value = "{\"gradients\": {\"dW1\": [[0.01, -0.03], [0.02, 0.0]], \"db1\": [[0.1], [-0.1]]}, "
							+ "\"loss\": 0.6931}") }),
			@Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE, schema = @Schema(type = "string",
					format = "binary", description = "safetensors: W1, W1.grad, b1, b1.grad, ...")) })
	@Parameter(in = ParameterIn.HEADER, name = IdempotencyKeys.HEADER, description = IDEMPOTENCY_KEY,
			schema = @Schema(type = "string", maxLength = IdempotencyKey.MAX_LENGTH), example = "8e0f4c7e-6c0b-4d0e-9d8e-2f5b3f6a1c9d")
	@ApiResponse(responseCode = "200", description = "Every parameter after the step.", content = {
			@Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = StepResponse.class)),
			@Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE, schema = @Schema(type = "string",
					format = "binary", description = "safetensors: each parameter under its name; step in `__metadata__`")) })
	ResponseEntity<StepResponse> step(@PathVariable String id, @Valid @RequestBody StepRequest request,
			@Parameter(hidden = true) IdempotencyKey idempotencyKey,
			@Parameter(description = IF_MATCH) @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
			@Parameter(hidden = true) Caller caller) {
		StepResult result = this.stepMetrics.record(() -> this.sessions.step(caller, id, request.parameters(),
				request.gradients(), (request.loss() != null) ? request.loss() : Double.NaN, idempotencyKey,
				Preconditions.ifMatch(ifMatch)));
		return ResponseEntity.ok()
			.headers(headers -> replayed(headers, result.replayed()))
			.eTag(Preconditions.etag(result.version()))
			.body(StepResponse.of(result));
	}

	@GetMapping("/{id}/history")
	@Operation(summary = "Get the step history",
			description = "The session's latest steps (adam.history.size of them), oldest first: learning rate, "
					+ "gradient and update norms, loss, clipped, skipped, duration. What a dashboard plots; poll it "
					+ "with since = the last step seen.")
	HistoryResponse history(@PathVariable String id,
			@Parameter(description = "Only steps after this step count; leave out for all that are kept.",
					example = "0") @RequestParam(required = false) Long since, @Parameter(hidden = true) Caller caller) {
		return new HistoryResponse(this.sessions.history(caller, id, (since != null) ? since : Long.MIN_VALUE)
			.stream()
			.map(e -> new HistoryEntry(e.step(), e.time(), StepResponse.finite(e.learningRate()),
					StepResponse.finite(e.gradNorm()), StepResponse.finite(e.updateNorm()),
					StepResponse.finite(e.loss()), e.clipped(), e.skipped(), e.durationMicros()))
			.toList());
	}

	@GetMapping(path = "/{id}/state",
			produces = { MediaType.APPLICATION_JSON_VALUE, MediaType.APPLICATION_OCTET_STREAM_VALUE })
	@Operation(summary = "Get a checkpoint",
			description = "Everything needed to resume: POST it as 'state' to /v1/sessions (or POST the safetensors "
					+ "form as the body) for a session that continues bit for bit. In safetensors the tensors are "
					+ "name.firstMoment, name.secondMoment, name.maxSecondMoment, name.parameter and the rest "
					+ "(optimizer, precision, steps) is in `__metadata__`.")
	@ApiResponse(responseCode = "200", description = "The checkpoint.", content = {
			@Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = CheckpointDocument.class)),
			@Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE,
					schema = @Schema(type = "string", format = "binary")) })
	CheckpointDocument state(@PathVariable String id, @Parameter(hidden = true) Caller caller) {
		return CheckpointMapper.toDocument(this.sessions.checkpoint(caller, id));
	}

	@GetMapping(path = "/{id}/parameters",
			produces = { MediaType.APPLICATION_JSON_VALUE, MediaType.APPLICATION_OCTET_STREAM_VALUE })
	@Operation(summary = "Get the held parameters",
			description = "The parameters the session holds, as {name: tensor} or safetensors. 409 when the session "
					+ "does not hold them.")
	@ApiResponse(responseCode = "200", description = "The parameters.", content = {
			@Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(type = "object", description = "Parameters by tensor name: {name: tensor}.",
					additionalPropertiesSchema = Tensor.class)),
			@Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE,
					schema = @Schema(type = "string", format = "binary")) })
	ParameterSet parameters(@PathVariable String id, @Parameter(hidden = true) Caller caller) {
		return new ParameterSet(this.sessions.parameters(caller, id));
	}

	@PutMapping(path = "/{id}/parameters",
			consumes = { MediaType.APPLICATION_JSON_VALUE, MediaType.APPLICATION_OCTET_STREAM_VALUE },
			produces = MediaType.ALL_VALUE)
	@Operation(summary = "Set the held parameters",
			description = "Makes the session hold these parameters (the moments are kept), e.g. to upload a large "
					+ "model in safetensors after creating the session with JSON hyperparameters. Names and shapes "
					+ "must match the session's tensors once they are fixed.")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = {
			@Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(type = "object", description = "Parameters by tensor name: {name: tensor}.",
					additionalPropertiesSchema = Tensor.class),
					examples = @ExampleObject(name = "two tensors",
							value = "{\"W1\": [[0.5, -0.2], [0.1, 0.3]], \"b1\": [[0.0], [0.0]]}")),
			@Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE,
					schema = @Schema(type = "string", format = "binary", description = "safetensors, F64 or F32")) })
	@ApiResponse(responseCode = "204", description = "The session holds the parameters.")
	ResponseEntity<Void> putParameters(@PathVariable String id, @RequestBody ParameterSet parameters,
			@Parameter(description = IF_MATCH) @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
			@Parameter(hidden = true) Caller caller) {
		SessionSnapshot session = this.sessions.holdParameters(caller, id, parameters.tensors(),
				Preconditions.ifMatch(ifMatch));
		return ResponseEntity.noContent().eTag(Preconditions.etag(session.version())).build();
	}

	private static ResponseEntity<SessionResponse> withETag(SessionSnapshot session) {
		return ResponseEntity.ok().eTag(Preconditions.etag(session.version())).body(SessionResponse.of(session));
	}

	private static void replayed(HttpHeaders headers, boolean replayed) {
		if (replayed) {
			headers.set(IdempotencyKeys.REPLAYED_HEADER, "true");
		}
	}

}
