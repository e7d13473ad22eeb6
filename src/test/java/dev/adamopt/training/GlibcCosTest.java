package dev.adamopt.training;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link GlibcCos} against glibc's own results (Python's {@code math.cos}), bit for bit, on the vectors of
 * {@code src/test/resources/cos} (how they were made: the README there), and its two tables against values computed
 * here in high precision.
 */
class GlibcCosTest {

	private static final MathContext PRECISION = new MathContext(80, RoundingMode.HALF_EVEN);

	@Test
	void cosShouldMatchGlibcWhereGlibcIsNotCorrectlyRounded() {
		List<String[]> lines = read();
		int claimed = Integer.parseInt(comments().get(1).split(" ")[1]);
		assertThat(claimed).as("the file's second comment: how many lines come first").isGreaterThan(50);
		List<String> mismatches = new ArrayList<>();
		for (String[] line : lines.subList(0, claimed)) {
			assertThat(parse(line[1])).as("the file's own claim, %s", String.join(" ", line))
				.isNotEqualTo(parse(line[2]));
			check(line, mismatches);
		}
		assertThat(mismatches).isEmpty();
	}

	@Test
	void cosShouldMatchGlibcOnScheduleArgumentsEveryRangeAndSpecialValues() {
		List<String[]> lines = read();
		assertThat(lines).hasSize(3669);
		List<String> mismatches = new ArrayList<>();
		for (String[] line : lines) {
			check(line, mismatches);
		}
		assertThat(mismatches).isEmpty();
	}

	@Test
	void cosShouldGiveNotANumberForNotANumberAndTheInfinitiesAndOneNearZero() {
		assertThat(GlibcCos.cos(Double.NaN)).isNaN();
		assertThat(GlibcCos.cos(Double.POSITIVE_INFINITY)).isNaN();
		assertThat(GlibcCos.cos(Double.NEGATIVE_INFINITY)).isNaN();
		assertThat(GlibcCos.cos(0.0)).isEqualTo(1.0);
		assertThat(GlibcCos.cos(-0x1p-28)).isEqualTo(1.0);
		assertThat(GlibcCos.cos(Math.PI)).isEqualTo(-1.0);
	}

	@Test
	void tableShouldHoldTheSinesAndCosinesOfMultiplesOfOneOver128AsDoubleDoubles() {
		assertThat(GlibcCos.SINCOS).hasSize(440);
		double worst = 0;
		for (int i = 0; i < 110; i++) {
			BigDecimal x = BigDecimal.valueOf(i).divide(BigDecimal.valueOf(128));
			BigDecimal[] exact = { sin(x), cos(x) };
			for (int j = 0; j < 2; j++) {
				double hi = GlibcCos.SINCOS[4 * i + 2 * j];
				double lo = GlibcCos.SINCOS[4 * i + 2 * j + 1];
				assertThat(hi).as("entry %d.%d: the high part is the value rounded to nearest", i, j)
					.isEqualTo(exact[j].doubleValue());
				BigDecimal error = new BigDecimal(hi).add(new BigDecimal(lo)).subtract(exact[j]).abs();
				if (i > 0 || j == 1) {
					double relative = error.divide(exact[j], PRECISION).doubleValue();
					worst = Math.max(worst, relative);
				}
				else {
					assertThat(lo).isZero();
				}
			}
		}
		// glibc's low parts are within an ulp or two of the correctly rounded residual, not always equal to it.
		assertThat(worst).isLessThan(0x1p-104);
	}

	@Test
	void largeArgumentTableShouldHoldTwoOverPiIn24BitChunks() {
		assertThat(GlibcCos.TOVERP).hasSize(75);
		int bits = 24 * 75;
		BigDecimal twoOverPi = BigDecimal.valueOf(2).divide(pi(new MathContext(620)), new MathContext(600));
		BigInteger scaled = twoOverPi.multiply(new BigDecimal(BigInteger.ONE.shiftLeft(bits))).toBigInteger();
		for (int i = 0; i < 75; i++) {
			long chunk = scaled.shiftRight(bits - 24 * (i + 1)).longValue() & 0xffffff;
			assertThat(GlibcCos.TOVERP[i]).as("chunk %d", i).isEqualTo((double) chunk);
		}
	}

	private static void check(String[] line, List<String> mismatches) {
		double x = parse(line[0]);
		double glibc = parse(line[1]);
		double actual = GlibcCos.cos(x);
		if (Double.doubleToLongBits(actual) != Double.doubleToLongBits(glibc)) {
			mismatches.add("cos " + line[0] + ": glibc " + line[1] + ", got " + Double.toHexString(actual));
		}
	}

	private static double parse(String text) {
		return Double.parseDouble(text);
	}

	/** sin by its Taylor series, for 0 <= x < 1. */
	private static BigDecimal sin(BigDecimal x) {
		return series(x, x, 1);
	}

	private static BigDecimal cos(BigDecimal x) {
		return series(x, BigDecimal.ONE, 0);
	}

	private static BigDecimal series(BigDecimal x, BigDecimal first, int firstPower) {
		BigDecimal sum = first;
		BigDecimal term = first;
		BigDecimal xx = x.multiply(x, PRECISION);
		for (int n = firstPower + 2; term.signum() != 0 && term.abs().compareTo(BigDecimal.ONE.movePointLeft(79)) > 0;
				n += 2) {
			term = term.multiply(xx, PRECISION).divide(BigDecimal.valueOf((long) n * (n - 1)), PRECISION).negate();
			sum = sum.add(term, PRECISION);
		}
		return sum;
	}

	/** pi by Machin's formula: 16 atan(1/5) - 4 atan(1/239). */
	private static BigDecimal pi(MathContext mc) {
		return arctanOfInverse(5, mc).multiply(BigDecimal.valueOf(16))
			.subtract(arctanOfInverse(239, mc).multiply(BigDecimal.valueOf(4)), mc);
	}

	private static BigDecimal arctanOfInverse(int n, MathContext mc) {
		BigDecimal x = BigDecimal.ONE.divide(BigDecimal.valueOf(n), mc);
		BigDecimal xx = x.multiply(x, mc);
		BigDecimal power = x;
		BigDecimal sum = x;
		BigDecimal epsilon = BigDecimal.ONE.movePointLeft(mc.getPrecision() + 5);
		for (int k = 3; power.compareTo(epsilon) > 0; k += 2) {
			power = power.multiply(xx, mc);
			BigDecimal term = power.divide(BigDecimal.valueOf(k), mc);
			sum = ((k / 2) % 2 == 1) ? sum.subtract(term, mc) : sum.add(term, mc);
		}
		return sum;
	}

	private static List<String[]> read() {
		List<String[]> lines = new ArrayList<>();
		for (String line : lines()) {
			if (!line.startsWith("#") && !line.isBlank()) {
				lines.add(line.trim().split("\\s+"));
			}
		}
		return lines;
	}

	private static List<String> comments() {
		return lines().stream().filter((line) -> line.startsWith("#")).toList();
	}

	private static List<String> lines() {
		try (InputStream in = GlibcCosTest.class.getClassLoader().getResourceAsStream("cos/glibc-cos.txt")) {
			assertThat(in).as("cos/glibc-cos.txt on the test classpath").isNotNull();
			return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
