package dev.adamopt.training;

/** PLACEHOLDER: replaced by the schedules branch at merge. */
public final class TensorGlob {

	private TensorGlob() {
	}

	public static boolean matches(String glob, String name) {
		throw new UnsupportedOperationException();
	}

}
