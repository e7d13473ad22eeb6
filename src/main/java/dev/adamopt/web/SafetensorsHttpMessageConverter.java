package dev.adamopt.web;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import dev.adamopt.session.CheckpointFormat;
import dev.adamopt.tensor.Dtype;
import dev.adamopt.tensor.Safetensors;
import dev.adamopt.tensor.SafetensorsException;
import dev.adamopt.tensor.Tensor;
import dev.adamopt.web.Dtos.CheckpointDocument;
import dev.adamopt.web.Dtos.CreateSessionRequest;
import dev.adamopt.web.Dtos.ParameterSet;
import dev.adamopt.web.Dtos.StepRequest;
import dev.adamopt.web.Dtos.StepResponse;

import org.springframework.http.HttpInputMessage;
import org.springframework.http.HttpOutputMessage;
import org.springframework.http.MediaType;
import org.springframework.http.converter.AbstractHttpMessageConverter;
import org.springframework.http.converter.HttpMessageNotReadableException;

/**
 * Reads and writes the API's tensor bodies as safetensors ({@code application/octet-stream}): steps (a parameter
 * under its name, its gradient under {@code name + ".grad"}), parameter sets and checkpoints (in the session's own
 * {@link CheckpointFormat}, the same as the session files on disk).
 */
final class SafetensorsHttpMessageConverter extends AbstractHttpMessageConverter<Object> {

	static final String GRADIENT_SUFFIX = ".grad";

	private static final Set<Class<?>> TYPES = Set.of(StepRequest.class, StepResponse.class, ParameterSet.class,
			CreateSessionRequest.class, CheckpointDocument.class);

	private final CheckpointFormat checkpointFormat;

	SafetensorsHttpMessageConverter(CheckpointFormat checkpointFormat) {
		super(MediaType.APPLICATION_OCTET_STREAM);
		this.checkpointFormat = checkpointFormat;
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
			// non-finite values pass: the session decides what they mean (a gradient under nonFinite, or bad input)
			file = Safetensors.read(input.getBody(), input.getHeaders().getContentLength(), false);
			if (clazz == StepRequest.class) {
				return stepRequest(file);
			}
			if (clazz == ParameterSet.class) {
				return new ParameterSet(parameters(file));
			}
			if (clazz == CreateSessionRequest.class) {
				return new CreateSessionRequest(null, null, null,
						CheckpointMapper.toDocument(this.checkpointFormat.decode(file)));
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
		return new StepRequest(parameters.isEmpty() ? null : parameters, gradients, loss(file));
	}

	/** The step's loss, from {@code __metadata__.loss} (a decimal string, as safetensors metadata values are). */
	private static Double loss(Safetensors.File file) {
		String text = file.metadata().get("loss");
		if (text == null) {
			return null;
		}
		try {
			return Double.valueOf(text.trim());
		}
		catch (NumberFormatException ex) {
			throw new SafetensorsException("__metadata__.loss must be a number written as a string, e.g. \"0.25\", "
					+ "got " + dev.adamopt.kernel.Precision.quoted(text));
		}
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

	private static void put(Map<String, String> metadata, String name, Object value) {
		if (value != null) {
			metadata.put(name, value.toString());
		}
	}

	@Override
	protected void writeInternal(Object body, HttpOutputMessage output) throws IOException {
		Map<String, Tensor> tensors;
		Map<String, String> metadata = new LinkedHashMap<>();
		if (body instanceof StepResponse step) {
			tensors = step.parameters();
			metadata.put("step", Long.toString(step.step()));
			// the statistics as strings (safetensors metadata is string to string), left out where JSON leaves them out
			put(metadata, "learningRate", step.learningRate());
			put(metadata, "gradNorm", step.gradNorm());
			put(metadata, "totalNorm", step.totalNorm());
			put(metadata, "updateNorm", step.updateNorm());
			put(metadata, "clipped", step.clipped());
			put(metadata, "skipped", step.skipped());
		}
		else if (body instanceof ParameterSet parameters) {
			tensors = parameters.tensors();
		}
		else if (body instanceof CheckpointDocument checkpoint) {
			CheckpointFormat.Encoded file = this.checkpointFormat.encode(CheckpointMapper.fromDocument(checkpoint));
			output.getHeaders().setContentLength(file.length());
			file.writeTo(output.getBody());
			return;
		}
		else {
			throw new IllegalArgumentException("cannot write " + body.getClass().getSimpleName() + " as safetensors");
		}
		byte[] header = Safetensors.header(tensors, metadata);
		output.getHeaders().setContentLength(Safetensors.length(header, tensors));
		Safetensors.write(header, tensors, output.getBody());
	}

}
