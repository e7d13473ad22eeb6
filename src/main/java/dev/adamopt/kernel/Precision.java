package dev.adamopt.kernel;

/** The precision of a session's state and of its arithmetic. */
public enum Precision {

	FLOAT64("float64"),

	FLOAT32("float32");

	private final String wireName;

	Precision(String wireName) {
		this.wireName = wireName;
	}

	public String wireName() {
		return this.wireName;
	}

	public static Precision fromWireName(String name) {
		for (Precision precision : values()) {
			if (precision.wireName.equals(name)) {
				return precision;
			}
		}
		throw new IllegalArgumentException("precision must be one of float64, float32, got '" + quoted(name) + "'");
	}

	/**
	 * Caller input as an error message may quote it: at most 64 characters (longer input is cut, with its length
	 * said), control characters escaped. The one place the service shortens what it echoes.
	 */
	public static String quoted(String input) {
		if (input == null) {
			return "null";
		}
		int cut = Math.min(input.length(), 64);
		if (cut < input.length() && Character.isHighSurrogate(input.charAt(cut - 1))) {
			cut--;
		}
		StringBuilder out = new StringBuilder(cut + 40);
		for (int i = 0; i < cut; i++) {
			char c = input.charAt(i);
			if (c < 0x20 || c == 0x7f) {
				out.append(String.format("\\u%04x", (int) c));
			}
			else {
				out.append(c);
			}
		}
		if (input.length() > cut) {
			out.append("... (").append(input.length()).append(" characters)");
		}
		return out.toString();
	}

}
