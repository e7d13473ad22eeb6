package dev.adamopt.tensor;

import tools.jackson.core.JsonToken;

/** How a JSON token is named in the details of problems: "a string", "null", ... */
public final class JsonTokenNames {

	private JsonTokenNames() {
	}

	public static String describe(JsonToken token) {
		if (token == null) {
			return "nothing";
		}
		return switch (token) {
			case VALUE_STRING -> "a string";
			case VALUE_TRUE, VALUE_FALSE -> "a boolean";
			case VALUE_NULL -> "null";
			case START_OBJECT -> "an object";
			case START_ARRAY -> "an array";
			case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
			default -> String.valueOf(token);
		};
	}

}
