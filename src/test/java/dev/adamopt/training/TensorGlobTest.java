package dev.adamopt.training;

import java.time.Duration;
import java.util.Random;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class TensorGlobTest {

	@Test
	void starShouldMatchAnyRunOfCharactersIncludingDotsAndNone() {
		assertThat(TensorGlob.matches("*.bias", "layer1.bias")).isTrue();
		assertThat(TensorGlob.matches("*.bias", "encoder.layer.0.bias")).isTrue();
		assertThat(TensorGlob.matches("*.bias", ".bias")).isTrue();
		assertThat(TensorGlob.matches("*.bias", "bias")).isFalse();
		assertThat(TensorGlob.matches("*.bias", "layer1.bias2")).isFalse();
		assertThat(TensorGlob.matches("norm*", "norm")).isTrue();
		assertThat(TensorGlob.matches("norm*", "norm1.weight")).isTrue();
		assertThat(TensorGlob.matches("norm*", "layer.norm")).isFalse();
		assertThat(TensorGlob.matches("norm*", "Norm1")).as("case matters").isFalse();
		assertThat(TensorGlob.matches("a*b*c", "aXbYc")).isTrue();
		assertThat(TensorGlob.matches("a*b*c", "abcbc")).isTrue();
		assertThat(TensorGlob.matches("a*b*c", "acb")).isFalse();
	}

	@Test
	void questionMarkShouldMatchExactlyOneCharacter() {
		assertThat(TensorGlob.matches("layer?.weight", "layer1.weight")).isTrue();
		assertThat(TensorGlob.matches("layer?.weight", "layer..weight")).isTrue();
		assertThat(TensorGlob.matches("layer?.weight", "layer.weight")).isFalse();
		assertThat(TensorGlob.matches("layer?.weight", "layer12.weight")).isFalse();
		assertThat(TensorGlob.matches("?", "")).isFalse();
		assertThat(TensorGlob.matches("?", "\uD83D\uDE00")).as("one character outside the BMP").isTrue();
		assertThat(TensorGlob.matches("??", "\uD83D\uDE00")).isFalse();
		assertThat(TensorGlob.matches("*?", "\uD83D\uDE00")).isTrue();
	}

	@Test
	void starsAndTheEmptyGlobShouldMatchWholeNamesOnly() {
		assertThat(TensorGlob.matches("**", "")).isTrue();
		assertThat(TensorGlob.matches("**", "any.name.at.all")).isTrue();
		assertThat(TensorGlob.matches("*", "")).isTrue();
		assertThat(TensorGlob.matches("", "")).isTrue();
		assertThat(TensorGlob.matches("", "W1")).isFalse();
		assertThat(TensorGlob.matches("W1", "W1")).isTrue();
		assertThat(TensorGlob.matches("W1", "W12")).isFalse();
		assertThat(TensorGlob.matches("W1", "xW1")).isFalse();
	}

	@Test
	void everyOtherCharacterShouldBeLiteralIncludingRegexMetacharacters() {
		assertThat(TensorGlob.matches("a+b(c)", "a+b(c)")).isTrue();
		assertThat(TensorGlob.matches("a+b(c)", "aab(c)")).isFalse();
		assertThat(TensorGlob.matches("a+b(c)", "abc")).isFalse();
		assertThat(TensorGlob.matches("[ab]", "[ab]")).as("no character classes").isTrue();
		assertThat(TensorGlob.matches("[ab]", "a")).isFalse();
		assertThat(TensorGlob.matches("x.y", "xzy")).as("a dot is a dot").isFalse();
		assertThat(TensorGlob.matches("^w$|\\d{2}", "^w$|\\d{2}")).isTrue();
	}

	@Test
	void matchingShouldAgreeWithAnEquivalentRegularExpressionOnRandomGlobsAndNames() {
		Random random = new Random(20261125);
		String globAlphabet = "ab.*?";
		String nameAlphabet = "ab.";
		int matched = 0;
		for (int i = 0; i < 20_000; i++) {
			String glob = randomString(random, globAlphabet, 7);
			String name = randomString(random, nameAlphabet, 9);
			boolean expected = regex(glob).matcher(name).matches();
			assertThat(TensorGlob.matches(glob, name)).as("glob '%s', name '%s'", glob, name).isEqualTo(expected);
			matched += expected ? 1 : 0;
		}
		assertThat(matched).as("both outcomes occur").isBetween(500, 19_500);
	}

	@Test
	void aPathologicalGlobShouldTakeTimeProportionalToGlobTimesNameLength() {
		String name = "a".repeat(20_000);
		assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
			assertThat(TensorGlob.matches("*a*a*a*a*a*a*a*a*a*a*b", name)).isFalse();
			assertThat(TensorGlob.matches("*a*a*a*a*a*a*a*a*a*a*", name)).isTrue();
		});
	}

	private static String randomString(Random random, String alphabet, int maxLength) {
		StringBuilder text = new StringBuilder();
		int length = random.nextInt(maxLength + 1);
		for (int i = 0; i < length; i++) {
			text.append(alphabet.charAt(random.nextInt(alphabet.length())));
		}
		return text.toString();
	}

	private static Pattern regex(String glob) {
		StringBuilder regex = new StringBuilder();
		for (char c : glob.toCharArray()) {
			switch (c) {
				case '*' -> regex.append(".*");
				case '?' -> regex.append('.');
				default -> regex.append(Pattern.quote(String.valueOf(c)));
			}
		}
		return Pattern.compile(regex.toString(), Pattern.DOTALL);
	}

}
