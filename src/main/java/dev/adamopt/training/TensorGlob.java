package dev.adamopt.training;

/**
 * Tensor-name globs for parameter groups: {@code *} matches any run of characters (none included, {@code .}
 * included), {@code ?} exactly one character (one code point, so a character outside the BMP counts once), every
 * other character itself; the glob must match the whole name. Like Python's {@code fnmatch.fnmatchcase} without
 * character classes ({@code [} is a literal here), and no regular expression: {@code "a+b(c)"} matches exactly the
 * name {@code a+b(c)}.
 * <p>
 * Greedy matching with one backtrack point (the last {@code *} seen): O(glob length × name length) in the worst
 * case, no recursion, no allocation.
 */
public final class TensorGlob {

	private TensorGlob() {
	}

	/**
	 * Whether {@code glob} matches the whole of {@code name}.
	 * @throws NullPointerException if either is null
	 */
	public static boolean matches(String glob, String name) {
		int g = 0;
		int n = 0;
		int starGlob = -1; // the position after the last '*' seen
		int starName = 0; // where that '*' currently stops matching in the name
		while (n < name.length()) {
			int c = name.codePointAt(n);
			int p = (g < glob.length()) ? glob.codePointAt(g) : -1;
			if (p == '*') {
				starGlob = ++g;
				starName = n;
			}
			else if (p == '?' || p == c) {
				g += Character.charCount(p);
				n += Character.charCount(c);
			}
			else if (starGlob >= 0) {
				// Let the last '*' take one more character and retry the rest of the glob from there.
				starName += Character.charCount(name.codePointAt(starName));
				g = starGlob;
				n = starName;
			}
			else {
				return false;
			}
		}
		while (g < glob.length() && glob.charAt(g) == '*') {
			g++;
		}
		return g == glob.length();
	}

}
