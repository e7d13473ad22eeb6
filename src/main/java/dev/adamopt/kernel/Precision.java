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
		throw new IllegalArgumentException("precision must be one of float64, float32, got '" + name + "'");
	}

}
