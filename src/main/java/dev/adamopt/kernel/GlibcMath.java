package dev.adamopt.kernel;

/**
 * Public access to the kernel's glibc port for other packages: the learning-rate schedules compute Python's
 * {@code gamma ** n} with it.
 */
public final class GlibcMath {

	private GlibcMath() {
	}

	/** C's {@code pow(x, y)} from glibc 2.36 on x86_64 with FMA, bit for bit ({@link GlibcPow#pow}). */
	public static double pow(double x, double y) {
		return GlibcPow.pow(x, y);
	}

}
