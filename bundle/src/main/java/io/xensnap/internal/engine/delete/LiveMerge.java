package io.xensnap.internal.engine.delete;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.DomainView;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.JobWatch;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.engine.QmpSession;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.libxl.UserdataLock;
import io.xensnap.internal.qmp.BlockDevice;
import io.xensnap.internal.qmp.BlockJobs;
import io.xensnap.internal.qmp.InternalSnapshots;
import io.xensnap.internal.qmp.JobProgress;
import io.xensnap.internal.qmp.QmpException;

/**
 * The delete of a snapshot with external disks while the domain runs, as libvirt runs a merge: QEMU does the long part
 * unattended, and libxl's locks are held only around the two short moments that need them.
 *
 * <ol>
 *   <li>Start, in one short critical section (device-changes lock, QMP session, userdata lock, in libxl's order): the
 *       catalog's pending mark, each internal snapshot deleted, each overlay's {@code block-commit} started under the
 *       job id the mark names. Then everything is released.</li>
 *   <li>Wait, holding nothing of libxl's: short sessions ({@link JobWatch}) read the jobs' progress until every job
 *       is {@code ready} (or ended). xl can use the domain's QEMU and config meanwhile.</li>
 *   <li>Pivot, in one short critical section in the same order: {@code block-job-complete} of every job and the wait
 *       for it to end, then libxl's config and xenstore, the overlay files, the catalog last.</li>
 * </ol>
 *
 * <p>An older snapshot's disk ({@link OlderMerge}) gets an intermediate {@code block-commit} instead, which ends by
 * itself rather than becoming ready; the pivot only dismisses it and leaves libxl's config and xenstore alone.
 *
 * <p>xensnap's own lock of the domain stays held for the whole delete: it only keeps xensnap's other operations on
 * this domain out, never libxl. The job timeout bounds the whole merge, start to catalog.
 */
final class LiveMerge {

    private static final Logger LOG = LoggerFactory.getLogger(LiveMerge.class);
    /** Progress reaches the console and JMX at least this often while a merge runs. */
    private static final Duration LONGEST_LOOK = Duration.ofSeconds(1);

    private final DeleteSteps steps;
    private final Duration jobTimeout;
    private final long speed;
    private final EngineHooks hooks;

    LiveMerge(DeleteSteps steps, Duration jobTimeout, long speed, EngineHooks hooks) {
        this.steps = steps;
        this.jobTimeout = jobTimeout;
        this.speed = speed;
        this.hooks = hooks;
    }

    /** @return every disk's image once the delete is done */
    List<DiskImage> run(DomainView domain, DomainCatalog catalog, SnapshotInfo snap, Map<String, DiskSnapshot> older,
            Progress progress) throws SnapshotException {
        long deadline = System.nanoTime() + jobTimeout.toNanos();
        DomainCatalog marked = start(domain, catalog, snap, older, progress);
        Map<String, DiskSnapshot> jobs = new LinkedHashMap<>();
        for (DiskSnapshot d : snap.disks()) {
            if (d.kind() == SnapshotKind.EXTERNAL) {
                jobs.put(marked.pending().orElseThrow().mergeJob(d.vdev()), d);
            }
        }
        Map<String, JobProgress> seen;
        try {
            seen = new JobWatch(steps.peers(), domain.domid().getAsInt(), domain.uuid(), LONGEST_LOOK).until(
                    jobs.keySet(), deadline, now -> jobs.keySet().stream()
                            .allMatch(id -> !now.containsKey(id) || !JobWatch.moving(now.get(id))),
                    p -> reported(domain, snap, jobs.get(p.jobId()), p, progress));
        } catch (QmpException e) {
            throw Errors.qmp(domain.label() + ": delete of " + snap.name() + ": the merge", e);
        } catch (LibxlConfigException e) {
            throw Errors.libxl(domain.label() + ": delete of " + snap.name() + ", while its merge runs in QEMU", e);
        }
        return pivot(domain, marked, snap, older, new Jobs(jobs, seen, deadline), progress);
    }

    /**
     * The first critical section: the pending mark, then every disk begun (internal snapshots deleted, merges
     * started). A refusal found in QEMU before anything changed takes the mark back.
     */
    private DomainCatalog start(DomainView domain, DomainCatalog catalog, SnapshotInfo snap,
            Map<String, DiskSnapshot> older, Progress progress) throws SnapshotException {
        // libxl's lock order: device changes, QMP socket, domain userdata (docs/xen-host.md, "Lock order"). The
        // userdata lock is taken here too, although nothing changes the config yet: a lock that cannot be had must
        // refuse the delete while nothing has happened.
        try (UserdataLock deviceChanges = steps.deviceChangesLock(domain);
             QmpSession session = steps.connect(domain);
             DomainConfigStore.Session libxl = steps.hold(domain)) {
            boolean existed = steps.exists(catalog);
            DomainCatalog marked = steps.mark(catalog, snap.name());
            EngineHooks.call(() -> hooks.beforeMerge(catalog.uuid(), snap.name()));
            try {
                List<BlockDevice> found = Delete.matchChains(session.qmp(), domain.label(), snap, older);
                // POINT OF NO RETURN: from the first deleted internal snapshot or started merge on, going back is not
                // possible; the pending mark in the catalog tells reconcile where we were.
                List<DiskSnapshot> started = new ArrayList<>();
                BlockJobs jobs = new BlockJobs(session.qmp(), jobTimeout, Duration.ofMillis(200)).withSpeed(speed);
                for (int i = 0; i < snap.disks().size(); i++) {
                    DiskSnapshot d = snap.disks().get(i);
                    BlockDevice bd = found.get(i);
                    steps.begin(marked, started, d);
                    if (d.kind() == SnapshotKind.INTERNAL) {
                        new InternalSnapshots(session.qmp()).delete(bd.target(), snap.name());
                        progress.report(d.vdev() + " snapshot deleted", i + 1, snap.disks().size(),
                                Progress.Unit.DISKS);
                    } else {
                        OlderMerge.startMerge(jobs, marked.pending().orElseThrow().mergeJob(d.vdev()), bd, d,
                                older.get(d.vdev()));
                    }
                }
            } catch (QmpException e) {
                throw Errors.qmp(domain.label() + ": delete of " + snap.name(), e);
            } catch (SnapshotException e) {
                steps.takeBackWhenNothingChanged(catalog, existed, e);
                throw e;
            }
            return marked;
        }
    }

