package dev.adamopt.web;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import dev.adamopt.tensor.TensorJacksonModule;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.core.json.JsonWriteFeature;
import tools.jackson.databind.DeserializationFeature;

import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Strict JSON: a misspelt field, a duplicate key, a string where a number belongs is an error, never a silent default.
 * An explicit {@code null} in a field counts as the field left out (clients generated from the OpenAPI document send
 * optional fields they do not set as {@code null}): an optional field takes its default, a required one is reported
 * missing. A {@code null} where a value must stand (a tensor in {@code gradients}, an element of a list) is an error.
 * Numbers are parsed and written with Jackson's fast, exact double codecs.
 */
@Configuration(proxyBeanMethods = false)
class JacksonConfiguration {

	@Bean
	TensorJacksonModule tensorJacksonModule() {
		return new TensorJacksonModule();
	}

	@Bean
	StrictScalarsModule strictScalarsModule() {
		return new StrictScalarsModule();
	}

	@Bean
	JsonMapperBuilderCustomizer strictJson() {
		return builder -> builder.changeDefaultNullHandling(nulls -> JsonSetter.Value.forValueNulls(Nulls.SKIP))
			.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
			.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
			.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
			.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
			.enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
			.enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
			// Gradients may carry the tokens NaN, Infinity and -Infinity as Python's json writes them (an overflowed
			// step under nonFinite "skip"); answers never hold them: a step whose result would not be finite is
			// refused or skipped, so every answer is strict RFC 8259 JSON.
			.enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
			.disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS);
	}

}
