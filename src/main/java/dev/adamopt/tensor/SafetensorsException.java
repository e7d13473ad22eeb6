package dev.adamopt.tensor;

/** A safetensors file that cannot be read; the message says what is wrong with it. */
public final class SafetensorsException extends RuntimeException {

	public SafetensorsException(String message) {
		super(message, null, false, false);
	}

}