    /** The merge jobs by id, as last seen while waiting, and the deadline of the whole merge. */
    private record Jobs(Map<String, DiskSnapshot> byId, Map<String, JobProgress> seen, long deadline) {
    }

    /**
     * The second critical section: every job completed (QEMU switches a disk that ran on the overlay to the frozen
     * image) or, for a small merge, ended, and gone; then libxl's config and xenstore of the disks that switched, the
     * overlay files and the catalog.
     */
    private List<DiskImage> pivot(DomainView domain, DomainCatalog marked, SnapshotInfo snap,
            Map<String, DiskSnapshot> older, Jobs jobs, Progress progress) throws SnapshotException {
        String label = domain.label();
        refuseStuck(label, snap, jobs.byId(), jobs.seen());
        try (UserdataLock deviceChanges = steps.deviceChangesLock(domain);
             QmpSession session = steps.connect(domain);
             DomainConfigStore.Session libxl = steps.hold(domain)) {
            Duration left = Duration.ofNanos(Math.max(1, jobs.deadline() - System.nanoTime()));
            BlockJobs api = new BlockJobs(session.qmp(), left, Duration.ofMillis(50));
            List<DiskImage> after = Delete.current(domain);
            List<LibxlDisk> libxlDisks = new ArrayList<>();
            int done = snap.disks().size() - jobs.byId().size();
            for (Map.Entry<String, DiskSnapshot> e : jobs.byId().entrySet()) {
                DiskSnapshot d = e.getValue();
                api.settle(e.getKey(), p -> reported(domain, snap, d, p, progress));
                progress.report(d.vdev() + " merged", ++done, snap.disks().size(), Progress.Unit.DISKS);
                if (older.containsKey(d.vdev())) {
                    // the disk still runs on its top: libxl's config and xenstore stay as they are
                    continue;
                }
                libxlDisks.add(new LibxlDisk(d.vdev(), d.image().toString(),
                        LibxlDiskFormat.valueOf(d.format().name())));
                Delete.replace(after, new DiskImage(d.vdev(), d.image(), d.format()));
            }
            EngineHooks.call(() -> hooks.afterMerge(domain.uuid(), snap.name()));
            steps.follow(domain, libxl, snap, libxlDisks);
            steps.removeOverlays(snap);
            EngineHooks.call(() -> hooks.beforeDeleteCommit(marked.uuid(), snap.name()));
            steps.commit(marked, snap.name(), after);
            return after;
        } catch (QmpException e) {
            throw Errors.qmp(label + ": delete of " + snap.name(), e);
        } catch (IOException e) {
            throw steps.overlayNotRemoved(label, snap, e);
        }
    }

    /**
     * A job that stopped short of ready without ending (someone paused it, or dismissed it) cannot be completed: the
     * pivot is not attempted, so that no lock of libxl's is held while waiting for it; the mark stays for reconcile.
     */
    private static void refuseStuck(String label, SnapshotInfo snap, Map<String, DiskSnapshot> jobs,
            Map<String, JobProgress> seen) throws SnapshotException {
        for (String id : jobs.keySet()) {
            Optional<JobProgress> p = Optional.ofNullable(seen.get(id));
            String status = p.map(JobProgress::status).orElse("gone");
            if (!status.equals("ready") && !status.equals("concluded")) {
                throw Errors.qmp(label + ": delete of " + snap.name(), QmpException.of(QmpException.Kind.PROTOCOL,
                        label, "the merge job " + id + " is " + status + " in QEMU instead of becoming ready; the"
                                + " delete stays pending: once the job can go on (block-job-resume), reconcile"));
            }
        }
    }

    private void reported(DomainView domain, SnapshotInfo snap, DiskSnapshot d, JobProgress p, Progress progress) {
        LOG.debug("{} disk {}: merge {}", domain.label(), d.vdev(), p);
        EngineHooks.call(() -> hooks.merging(domain.uuid(), snap.name(), d.vdev(), p.status()));
        progress.report("merge " + d.vdev(), p.current(), p.total(), Progress.Unit.BYTES);
    }
}
