package io.xensnap.internal.engine.reconcile;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.JobWatch;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.QmpSession;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.qmp.BlockJobs;
import io.xensnap.internal.qmp.JobProgress;
import io.xensnap.internal.qmp.QmpException;

/**
 * Before reconcile takes libxl's locks for a pending delete, it waits for the merge jobs that delete left running in
 * QEMU to become ready (or to end), looking in short sessions, so that xl keeps the domain's QEMU and config meanwhile.
 * A job that is still running when the job timeout has passed is found again inside the critical section and reported
 * there, without another wait.
 * <p>
 * A job found running is first given the merge speed configured now: the xensnap that started it may have run with
 * another one (an operator who finds a merge too slow or too greedy changes {@code merge.speed}, and the next
 * reconcile applies it).
 */
final class MergeWait {

    private static final Logger LOG = LoggerFactory.getLogger(MergeWait.class);
    private static final Duration LONGEST_LOOK = Duration.ofSeconds(1);

    private final Peers peers;
    private final int domid;
    private final String uuid;
    private final long speed;
    private final JobWatch watch;

    /** @param speed the merge speed configured now, bytes a second; 0 for unlimited */
    MergeWait(Peers peers, int domid, String uuid, long speed) {
        this.peers = peers;
        this.domid = domid;
        this.uuid = uuid;
        this.speed = speed;
        this.watch = new JobWatch(peers, domid, uuid, LONGEST_LOOK);
    }

    /**
     * @param deadline {@link System#nanoTime()} after which waiting is pointless
     * @throws QmpException         when QEMU cannot be asked (not when the time ran out)
     * @throws LibxlConfigException LOCK_TIMEOUT when the qmp-socket-lock could not be had for one look
     */
    void await(DomainCatalog catalog, long deadline) throws QmpException, LibxlConfigException {
        if (catalog.pending().filter(p -> p.kind() == PendingOperation.Kind.DELETE).isEmpty()) {
            return;
        }
        PendingOperation p = catalog.pending().get();
        List<String> ids = p.disks().stream().filter(d -> d.kind() == SnapshotKind.EXTERNAL)
                .map(d -> p.mergeJob(d.vdev())).toList();
        if (ids.isEmpty()) {
            return;
        }
        adopt(ids);
        try {
            watch.until(ids, deadline, now -> now.values().stream().noneMatch(JobWatch::moving),
                    j -> LOG.debug("[{}] reconcile: merge job {}", catalog.uuid(), j));
        } catch (QmpException e) {
            if (e.kind() != QmpException.Kind.TIMEOUT) {
                throw e;
            }
            // the critical section finds the job still running and reports it
        }
    }

    /** One short session: the jobs of {@code ids} that QEMU still moves get the configured speed. */
    private void adopt(List<String> ids) throws QmpException, LibxlConfigException {
        try (QmpSession s = QmpSession.open(peers, domid, uuid)) {
            BlockJobs jobs = new BlockJobs(s.qmp(), Duration.ZERO, Duration.ZERO);
            Map<String, JobProgress> all = jobs.all();
            for (String id : ids) {
                JobProgress p = all.get(id);
                if (p != null && JobWatch.moving(p)) {
                    jobs.setSpeed(id, speed);
                    LOG.info("[{}] reconcile: merge job {} found {} at {} of {} bytes; its speed is now {}", uuid,
                            id, p.status(), p.current(), p.total(), speed == 0 ? "unlimited" : speed + " bytes/s");
                }
            }
        }
    }
}
