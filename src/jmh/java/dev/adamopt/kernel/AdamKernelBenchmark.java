package dev.adamopt.kernel;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Adam step against the memory bus. One Adam step reads p, g, m, v and writes p, m, v: 56 bytes per float64
 * parameter, 28 per float32. {@code stream} moves exactly the same bytes with no arithmetic (the bandwidth bound
 * measured in the same run, same arrays); {@code arraycopy} is the JDK's copy of one array, for reference.
 * Achieved fraction of the bound = time(stream) / time(adamStep).
 * <p>
 * {@code clippedStep} is a step with clipping by norm and the step statistics, as a session runs it for one tensor:
 * the statistics pass over the gradient ({@link GradientStatistics}), torch's clip coefficient
 * ({@link GradientStatistics.Accumulator}, max norm 1 here, so the gradient really is scaled: its norm is about
 * {@code 0.0058 √size}), {@link StateBounds#provesFinite}, the clipping step returning the update norm, and
 * {@link StateBounds#advance}. Issue 7 asks {@code clippedStep / adamStep <= 1.3} at 10M parameters.
 * {@code gradientStatistics} and {@code scaledStep} are its two passes alone.
 * <p>
 * Figures (2026-11-25, the 2-core AMD EPYC Zen 4 VM, JDK 17 C2; six rounds of {@code -p size=1000,10000000 -tu us
 * -wi 4 -i 5}, each round running every benchmark once, so plain and clipped alternate; load average 1-4 from other
 * builds on the machine, so the spread is wide): ratio {@code clippedStep / adamStep} within each round, median
 * (min-max).
 * <pre>
 * precision  size  adamStep      clippedStep    ratio             statistics    scaledStep
 * float64    1k    1.25 us       1.53-1.56 us   1.23 (1.22-1.25)  0.21 us       1.28-1.31 us
 * float64    10M   12.3-13.2 ms  16.1-16.6 ms   1.27 (1.22-1.33)  2.7-3.1 ms    13.0-14.5 ms
 * float32    1k    0.45-0.73 us  1.63-2.00 us   3.5 (2.4-4.0)     0.26-0.33 us  1.04-1.13 us
 * float32    10M   5.6-6.1 ms    12.3-16.0 ms   2.4 (2.1-2.7)     3.4-4.3 ms    10.2-10.5 ms
 * </pre>
 * float64 meets the 1.3 (the step with the update norm costs next to nothing, the statistics pass reads the
 * gradient once more: 80 MB at 10M). float32 does not: its plain step is twice as fast per element, and C2 (JDK 17)
 * does not vectorise floating-point reductions well (see {@link AdamKernel#stepFloat32(float[], float[], float[],
 * float[], float[], long, Hyperparameters, double, double)} and {@link GradientStatistics} for what was tried), so
 * the update norm alone takes the step to 1.8x and the statistics pass adds 0.6x. A 1k-element tensor's extra cost
 * is 0.3 us (float64) to 1.2 us (float32) per step, next to tens of microseconds per HTTP request. Before norm
 * clipping ran the plain loops with the scale as their sign, float64 at 10M was 1.52x (1.31-1.56, five rounds).
 * <p>
 * Run: {@code ./mvnw -Pbenchmark test-compile exec:exec} (all sizes and precisions, ~8 minutes), or pick with JMH
 * options, e.g. {@code -Dbenchmark.args="AdamKernelBenchmark -p size=10000000 -p precision=float64"}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = { "-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch" })
@State(Scope.Thread)
public class AdamKernelBenchmark {

	@Param({ "1000", "1000000", "10000000" })
	int size;

	@Param({ "float64", "float32" })
	String precision;

	private final Hyperparameters hyperparameters = Hyperparameters.defaults(Algorithm.ADAM);

	private double[] p64, g64, m64, v64, copy64;

	private float[] p32, g32, m32, v32, copy32;

	private long step;

	private final double[] statistics = new double[3];

	private final StateBounds bounds = new StateBounds();

	@Setup(Level.Trial)
	public void setUp() {
		SplittableRandom random = new SplittableRandom(42);
		if (this.precision.equals("float64")) {
			this.p64 = random.doubles(this.size, -1, 1).toArray();
			this.g64 = random.doubles(this.size, -1e-2, 1e-2).toArray();
			this.m64 = new double[this.size];
			this.v64 = new double[this.size];
			this.copy64 = new double[this.size];
		}
		else {
			this.p32 = new float[this.size];
			this.g32 = new float[this.size];
			for (int i = 0; i < this.size; i++) {
				this.p32[i] = (float) random.nextDouble(-1, 1);
				this.g32[i] = (float) random.nextDouble(-1e-2, 1e-2);
			}
			this.m32 = new float[this.size];
			this.v32 = new float[this.size];
			this.copy32 = new float[this.size];
		}
		this.bounds.reset(1.0);
	}

