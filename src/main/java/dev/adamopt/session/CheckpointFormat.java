package dev.adamopt.session;

import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import dev.adamopt.kernel.Precision;
import dev.adamopt.session.SessionException.Reason;
import dev.adamopt.tensor.Dtype;
import dev.adamopt.tensor.Safetensors;
import dev.adamopt.tensor.SafetensorsException;
import dev.adamopt.tensor.Tensor;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * A checkpoint as a safetensors file, the one encoding of checkpoints: the API's binary checkpoint ({@code GET
 * .../state} with {@code Accept: application/octet-stream}, and {@code POST /v1/sessions} of that file) and the
 * session files on disk.
 * <p>
 * Each tensor's state is stored under {@code name.firstMoment}, {@code name.secondMoment},
 * {@code name.maxSecondMoment} (amsgrad only) and {@code name.parameter} (held parameters only), in the session's
 * precision; {@code __metadata__} holds the rest as strings: {@code format}, {@code optimizer} (the API's
 * {@code optimizer} JSON), {@code precision}, {@code step}, {@code holdsParameters} and {@code tensorSteps} (JSON
 * {@code {name: step}}, in the session's order).
 */
public final class CheckpointFormat {

	/** The value of {@code __metadata__.format}. */
	public static final String FORMAT = "adam-optimizer-checkpoint/1";

	private static final Set<String> PARTS = Set.of("firstMoment", "secondMoment", "maxSecondMoment", "parameter");

	private final JsonMapper jsonMapper;

	/**
	 * @param jsonMapper reads and writes the JSON values in {@code __metadata__}; the API's strict mapper, so that a
	 * checkpoint's settings are held to the same rules as a request's
	 */
	public CheckpointFormat(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	/** A checkpoint encoded as safetensors, ready to be measured and written; its tensors are shared, not copied. */
	public record Encoded(byte[] header, Map<String, Tensor> tensors) {

		/** The size of the file in bytes. */
		public long length() {
			return Safetensors.length(this.header, this.tensors);
		}

		public void writeTo(OutputStream out) throws IOException {
			Safetensors.write(this.header, this.tensors, out);
		}

	}

	public Encoded encode(Checkpoint checkpoint) {
		Map<String, Tensor> tensors = new LinkedHashMap<>();
		Map<String, Long> steps = new LinkedHashMap<>();
		checkpoint.tensors().forEach((name, state) -> {
			steps.put(name, state.step());
			putIfPresent(tensors, name + ".firstMoment", state.firstMoment());
			putIfPresent(tensors, name + ".secondMoment", state.secondMoment());
			putIfPresent(tensors, name + ".maxSecondMoment", state.maxSecondMoment());
			putIfPresent(tensors, name + ".parameter", state.parameter());
		});
		Map<String, String> metadata = new LinkedHashMap<>();
		metadata.put("format", FORMAT);
		metadata.put("optimizer", this.jsonMapper.writeValueAsString(OptimizerSettings.of(checkpoint.optimizer())));
		metadata.put("precision", checkpoint.precision().wireName());
		metadata.put("step", Long.toString(checkpoint.step()));
		metadata.put("holdsParameters", Boolean.toString(checkpoint.holdsParameters()));
		if (checkpoint.skippedSteps() != 0) {
			metadata.put("skippedSteps", Long.toString(checkpoint.skippedSteps()));
		}
		metadata.put("tensorSteps", this.jsonMapper.writeValueAsString(steps));
		return new Encoded(Safetensors.header(tensors, metadata), tensors);
	}

	private static void putIfPresent(Map<String, Tensor> tensors, String key, Tensor tensor) {
		if (tensor != null) {
			tensors.put(key, tensor);
		}
	}

	/**
	 * The checkpoint a safetensors file holds, not yet checked for consistency (see {@link CheckpointValidator}).
	 * @throws SafetensorsException if the file is not a checkpoint: a missing or malformed {@code __metadata__} entry,
	 * a tensor that is not {@code <listed tensor>.<part>} or not F64/F32
	 * @throws SessionException ({@link Reason#INVALID_SETTING}) if its optimizer settings or precision are not valid
	 */
	public Checkpoint decode(Safetensors.File file) {
		Map<String, String> metadata = file.metadata();
		Map<String, Long> tensorSteps = metadataJson(metadata, "tensorSteps", new TypeReference<>() {
		});
		Map<String, Map<String, Tensor>> byTensor = new LinkedHashMap<>();
		tensorSteps.keySet().forEach(name -> byTensor.put(name, new LinkedHashMap<>()));
		file.tensors().forEach((key, tensor) -> {
			int dot = key.lastIndexOf('.');
			String suffix = (dot < 0) ? "" : key.substring(dot + 1);
			String name = (dot < 0) ? key : key.substring(0, dot);
			if (!PARTS.contains(suffix)) {
				throw new SafetensorsException("checkpoint tensor '" + key + "' must be named <tensor>.<part>, part one "
						+ "of " + PARTS);
			}
			Map<String, Tensor> parts = byTensor.get(name);
			if (parts == null) {
				throw new SafetensorsException("checkpoint tensor '" + key + "' belongs to '" + name
						+ "', which __metadata__.tensorSteps does not list");
			}
			Dtype dtype = file.dtypes().get(key);
			if (dtype != Dtype.F64 && dtype != Dtype.F32) {
				throw new SafetensorsException("tensor '" + key + "' is " + dtype + ": a checkpoint tensor must be F64 "
						+ "or F32 (F16 and BF16 are accepted for gradients, named name.grad)");
			}
			parts.put(suffix, tensor);
		});
		OptimizerSettings optimizer = metadataJson(metadata, "optimizer", new TypeReference<OptimizerSettings>() {
		});
		long step = metadataJson(metadata, "step", new TypeReference<Long>() {
		});
		boolean holdsParameters = metadataJson(metadata, "holdsParameters", new TypeReference<Boolean>() {
		});
		Map<String, TensorCheckpoint> tensors = new LinkedHashMap<>();
		byTensor.forEach((name, parts) -> {
			Long tensorStep = tensorSteps.get(name);
			if (tensorStep == null) {
				throw new SafetensorsException("__metadata__.tensorSteps." + name + " must be a whole number");
			}
			tensors.put(name, new TensorCheckpoint(tensorStep, parts.get("firstMoment"), parts.get("secondMoment"),
					parts.get("maxSecondMoment"), parts.get("parameter")));
		});
		long skippedSteps = metadata.containsKey("skippedSteps") ? metadataJson(metadata, "skippedSteps",
				new TypeReference<Long>() {
				}) : 0;
		return new Checkpoint((optimizer != null) ? optimizer.toCheckpointConfig() : OptimizerSettings.resolve(null),
				precision(metadata.get("precision")), step, skippedSteps, holdsParameters, tensors);
	}

	private static Precision precision(String name) {
		if (name == null) {
			return Precision.FLOAT64;
		}
		try {
			return Precision.fromWireName(name);
		}
		catch (IllegalArgumentException ex) {
			throw new SessionException(Reason.INVALID_SETTING, ex.getMessage());
		}
	}

	private <T> T metadataJson(Map<String, String> metadata, String key, TypeReference<T> type) {
		String text = metadata.get(key);
		if (text == null) {
			throw new SafetensorsException("a checkpoint needs __metadata__." + key
					+ " (GET /v1/sessions/{id}/state with Accept: application/octet-stream writes it)");
		}
		T value;
		try {
			value = this.jsonMapper.readValue(text, type);
		}
		catch (JacksonException ex) {
			throw new SafetensorsException("__metadata__." + key + " is not valid: " + ex.getOriginalMessage());
		}
		if (value == null && type.getType() != OptimizerSettings.class) {
			throw new SafetensorsException("__metadata__." + key + " is not valid: null");
		}
		return value;
	}

}
