package dev.adamopt.web;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import dev.adamopt.tensor.Dtype;
import dev.adamopt.tensor.Safetensors;
import dev.adamopt.tensor.SafetensorsException;
import dev.adamopt.tensor.Tensor;
import dev.adamopt.web.Dtos.CheckpointDocument;
import dev.adamopt.web.Dtos.CreateSessionRequest;
import dev.adamopt.web.Dtos.ParameterSet;
import dev.adamopt.web.Dtos.StepRequest;
import dev.adamopt.web.Dtos.StepResponse;
import dev.adamopt.web.Dtos.TensorStateDocument;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpInputMessage;
import org.springframework.http.HttpOutputMessage;
import org.springframework.http.MediaType;
import org.springframework.http.converter.AbstractHttpMessageConverter;
import org.springframework.http.converter.HttpMessageNotReadableException;

/**
 * Reads and writes the API's tensor bodies as safetensors ({@code application/octet-stream}): steps (a parameter
 * under its name, its gradient under {@code name + ".grad"}), parameter sets and checkpoints ({@code name.firstMoment},
 * {@code name.secondMoment}, {@code name.maxSecondMoment}, {@code name.parameter}; the rest in {@code __metadata__}).
 */
final class SafetensorsHttpMessageConverter extends AbstractHttpMessageConverter<Object> {

	static final String GRADIENT_SUFFIX = ".grad";

	private static final Set<Class<?>> TYPES = Set.of(StepRequest.class, StepResponse.class, ParameterSet.class,
			CreateSessionRequest.class, CheckpointDocument.class);

	private static final Set<String> STATE_SUFFIXES = Set.of("firstMoment", "secondMoment", "maxSecondMoment",
			"parameter");

	private final JsonMapper jsonMapper;

	SafetensorsHttpMessageConverter(JsonMapper jsonMapper) {
		super(MediaType.APPLICATION_OCTET_STREAM);
		this.jsonMapper = jsonMapper;
	}

	@Override
	protected boolean supports(Class<?> clazz) {
		return TYPES.contains(clazz);
	}

	@Override
	protected boolean canWrite(MediaType mediaType) {
		// only when asked for explicitly: */* and missing Accept headers get JSON
		return mediaType != null && MediaType.APPLICATION_OCTET_STREAM.equalsTypeAndSubtype(mediaType);
	}

	@Override
	protected Object readInternal(Class<?> clazz, HttpInputMessage input) throws IOException {
		Safetensors.File file;
		try {
			file = Safetensors.read(input.getBody(), input.getHeaders().getContentLength());
			if (clazz == StepRequest.class) {
				return stepRequest(file);
			}
			if (clazz == ParameterSet.class) {
				return new ParameterSet(parameters(file));
			}
			if (clazz == CreateSessionRequest.class) {
				return new CreateSessionRequest(null, null, null, checkpoint(file));
			}
		}
		catch (SafetensorsException ex) {
			throw new HttpMessageNotReadableException(ex.getMessage(), ex, input);
		}
		throw new HttpMessageNotReadableException("a safetensors body is not accepted here", input);
	}

	private static StepRequest stepRequest(Safetensors.File file) {
		Map<String, Tensor> parameters = new LinkedHashMap<>();
		Map<String, Tensor> gradients = new LinkedHashMap<>();
		file.tensors().forEach((name, tensor) -> {
			if (name.endsWith(GRADIENT_SUFFIX)) {
				gradients.put(name.substring(0, name.length() - GRADIENT_SUFFIX.length()), tensor);
			}
			else {
				requireFullDtype(file, name, "parameter");
				parameters.put(name, tensor);
			}
		});
		return new StepRequest(parameters.isEmpty() ? null : parameters, gradients);
	}

	private static Map<String, Tensor> parameters(Safetensors.File file) {
		file.tensors().keySet().forEach(name -> requireFullDtype(file, name, "parameter"));
		return file.tensors();
	}

	private static void requireFullDtype(Safetensors.File file, String name, String role) {
		Dtype dtype = file.dtypes().get(name);
		if (dtype != Dtype.F64 && dtype != Dtype.F32) {
			throw new SafetensorsException("tensor '" + name + "' is " + dtype + ": a " + role
					+ " must be F64 or F32 (F16 and BF16 are accepted for gradients, named name.grad)");
		}
	}

