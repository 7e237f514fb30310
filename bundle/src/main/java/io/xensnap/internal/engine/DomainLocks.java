package io.xensnap.internal.engine;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;

/**
 * One operation per domain at a time in this process; different domains run in parallel. A caller that cannot get
 * the domain within the wait gets {@link SnapshotError#BUSY} instead of queueing forever.
 */
public final class DomainLocks {

    private final ConcurrentHashMap<String, ReentrantLock> locks;
    private final Duration wait;

    public DomainLocks(Duration wait) {
        this(new ConcurrentHashMap<>(), wait);
    }

    private DomainLocks(ConcurrentHashMap<String, ReentrantLock> locks, Duration wait) {
        this.locks = locks;
        this.wait = wait;
    }

    /**
     * @return locks over the same domains that wait {@code wait} instead: an engine re-created for a new
     *         configuration must still exclude the operations its predecessor is finishing
     */
    public DomainLocks withWait(Duration wait) {
        return new DomainLocks(locks, wait);
    }

    /** A held domain lock; closing it releases the domain. */
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * @param domainKey the domain's uuid
     * @throws SnapshotException {@code BUSY} when another operation holds the domain for longer than the wait
     */
    public Held acquire(String domainKey) throws SnapshotException {
        // fair: under contention requests are served in arrival order, none starves
        ReentrantLock lock = locks.computeIfAbsent(domainKey, k -> new ReentrantLock(true));
        boolean got;
        try {
            got = lock.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SnapshotException(SnapshotError.BUSY, "interrupted while waiting for domain " + domainKey, e);
        }
        if (!got) {
            throw new SnapshotException(SnapshotError.BUSY, "another snapshot operation on domain " + domainKey
                    + " is still running after " + wait.toMillis() + " ms; try again later");
        }
        return lock::unlock;
    }
}
