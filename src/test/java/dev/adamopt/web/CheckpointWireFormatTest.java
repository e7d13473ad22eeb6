package dev.adamopt.web;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.stream.Stream;

import dev.adamopt.kernel.Algorithm;
import dev.adamopt.kernel.Hyperparameters;
import dev.adamopt.kernel.Precision;
import dev.adamopt.session.Checkpoint;
import dev.adamopt.session.OptimizerSettings;
import dev.adamopt.session.CheckpointFormat;
import dev.adamopt.tensor.Safetensors;
import dev.adamopt.tensor.TensorJacksonModule;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The checkpoint encoding moved from the web layer into the session package: its {@code __metadata__.optimizer} must
 * stay the API's own {@code optimizer} JSON, character for character, as the application's mapper writes it.
 */
class CheckpointWireFormatTest {

	private static final JsonMapper API_MAPPER = apiMapper();

	static Stream<Hyperparameters> hyperparameters() {
		return Stream.of(Hyperparameters.defaults(Algorithm.ADAM), Hyperparameters.defaults(Algorithm.ADAMW),
				new Hyperparameters(Algorithm.ADAMW, 0.1 + 0.2, 0.0, 0.999999, 0.0, 1e-300, true, true),
				new Hyperparameters(Algorithm.ADAM, 5e-324, 0.8999999999999999, 0.5, 1e-8, 1.7976931348623157e308,
						false, true));
	}

	@ParameterizedTest
	@MethodSource("hyperparameters")
	void optimizerMetadataShouldBeTheApisOptimizerJsonAndReadBackExactly(Hyperparameters h) throws IOException {
		CheckpointFormat format = new CheckpointFormat(API_MAPPER);
		Checkpoint checkpoint = new Checkpoint(h, Precision.FLOAT32, 7, false, Map.of());
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		format.encode(checkpoint).writeTo(out);

		Safetensors.File file = Safetensors.read(new ByteArrayInputStream(out.toByteArray()), out.size());

		assertThat(file.metadata().get("optimizer"))
			.isEqualTo(API_MAPPER.writeValueAsString(OptimizerSettings.of(checkpoint.optimizer())));
		assertThat(file.metadata()).containsEntry("format", "adam-optimizer-checkpoint/1")
			.containsEntry("precision", "float32")
			.containsEntry("step", "7")
			.containsEntry("holdsParameters", "false")
			.containsEntry("tensorSteps", "{}");
		assertThat(format.decode(file)).isEqualTo(checkpoint);
	}

	private static JsonMapper apiMapper() {
		JsonMapper.Builder builder = JsonMapper.builder()
			.addModule(new TensorJacksonModule())
			.addModule(new StrictScalarsModule());
		new JacksonConfiguration().strictJson().customize(builder);
		return builder.build();
	}

}
