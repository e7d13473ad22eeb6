package dev.adamopt.memory;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class MemoryBudgetTest {

	@Test
	void anUncheckedViewShouldCountInItsParentAndNeverRefuseEvenBeyondTheLimit() {
		MemoryBudget service = new MemoryBudget(1000);
		MemoryBudget copies = service.unchecked();
		copies.reserve(600, "a backup");
		copies.reserve(600, "another backup");
		assertThat(service.used()).isEqualTo(1200);
		assertThat(service.free()).isEqualTo(-200);
		assertThat(copies.used()).isEqualTo(1200);
		// what the copies take leaves less for the checked budget, which refuses and reserves nothing
		MemoryBudgetExceededException refused = catchThrowableOfType(MemoryBudgetExceededException.class,
				() -> service.reserve(1, "a new session"));
		assertThat(refused.free()).isEqualTo(-200);
		assertThat(refused.getMessage()).contains("a new session", "the service's 1000 bytes of session memory");
		assertThat(service.used()).isEqualTo(1200);
	}

	@Test
	void aReleaseThroughAnUncheckedViewShouldGiveBackToTheViewAndToItsParent() {
		MemoryBudget service = new MemoryBudget(1000);
		MemoryBudget copies = service.unchecked();
		service.reserve(300, "a session");
		copies.reserve(900, "a backup");
		copies.release(900);
		assertThat(copies.used()).isZero();
		assertThat(service.used()).isEqualTo(300);
		// the freed bytes are the checked budget's again
		service.reserve(700, "a new session");
		assertThat(service.free()).isZero();
	}

	@Test
	void anUncheckedViewOfAKeysQuotaShouldCountInTheQuotaAndTheServiceAlike() {
		MemoryBudget service = new MemoryBudget(1000);
		MemoryBudget quota = service.within(100, "the 100 bytes of API key 'a'");
		MemoryBudget copies = quota.unchecked();
		copies.reserve(250, "a backup");
		assertThat(quota.used()).isEqualTo(250);
		assertThat(service.used()).isEqualTo(250);
		assertThat(catchThrowableOfType(MemoryBudgetExceededException.class, () -> quota.reserve(1, "a step"))
			.getMessage()).contains("API key 'a'");
		copies.release(250);
		assertThat(quota.used()).isZero();
		assertThat(service.used()).isZero();
	}

}
