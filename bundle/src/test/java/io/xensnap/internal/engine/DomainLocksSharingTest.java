package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;

class DomainLocksSharingTest {

    @Test
    void locksWithAnotherWaitExcludeTheSameDomains() throws Exception {
        DomainLocks old = new DomainLocks(Duration.ofSeconds(5));
        DomainLocks renewed = old.withWait(Duration.ofMillis(100));

        // held by another thread, as by an operation of the engine being replaced; a lock is released by its owner
        ExecutorService owner = Executors.newSingleThreadExecutor();
        try {
            DomainLocks.Held held = owner.submit(() -> old.acquire("dom-a")).get(5, TimeUnit.SECONDS);

            SnapshotException busy = catchThrowableOfType(SnapshotException.class, () -> renewed.acquire("dom-a"));
            assertThat(busy.code()).isEqualTo(SnapshotError.BUSY);
            assertThat(busy.getMessage()).contains("after 100 ms");
            try (DomainLocks.Held other = renewed.acquire("dom-b")) {
                assertThat(other).isNotNull();
            }

            owner.submit(held::close).get(5, TimeUnit.SECONDS);
            try (DomainLocks.Held again = renewed.acquire("dom-a")) {
                assertThat(again).isNotNull();
            }
        } finally {
            owner.shutdownNow();
        }
    }
}