	@Benchmark
	public void adamStep() {
		this.step++;
		if (this.p64 != null) {
			AdamKernel.stepFloat64(this.p64, this.g64, this.m64, this.v64, null, this.step, this.hyperparameters);
		}
		else {
			AdamKernel.stepFloat32(this.p32, this.g32, this.m32, this.v32, null, this.step, this.hyperparameters);
		}
	}

	@Benchmark
	public double clippedStep() {
		this.step++;
		boolean float32 = this.p64 == null;
		double[] out = this.statistics;
		if (float32) {
			GradientStatistics.gradientStatisticsFloat32(this.g32, 2, out);
		}
		else {
			GradientStatistics.gradientStatisticsFloat64(this.g64, 2, out);
		}
		GradientStatistics.Accumulator accumulator = new GradientStatistics.Accumulator(float32, 2);
		accumulator.add(out);
		double scale = accumulator.clipCoefficient(1.0);
		double maxAbsParam = this.bounds.parameterBound();
		if (!this.bounds.provesFinite(this.hyperparameters, this.step, float32, scale, Double.POSITIVE_INFINITY,
				out[1], maxAbsParam)) {
			throw new IllegalStateException("not proven finite at step " + this.step);
		}
		double updateSquaredSum = float32
				? AdamKernel.stepFloat32(this.p32, this.g32, this.m32, this.v32, null, this.step, this.hyperparameters,
						scale, Double.POSITIVE_INFINITY)
				: AdamKernel.stepFloat64(this.p64, this.g64, this.m64, this.v64, null, this.step, this.hyperparameters,
						scale, Double.POSITIVE_INFINITY);
		this.bounds.advance(this.hyperparameters, this.step, float32, scale, Double.POSITIVE_INFINITY, out[1],
				maxAbsParam, updateSquaredSum, this.size);
		return updateSquaredSum + accumulator.l2Norm();
	}

	/** clippedStep's first part alone: the statistics pass over the gradient. */
	@Benchmark
	public double[] gradientStatistics() {
		if (this.p64 != null) {
			GradientStatistics.gradientStatisticsFloat64(this.g64, 2, this.statistics);
		}
		else {
			GradientStatistics.gradientStatisticsFloat32(this.g32, 2, this.statistics);
		}
		return this.statistics;
	}

	/** clippedStep's second part alone: the step scaled by a clip coefficient, returning the update norm. */
	@Benchmark
	public double scaledStep() {
		this.step++;
		return (this.p64 != null)
				? AdamKernel.stepFloat64(this.p64, this.g64, this.m64, this.v64, null, this.step, this.hyperparameters,
						0.25, Double.POSITIVE_INFINITY)
				: AdamKernel.stepFloat32(this.p32, this.g32, this.m32, this.v32, null, this.step, this.hyperparameters,
						0.25, Double.POSITIVE_INFINITY);
	}

	/** Reads p, g, m, v and writes p, m, v like the step, with no arithmetic to speak of: the bandwidth bound. */
	@Benchmark
	public void stream() {
		if (this.p64 != null) {
			double[] p = this.p64, g = this.g64, m = this.m64, v = this.v64;
			for (int i = 0; i < p.length; i++) {
				double pi = p[i];
				double mi = m[i];
				p[i] = g[i];
				m[i] = pi;
				v[i] = v[i] + mi;
			}
		}
		else {
			float[] p = this.p32, g = this.g32, m = this.m32, v = this.v32;
			for (int i = 0; i < p.length; i++) {
				float pi = p[i];
				float mi = m[i];
				p[i] = g[i];
				m[i] = pi;
				v[i] = v[i] + mi;
			}
		}
	}

	/** One JDK array copy of the parameters (16 bytes per float64 element), for reference. */
	@Benchmark
	public void arraycopy() {
		if (this.p64 != null) {
			System.arraycopy(this.p64, 0, this.copy64, 0, this.size);
		}
		else {
			System.arraycopy(this.p32, 0, this.copy32, 0, this.size);
		}
	}

}
