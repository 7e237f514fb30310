package io.xensnap.internal.engine.reconcile;

import java.time.Duration;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.JobWatch;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.qmp.QmpException;

/**
 * Before reconcile takes libxl's locks for a pending delete, it waits for the merge jobs that delete left running in
 * QEMU to become ready (or to end), looking in short sessions, so that xl keeps the domain's QEMU and config meanwhile.
 * A job that is still running when the job timeout has passed is found again inside the critical section and reported
 * there, without another wait.
 */
final class MergeWait {

    private static final Logger LOG = LoggerFactory.getLogger(MergeWait.class);
    private static final Duration LONGEST_LOOK = Duration.ofSeconds(1);

    private final JobWatch watch;

    MergeWait(io.xensnap.internal.engine.Peers peers, int domid, String uuid) {
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
}
