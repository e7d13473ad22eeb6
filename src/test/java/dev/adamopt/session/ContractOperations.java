package dev.adamopt.session;

import java.io.Serializable;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.adamopt.tensor.Tensor;

/**
 * Operations the contract tests hand to a store beside the service's own: values that capture nothing of a test, so
 * that a cluster can send them to the member that holds the session (Java serialization). What a test watches
 * (a flag, latches) is found by name in this JVM, where the tests' members live too.
 */
final class ContractOperations {

	private static final long WAIT_SECONDS = 60;

	private static final Map<String, Object> SHARED = new ConcurrentHashMap<>();

	private ContractOperations() {
	}

	static SessionOperation<String> id() {
		return new Id();
	}

	static SessionOperation<String> owner() {
		return new Owner();
	}

	static SessionOperation<SessionStore.Key> key() {
		return new KeyOf();
	}

	/** Sets {@code ran} when it runs; answers whether it was set before. */
	static SessionOperation<Boolean> flag(AtomicBoolean ran) {
		return new Flag(share(ran));
	}

	/** Throws an IllegalStateException with this message. */
	static SessionOperation<Boolean> failing(String message) {
		return new Failing(message);
	}

	/**
	 * Counts {@code entered} down, waits for {@code release}, then steps with the gradient 0.25 on {@code w} at
	 * {@code now}.
	 */
	static SessionOperation<StepResult> blockingStep(CountDownLatch entered, CountDownLatch release, Instant now) {
		return new BlockingStep(share(entered), share(release), now);
	}

	private static String share(Object watched) {
		String name = UUID.randomUUID().toString();
		SHARED.put(name, watched);
		return name;
	}

	private record Id() implements SessionOperation<String>, Serializable {

		@Override
		public String apply(OptimizerSession session) {
			return session.id();
		}

		@Override
		public boolean changes() {
			return false;
		}

	}

	private record Owner() implements SessionOperation<String>, Serializable {

		@Override
		public String apply(OptimizerSession session) {
			return session.owner();
		}

		@Override
		public boolean changes() {
			return false;
		}

	}

	private record KeyOf() implements SessionOperation<SessionStore.Key>, Serializable {

		@Override
		public SessionStore.Key apply(OptimizerSession session) {
			return session.key();
		}

		@Override
		public boolean changes() {
			return false;
		}

	}

	private record Flag(String name) implements SessionOperation<Boolean>, Serializable {

		@Override
		public Boolean apply(OptimizerSession session) {
			return ((AtomicBoolean) SHARED.get(this.name)).getAndSet(true);
		}

	}

	private record Failing(String message) implements SessionOperation<Boolean>, Serializable {

		@Override
		public Boolean apply(OptimizerSession session) {
			throw new IllegalStateException(this.message);
		}

		@Override
		public boolean changes() {
			return false;
		}

	}

	private record BlockingStep(String entered, String release, Instant now)
			implements SessionOperation<StepResult>, Serializable {

		@Override
		public StepResult apply(OptimizerSession session) {
			((CountDownLatch) SHARED.get(this.entered)).countDown();
			try {
				if (!((CountDownLatch) SHARED.get(this.release)).await(WAIT_SECONDS, TimeUnit.SECONDS)) {
					throw new IllegalStateException("not released within " + WAIT_SECONDS + " s");
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
			return session.step(null, Map.of("dw", Tensor.ofFloat64(new int[] { 1 }, new double[] { 0.25 })), null,
					null, this.now);
		}

	}

}
