package dev.adamopt.kernel;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Which of torch's two Adam variants a run follows; they differ only in how weight decay is applied. */
public enum Algorithm {

	/** {@code torch.optim.Adam}: weight decay is an L2 term added to the gradient. */
	ADAM("adam", 0.0),

	/** {@code torch.optim.AdamW}: weight decay shrinks the parameter before the update (decoupled). */
	ADAMW("adamw", 0.01);

	private final String wireName;

	private final double defaultWeightDecay;

	Algorithm(String wireName, double defaultWeightDecay) {
		this.wireName = wireName;
		this.defaultWeightDecay = defaultWeightDecay;
	}

	public String wireName() {
		return this.wireName;
	}

	/** torch's default: 0 for Adam, 0.01 for AdamW. */
	public double defaultWeightDecay() {
		return this.defaultWeightDecay;
	}

	public static Algorithm fromWireName(String name) {
		for (Algorithm algorithm : values()) {
			if (algorithm.wireName.equals(name)) {
				return algorithm;
			}
		}
		throw new IllegalArgumentException("algorithm must be one of " + wireNames() + ", got '" + Precision.quoted(name) + "'");
	}

	static String wireNames() {
		return Arrays.stream(values()).map(Algorithm::wireName).collect(Collectors.joining(", "));
	}

}
