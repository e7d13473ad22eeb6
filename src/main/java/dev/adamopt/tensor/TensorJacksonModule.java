package dev.adamopt.tensor;

import tools.jackson.databind.module.SimpleModule;

/** Registers the streaming JSON codec for {@link Tensor}; Spring Boot picks up every {@code JacksonModule} bean. */
public final class TensorJacksonModule extends SimpleModule {

	public TensorJacksonModule() {
		super("tensor");
		addDeserializer(Tensor.class, new TensorJsonDeserializer());
		addSerializer(Tensor.class, new TensorJsonSerializer());
	}

}
