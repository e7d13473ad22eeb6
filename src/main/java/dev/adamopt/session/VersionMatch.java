package dev.adamopt.session;

import java.util.Arrays;
import java.util.function.LongPredicate;

/**
 * What an {@code If-Match} precondition accepts, as a value a store can send where the session lives: any version
 * ({@code *}), or one of the listed versions (none: it matches nothing).
 */
public final class VersionMatch implements LongPredicate {

	private static final VersionMatch ANY = new VersionMatch(true, new long[0]);

	private final boolean any;

	private final long[] versions;

	private VersionMatch(boolean any, long[] versions) {
		this.any = any;
		this.versions = versions;
	}

	/** Matches every version of an existing session ({@code If-Match: *}). */
	public static VersionMatch any() {
		return ANY;
	}

	/** Matches these versions only (none given: no version). */
	public static VersionMatch oneOf(long... versions) {
		return new VersionMatch(false, versions.clone());
	}

	public boolean matchesAny() {
		return this.any;
	}

	/** The versions it accepts unless it {@link #matchesAny()}; a copy. */
	public long[] versions() {
		return this.versions.clone();
	}

	@Override
	public boolean test(long version) {
		if (this.any) {
			return true;
		}
		for (long v : this.versions) {
			if (v == version) {
				return true;
			}
		}
		return false;
	}

	@Override
	public boolean equals(Object other) {
		return other instanceof VersionMatch that && this.any == that.any && Arrays.equals(this.versions, that.versions);
	}

	@Override
	public int hashCode() {
		return 31 * Boolean.hashCode(this.any) + Arrays.hashCode(this.versions);
	}

	@Override
	public String toString() {
		return this.any ? "*" : Arrays.toString(this.versions);
	}

}