	private CheckpointDocument checkpoint(Safetensors.File file) {
		Map<String, String> metadata = file.metadata();
		Map<String, Long> tensorSteps = metadataJson(metadata, "tensorSteps", new TypeReference<>() {
		});
		Map<String, Map<String, Tensor>> byTensor = new LinkedHashMap<>();
		tensorSteps.keySet().forEach(name -> byTensor.put(name, new LinkedHashMap<>()));
		file.tensors().forEach((key, tensor) -> {
			int dot = key.lastIndexOf('.');
			String suffix = (dot < 0) ? "" : key.substring(dot + 1);
			String name = (dot < 0) ? key : key.substring(0, dot);
			if (!STATE_SUFFIXES.contains(suffix)) {
				throw new SafetensorsException("checkpoint tensor '" + key + "' must be named <tensor>.<part>, part one "
						+ "of " + STATE_SUFFIXES);
			}
			Map<String, Tensor> parts = byTensor.get(name);
			if (parts == null) {
				throw new SafetensorsException("checkpoint tensor '" + key + "' belongs to '" + name
						+ "', which __metadata__.tensorSteps does not list");
			}
			requireFullDtype(file, key, "checkpoint tensor");
			parts.put(suffix, tensor);
		});
		Map<String, TensorStateDocument> tensors = new LinkedHashMap<>();
		byTensor.forEach((name, parts) -> tensors.put(name, new TensorStateDocument(tensorSteps.get(name),
				parts.get("firstMoment"), parts.get("secondMoment"), parts.get("maxSecondMoment"),
				parts.get("parameter"))));
		return new CheckpointDocument(metadataJson(metadata, "optimizer", new TypeReference<OptimizerSettings>() {
		}), metadata.get("precision"), metadataJson(metadata, "step", new TypeReference<Long>() {
		}), metadataJson(metadata, "holdsParameters", new TypeReference<Boolean>() {
		}), tensors);
	}

	private <T> T metadataJson(Map<String, String> metadata, String key, TypeReference<T> type) {
		String text = metadata.get(key);
		if (text == null) {
			throw new SafetensorsException("a checkpoint needs __metadata__." + key
					+ " (GET /v1/sessions/{id}/state with Accept: application/octet-stream writes it)");
		}
		try {
			return this.jsonMapper.readValue(text, type);
		}
		catch (JacksonException ex) {
			throw new SafetensorsException("__metadata__." + key + " is not valid: " + ex.getOriginalMessage());
		}
	}

	@Override
	protected void writeInternal(Object body, HttpOutputMessage output) throws IOException {
		Map<String, Tensor> tensors;
		Map<String, String> metadata = new LinkedHashMap<>();
		if (body instanceof StepResponse step) {
			tensors = step.parameters();
			metadata.put("step", Long.toString(step.step()));
		}
		else if (body instanceof ParameterSet parameters) {
			tensors = parameters.tensors();
		}
		else if (body instanceof CheckpointDocument checkpoint) {
			tensors = new LinkedHashMap<>();
			Map<String, Long> steps = new LinkedHashMap<>();
			for (Map.Entry<String, TensorStateDocument> entry : checkpoint.tensors().entrySet()) {
				String name = entry.getKey();
				TensorStateDocument state = entry.getValue();
				steps.put(name, state.step());
				putIfPresent(tensors, name + ".firstMoment", state.firstMoment());
				putIfPresent(tensors, name + ".secondMoment", state.secondMoment());
				putIfPresent(tensors, name + ".maxSecondMoment", state.maxSecondMoment());
				putIfPresent(tensors, name + ".parameter", state.parameter());
			}
			metadata.put("format", "adam-optimizer-checkpoint/1");
			metadata.put("optimizer", this.jsonMapper.writeValueAsString(checkpoint.optimizer()));
			metadata.put("precision", checkpoint.precision());
			metadata.put("step", Long.toString(checkpoint.step()));
			metadata.put("holdsParameters", Boolean.toString(checkpoint.holdsParameters()));
			metadata.put("tensorSteps", this.jsonMapper.writeValueAsString(steps));
		}
		else {
			throw new IllegalArgumentException("cannot write " + body.getClass().getSimpleName() + " as safetensors");
		}
		byte[] header = Safetensors.header(tensors, metadata);
		output.getHeaders().setContentLength(Safetensors.length(header, tensors));
		Safetensors.write(header, tensors, output.getBody());
	}

	private static void putIfPresent(Map<String, Tensor> tensors, String key, Tensor tensor) {
		if (tensor != null) {
			tensors.put(key, tensor);
		}
	}

}
