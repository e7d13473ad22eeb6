package dev.adamopt.training;

import java.util.List;

/** PLACEHOLDER: replaced by the schedules branch at merge. */
public sealed interface LearningRateSchedule permits LearningRateSchedule.Step, LearningRateSchedule.MultiStep,
		LearningRateSchedule.Exponential, LearningRateSchedule.Cosine, LearningRateSchedule.CosineWarmRestarts,
		LearningRateSchedule.Linear, LearningRateSchedule.Sequential {

	String type();

	double learningRate(long position, double previous, double initial);

	record Step(int stepSize, double gamma) implements LearningRateSchedule {
		public String type() { return "step"; }
		public double learningRate(long position, double previous, double initial) { throw new UnsupportedOperationException(); }
	}

	record MultiStep(int[] milestones, double gamma) implements LearningRateSchedule {
		public String type() { return "multiStep"; }
		public double learningRate(long position, double previous, double initial) { throw new UnsupportedOperationException(); }
	}

	record Exponential(double gamma) implements LearningRateSchedule {
		public String type() { return "exponential"; }
		public double learningRate(long position, double previous, double initial) { throw new UnsupportedOperationException(); }
	}

	record Cosine(long tMax, double etaMin) implements LearningRateSchedule {
		public String type() { return "cosine"; }
		public double learningRate(long position, double previous, double initial) { throw new UnsupportedOperationException(); }
	}

	record CosineWarmRestarts(long t0, long tMult, double etaMin) implements LearningRateSchedule {
		public String type() { return "cosineWarmRestarts"; }
		public double learningRate(long position, double previous, double initial) { throw new UnsupportedOperationException(); }
	}

	record Linear(double startFactor, double endFactor, long totalIters) implements LearningRateSchedule {
		public String type() { return "linear"; }
		public double learningRate(long position, double previous, double initial) { throw new UnsupportedOperationException(); }
	}

	record Sequential(List<LearningRateSchedule> schedules, long[] milestones) implements LearningRateSchedule {
		public String type() { return "sequential"; }
		public double learningRate(long position, double previous, double initial) { throw new UnsupportedOperationException(); }
	}

}
