package dev.adamopt.web;

import dev.adamopt.tensor.JsonTokenNames;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.module.SimpleModule;

/**
 * Settings take exactly their JSON type: no "0.1" for a number, no 1 for true. A field left out, or sent as
 * {@code null}, never reaches these deserializers (it takes its default: see {@link JacksonConfiguration}); a
 * {@code null} they do see stands where a value must, as an element of a list, and is an error.
 */
final class StrictScalarsModule extends SimpleModule {

	StrictScalarsModule() {
		super("strict-scalars");
		addDeserializer(Double.class, new Strict<>(Double.class, "a number") {
			@Override
			Double read(JsonParser parser) {
				JsonToken token = parser.currentToken();
				return (token == JsonToken.VALUE_NUMBER_FLOAT || token == JsonToken.VALUE_NUMBER_INT)
						? parser.getDoubleValue() : null;
			}
		});
		addDeserializer(Long.class, new Strict<>(Long.class, "a whole number") {
			@Override
			Long read(JsonParser parser) {
				return (parser.currentToken() == JsonToken.VALUE_NUMBER_INT
						&& parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) ? parser.getLongValue() : null;
			}
		});
		addDeserializer(Boolean.class, new Strict<>(Boolean.class, "true or false") {
			@Override
			Boolean read(JsonParser parser) {
				JsonToken token = parser.currentToken();
				return (token == JsonToken.VALUE_TRUE) ? Boolean.TRUE
						: (token == JsonToken.VALUE_FALSE) ? Boolean.FALSE : null;
			}
		});
		addDeserializer(String.class, new Strict<>(String.class, "a string") {
			@Override
			String read(JsonParser parser) {
				return (parser.currentToken() == JsonToken.VALUE_STRING) ? parser.getString() : null;
			}
		});
	}

	private abstract static class Strict<T> extends ValueDeserializer<T> {

		private final Class<T> type;

		private final String expected;

		Strict(Class<T> type, String expected) {
			this.type = type;
			this.expected = expected;
		}

		/** The value, or {@code null} when the token is of another type. */
		abstract T read(JsonParser parser);

		@Override
		public T deserialize(JsonParser parser, DeserializationContext context) {
			T value = read(parser);
			if (value == null) {
				return context.reportInputMismatch(this.type, "expected " + this.expected + ", got "
						+ JsonTokenNames.describe(parser.currentToken()));
			}
			return value;
		}

		@Override
		public T getNullValue(DeserializationContext context) {
			return context.reportInputMismatch(this.type, "expected " + this.expected + ", got null");
		}

		@Override
		public Object getAbsentValue(DeserializationContext context) {
			return null;
		}

	}

}
