package dev.adamopt.kernel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link GlibcPow} against glibc's own results (Python's {@code **}), bit for bit, and {@link AdamKernel#power} with it
 * where the exponent is a step count. The vectors and how they were made are in
 * {@code src/test/resources/pow/README.md}.
 */
class GlibcPowTest {

	@Test
	void powerShouldMatchGlibcWhereGlibcIsNotCorrectlyRounded() {
		List<String[]> lines = read("glibc-not-correctly-rounded.txt");
		assertThat(lines).as("every such pair of the README's grid").hasSize(144);
		List<String> mismatches = new ArrayList<>();
		for (String[] line : lines) {
			double glibc = parse(line[2]);
			double correctlyRounded = parse(line[3]);
			assertThat(glibc).as("the file's own claim, %s", String.join(" ", line)).isNotEqualTo(correctlyRounded);
			check(line, glibc, true, mismatches);
		}
		assertThat(mismatches).isEmpty();
	}

	@Test
	void powerShouldMatchGlibcOnASampleOfBiasCorrections() {
		assertMatchesEveryLine("glibc-sample.txt", 2326, true);
	}

	@Test
	void powShouldMatchGlibcOnSpecialAndRandomInputs() {
		assertMatchesEveryLine("glibc-special-inputs.txt", 1589, false);
	}

	@Test
	void powerShouldMatchPythonWhereCorrectRoundingDoesNot() {
		// python3 -c "print(repr(0.9999**494))"; correctly rounded: 0.9517979823103042.
		assertThat(GlibcPow.pow(0.9999, 494)).isEqualTo(0.9517979823103041);
		assertThat(AdamKernel.power(0.9999, 494)).isEqualTo(0.9517979823103041);
		// 0.75^34 = 3^34 / 2^68 is an exact tie; glibc rounds it up, away from the even neighbour ...944p-15.
		assertThat(GlibcPow.pow(0.75, 34)).isEqualTo(0x1.d9fe779881945p-15);
		assertThat(AdamKernel.power(0.75, 34)).isEqualTo(0x1.d9fe779881945p-15);
	}

	private static void assertMatchesEveryLine(String file, int expectedLines, boolean stepCounts) {
		List<String[]> lines = read(file);
		assertThat(lines).hasSize(expectedLines);
		List<String> mismatches = new ArrayList<>();
		for (String[] line : lines) {
			check(line, parse(line[2]), stepCounts, mismatches);
		}
		assertThat(mismatches).isEmpty();
	}

	/** Compares bits (any NaN matches NaN); with stepCounts, y is a step count and power must agree too. */
	private static void check(String[] line, double glibc, boolean stepCounts, List<String> mismatches) {
		double x = parse(line[0]);
		double y = parse(line[1]);
		double actual = GlibcPow.pow(x, y);
		if (!sameBits(actual, glibc)) {
			mismatches.add("pow " + String.join(" ", line) + " -> " + Double.toHexString(actual));
		}
		if (stepCounts) {
			double power = AdamKernel.power(x, (long) y);
			if (!sameBits(power, glibc)) {
				mismatches.add("power " + String.join(" ", line) + " -> " + Double.toHexString(power));
			}
		}
	}

	private static boolean sameBits(double actual, double expected) {
		return Double.isNaN(expected) ? Double.isNaN(actual)
				: Double.doubleToRawLongBits(actual) == Double.doubleToRawLongBits(expected);
	}

	private static double parse(String number) {
		return Double.parseDouble(number);
	}

	private static List<String[]> read(String file) {
		List<String[]> lines = new ArrayList<>();
		try (InputStream in = GlibcPowTest.class.getResourceAsStream("/pow/" + file)) {
			assertThat(in).as(file).isNotNull();
			BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
			for (String line = reader.readLine(); line != null; line = reader.readLine()) {
				if (!line.isBlank() && !line.startsWith("#")) {
					lines.add(line.trim().split(" "));
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return lines;
	}

}
