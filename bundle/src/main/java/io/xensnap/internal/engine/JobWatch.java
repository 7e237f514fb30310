package io.xensnap.internal.engine;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.qmp.BlockJobs;
import io.xensnap.internal.qmp.JobProgress;
import io.xensnap.internal.qmp.QmpException;

/**
 * Follows block jobs that QEMU runs unattended, without keeping QEMU or any of libxl's locks: each look is a session
 * of its own (libxl's qmp-socket-lock, connect, {@code query-jobs}, close, unlock), so xl and libxl get QEMU between
 * two looks. The pause between looks is a twentieth of the time waited so far (at least 20 ms, at most
 * {@code longest}): a job is seen ready at most about 5% after it got there, so a short merge is not slowed by the
 * watch, and a long one costs a look a second.
 */
public final class JobWatch {

    private static final long SHORTEST = Duration.ofMillis(20).toNanos();

    private final Peers peers;
    private final int domid;
    private final String uuid;
    private final Duration longest;

    /** @param longest the longest pause between two looks; progress reaches the console and JMX at least this often */
    public JobWatch(Peers peers, int domid, String uuid, Duration longest) {
        this.peers = Objects.requireNonNull(peers, "peers");
        this.domid = domid;
        this.uuid = Objects.requireNonNull(uuid, "uuid");
        this.longest = Objects.requireNonNull(longest, "longest");
    }

    /**
     * Looks at the jobs {@code ids} until {@code done} holds for what QEMU shows of them (a job QEMU no longer lists is
     * absent from the map).
     *
     * @param deadline {@link System#nanoTime()} by which {@code done} must hold
     * @param changed  told every reading of a job that differs from its last one
     * @return the last reading
     * @throws QmpException         {@code TIMEOUT} when the deadline passed first; the jobs keep running
     * @throws LibxlConfigException LOCK_TIMEOUT when the qmp-socket-lock could not be had for one look
     */
    public Map<String, JobProgress> until(Collection<String> ids, long deadline,
            Predicate<Map<String, JobProgress>> done, Consumer<JobProgress> changed)
            throws QmpException, LibxlConfigException {
        Map<String, JobProgress> last = new LinkedHashMap<>();
        long started = System.nanoTime();
        while (true) {
            Map<String, JobProgress> now = look(ids);
            for (JobProgress p : now.values()) {
                if (!p.equals(last.get(p.jobId()))) {
                    changed.accept(p);
                }
            }
            last = now;
            if (done.test(now)) {
                return now;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw QmpException.of(QmpException.Kind.TIMEOUT, "dom" + domid, "jobs " + now.values()
                        + " did not get there in time; they keep running until cancelled");
            }
            long pause = Math.min(longest.toNanos(), Math.max(SHORTEST, (System.nanoTime() - started) / 20));
            sleep(Math.min(left, pause));
        }
    }

    /** One short session: the lock, connect, {@code query-jobs}, close, unlock. */
    private Map<String, JobProgress> look(Collection<String> ids) throws QmpException, LibxlConfigException {
        Map<String, JobProgress> all;
        try (QmpSession s = QmpSession.open(peers, domid, uuid)) {
            all = new BlockJobs(s.qmp(), Duration.ZERO, Duration.ZERO).all();
        }
        Map<String, JobProgress> out = new LinkedHashMap<>();
        for (String id : ids) {
            Optional.ofNullable(all.get(id)).ifPresent(p -> out.put(id, p));
        }
        return out;
    }

    private void sleep(long nanos) throws QmpException {
        try {
            Thread.sleep(Duration.ofNanos(nanos).toMillis(), (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw QmpException.of(QmpException.Kind.TIMEOUT, "dom" + domid, "interrupted while waiting for jobs "
                    + "; they keep running", e);
        }
    }

    /** @return whether QEMU is still moving {@code job} towards ready or its end by itself */
    public static boolean moving(JobProgress job) {
        return switch (job.status()) {
            case "ready", "concluded", "null", "paused", "standby" -> false;
            default -> true;
        };
    }
}
