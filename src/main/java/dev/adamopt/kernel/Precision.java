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

	/** A wire name as an error message may quote it: at most 64 characters (longer ones cut, with their length). */
	static String quoted(String name) {
		return (name.length() <= 64) ? name : name.substring(0, 64) + "... (" + name.length() + " characters)";
	}

}
