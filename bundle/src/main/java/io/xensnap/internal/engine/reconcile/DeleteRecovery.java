package io.xensnap.internal.engine.reconcile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.Images;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.delete.OlderMerge;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.qemuimg.ImageInfo;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.qmp.BlockJobs;
import io.xensnap.internal.qmp.InternalSnapshots;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;
import io.xensnap.internal.xenstore.DiskImageSwap;
import io.xensnap.internal.xenstore.LibxlFormat;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * Settles a delete that the catalog marks pending. A merge writes into the frozen image, so once one disk has changed
 * the snapshot is gone and the only way is forward; when no disk has changed the snapshot is intact and the mark is
 * simply taken back.
 *
 * <p>The delete marks each disk in the catalog just before its step begins, because a merge that began leaves the
 * frozen image changed even when it was cancelled and the chain looks untouched.
 *
 * <ul>
 *   <li>No disk marked and every disk still holding the snapshot (internal snapshot present, overlay on its frozen
 *       image) → the mark is cleared: the snapshot is intact.</li>
 *   <li>Running domain, some disk marked or changed: each disk either still holds the snapshot or no longer does
 *       (deleted, or merged and QEMU runs on the image); the remaining ones are deleted or merged, libxl's config and
 *       xenstore follow, the overlays go and the catalog drops the snapshot. A merge job this delete left in QEMU
 *       is taken over first ({@link #settleJobs}); any other job, or a chain that is neither, is reported and left
 *       alone.</li>
 *   <li>Shut-off domain, some disk marked: how far a {@code qemu-img commit} got cannot be seen, so the delete is
 *       finished: committing an overlay again is harmless and keeps every byte the guest wrote.</li>
 * </ul>
 */
final class DeleteRecovery {

    private static final Logger LOG = LoggerFactory.getLogger(DeleteRecovery.class);

    private enum State { INTACT, DONE, UNKNOWN }

    private final Peers peers;
    private final ImageHeaders headers;
    private final Findings findings;
    private final Duration jobTimeout;
    private final long mergeSpeed;

    DeleteRecovery(Peers peers, ImageHeaders headers, Findings findings, Duration jobTimeout, long mergeSpeed) {
        this.peers = peers;
        this.headers = headers;
        this.findings = findings;
        this.jobTimeout = jobTimeout;
        this.mergeSpeed = mergeSpeed;
    }

    /**
     * @param mayStartMerges whether a merge that had not started may be started now (the caller then waits for it
     *                       outside libxl's locks and calls again); otherwise such a disk is reported
     * @return how far the pending mark got settled
     */
    Reconciler.Outcome live(DomainCatalog catalog, PendingOperation p, LiveDomain domain, QmpConnection qmp,
                 DomainConfigStore.Session libxl, XenstoreClient xs, boolean mayStartMerges) {
        Optional<SnapshotInfo> snap = catalog.snapshot(p.snapshot());
        if (snap.isEmpty()) {
            return of(alreadyGone(catalog, p));
        }
        String subject = "snapshot " + p.snapshot();
        List<String> done = new ArrayList<>();
        try {
            Optional<LiveDomain> now = settleJobs(p, domain, qmp, libxl, xs, done);
            if (now.isEmpty()) {
                return Reconciler.Outcome.LEFT;
            }
            domain = now.get();
        } catch (QmpException | XenstoreException | LibxlConfigException e) {
            findings.reported(Code.REPAIR_FAILED, subject, "taking over the merge jobs QEMU still held failed after "
                    + (done.isEmpty() ? "nothing" : String.join(", ", done)) + ": " + e.getMessage()
                    + "; the pending mark stays");
            return Reconciler.Outcome.LEFT;
        }
        Map<DiskSnapshot, State> states = new LinkedHashMap<>();
        for (DiskSnapshot d : snap.get().disks()) {
            states.put(d, liveState(d, p.snapshot(), domain, OlderMerge.newer(catalog, p.snapshot(), d)));
        }
        if (states.containsValue(State.UNKNOWN)) {
            findings.reported(Code.DELETE_AMBIGUOUS, subject, "QEMU shows " + describe(states) + "; a chain that"
                    + " neither holds the snapshot nor runs on its frozen image needs a person: nothing was touched");
            return Reconciler.Outcome.LEFT;
        }
        if (p.disks().isEmpty() && done.isEmpty() && states.values().stream().allMatch(s -> s == State.INTACT)) {
            return of(clear(catalog, p, "no disk had begun: the snapshot is intact"));
        }
        try {
            if (startMerges(catalog, p, snap.get(), states, domain, qmp, done, mayStartMerges)) {
                return Reconciler.Outcome.AGAIN;
            }
            finish(catalog, p, snap.get(), states, domain, qmp, libxl, xs, done);
        } catch (QmpException | LibxlConfigException | XenstoreException | CatalogException | IOException e) {
            findings.reported(Code.REPAIR_FAILED, subject, "finishing the delete failed after "
                    + (done.isEmpty() ? "nothing" : String.join(", ", done)) + ": " + e.getMessage()
                    + "; the pending mark stays");
            return Reconciler.Outcome.LEFT;
        }
        findings.repaired(Code.DELETE_FINISHED, subject, "the delete had begun (" + describe(states) + "); "
                + (done.isEmpty() ? "" : String.join(", ", done) + ", ") + "and the catalog no longer lists it");
        return Reconciler.Outcome.SETTLED;
    }

    private static Reconciler.Outcome of(boolean settled) {
        return settled ? Reconciler.Outcome.SETTLED : Reconciler.Outcome.LEFT;
    }

    /**
     * Starts the merge of every external disk that still holds the snapshot, each recorded as begun in the mark first
     * (so that its job is known as this delete's), and returns at once: the caller waits for the jobs holding none of
     * libxl's locks. Only once, so that a merge that keeps failing is reported, not started forever.
     *
     * @return whether merges were started
     */
    private boolean startMerges(DomainCatalog catalog, PendingOperation p, SnapshotInfo snap,
            Map<DiskSnapshot, State> states, LiveDomain domain, QmpConnection qmp, List<String> done,
            boolean mayStart) throws QmpException, CatalogException {
        List<DiskSnapshot> intact = snap.disks().stream()
                .filter(d -> d.kind() == SnapshotKind.EXTERNAL && states.get(d) == State.INTACT).toList();
        if (intact.isEmpty()) {
            return false;
        }
        if (!mayStart) {
            throw QmpException.of(QmpException.Kind.JOB_FAILED, "dom" + domain.domid(), "the merge of "
                    + intact.stream().map(DiskSnapshot::vdev).toList() + " this reconcile started did not take");
        }
        List<DiskSnapshot> begun = new ArrayList<>(p.disks());
        intact.stream().filter(d -> !begun.contains(d)).forEach(begun::add);
        peers.catalogs().save(catalog.withPending(Optional.of(new PendingOperation(PendingOperation.Kind.DELETE,
                p.snapshot(), p.started(), "", begun))));
        BlockJobs jobs = new BlockJobs(qmp, jobTimeout, Duration.ofMillis(200)).withSpeed(mergeSpeed);
        for (DiskSnapshot d : intact) {
            var device = domain.disk(d.vdev()).orElseThrow().qemu().orElseThrow();
            OlderMerge.startMerge(jobs, p.mergeJob(d.vdev()), device, d,
                    OlderMerge.newer(catalog, p.snapshot(), d).orElse(null));
            LOG.info("[{}] reconcile: started the merge of {} as job {}", catalog.uuid(), d.vdev(),
                    p.mergeJob(d.vdev()));
        }
        return true;
    }

    /**
     * Finishes a delete that had begun: what is still intact is deleted or merged, then libxl's config, xenstore and
     * the overlay files follow, and the catalog last. Each step done is named in {@code done} for the findings.
     */
    private void finish(DomainCatalog catalog, PendingOperation p, SnapshotInfo snap, Map<DiskSnapshot, State> states,
            LiveDomain domain, QmpConnection qmp, DomainConfigStore.Session libxl, XenstoreClient xs,
            List<String> done)
            throws QmpException, LibxlConfigException, XenstoreException, CatalogException, IOException {
        Map<String, DiskImage> tops = new LinkedHashMap<>();
        List<LibxlDisk> libxlDisks = new ArrayList<>();
        for (DiskSnapshot d : snap.disks()) {
            LiveDomain.Disk disk = domain.disk(d.vdev()).orElseThrow();
            var device = disk.qemu().orElseThrow();
            if (states.get(d) == State.INTACT && d.kind() == SnapshotKind.INTERNAL) {
                new InternalSnapshots(qmp).delete(device.target(), p.snapshot());
                done.add("deleted it from " + d.vdev());
            }
            // a small merge leaves the disk on its top: libxl's config and xenstore stay as they are
            if (d.kind() == SnapshotKind.EXTERNAL && OlderMerge.newer(catalog, p.snapshot(), d).isEmpty()) {
                tops.put(d.vdev(), new DiskImage(d.vdev(), d.image(), d.format()));
                boolean named = disk.libxl().flatMap(LibxlDisk::pdevPath).filter(d.image().toString()::equals)
                        .isPresent();
                if (libxl != null && !named) {
                    libxlDisks.add(new LibxlDisk(d.vdev(), d.image().toString(),
                            LibxlDiskFormat.valueOf(d.format().name())));
                }
            }
        }
        if (!libxlDisks.isEmpty()) {
            libxl.setDisks(libxlDisks);
            done.add("libxl's config of " + libxlDisks.stream().map(LibxlDisk::vdev).toList());
        }
        swapXenstore(xs, domain, tops, done);
        removeOverlays(snap, done);
        commit(catalog.withName(domain.name()), p, imagesAfter(domain, tops));
    }

    /** The xenstore backend of every merged disk names its base image again (a disk already there is left alone). */
    private static void swapXenstore(XenstoreClient xs, LiveDomain domain, Map<String, DiskImage> tops,
            List<String> done) throws XenstoreException {
        DiskImageSwap swap = new DiskImageSwap(xs);
        for (DiskImage top : tops.values()) {
            LiveDomain.Disk disk = domain.disk(top.vdev()).orElseThrow();
            if (!disk.xenstore().target().equals(top.image().toString())) {
                swap.swap(disk.xenstore(), LibxlFormat.ofLibxlName(top.format().id()),
                        top.image().toString());
                done.add("xenstore's " + top.vdev());
            }
        }
    }

    /** @return every disk's image once the delete is finished: the merged ones' base, the others' top as QEMU has it */
    private static List<DiskImage> imagesAfter(LiveDomain domain, Map<String, DiskImage> tops) {
        List<DiskImage> after = new ArrayList<>();
        for (LiveDomain.Disk disk : domain.disks()) {
            if (tops.containsKey(disk.vdev())) {
                after.add(tops.get(disk.vdev()));
            } else if (disk.top().isPresent() && disk.format().isPresent() && !disk.xenstore().cdrom()) {
                after.add(new DiskImage(disk.vdev(), disk.top().get(), disk.format().get()));
            }
        }
        return after;
    }

    /** @return whether the pending mark is settled (cleared) */
    boolean offline(DomainCatalog catalog, PendingOperation p) {
        Optional<SnapshotInfo> snap = catalog.snapshot(p.snapshot());
        if (snap.isEmpty()) {
            return alreadyGone(catalog, p);
        }
        String subject = "snapshot " + p.snapshot();
        List<String> done = new ArrayList<>();
        try {
            if (p.disks().isEmpty() && intactOnDisk(catalog, snap.get(), p.snapshot())) {
                return clear(catalog, p, "no disk had begun: the snapshot is intact");
            }
            Optional<String> doubt = doubt(catalog, snap.get());
            if (doubt.isPresent()) {
                findings.reported(Code.DELETE_AMBIGUOUS, subject, doubt.get() + "; nothing was touched");
                return false;
            }
            for (DiskSnapshot d : snap.get().disks()) {
                if (d.kind() == SnapshotKind.INTERNAL) {
                    Optional<ImageInfo> info = headers.info(d.image(), DiskFormat.QCOW2.id());
                    if (info.isPresent() && !info.get().snapshotsNamed(p.snapshot()).isEmpty()) {
                        peers.qemuImg().deleteSnapshot(Images.of(d.image(), DiskFormat.QCOW2), p.snapshot());
                        done.add("deleted it from " + d.vdev());
                    }
                } else if (OlderMerge.newer(catalog, p.snapshot(), d).isPresent()) {
                    mergeDown(d, OlderMerge.newer(catalog, p.snapshot(), d).get(), done);
                } else if (Files.exists(d.overlay(), LinkOption.NOFOLLOW_LINKS)) {
                    peers.qemuImg().commit(Images.of(d.overlay(), DiskFormat.QCOW2));
                    peers.overlayFiles().remove(d.overlay());
                    done.add("merged " + d.vdev() + " and removed " + d.overlay());
                }
                headers.forget(d.image());
            }
            commit(catalog, p, imagesAfter(catalog, snap.get()));
        } catch (QemuImgException | CatalogException | IOException e) {
            findings.reported(Code.REPAIR_FAILED, subject, "finishing the delete failed after "
                    + (done.isEmpty() ? "nothing" : String.join(", ", done)) + ": " + e.getMessage()
                    + "; the pending mark stays");
            return false;
        }
        findings.repaired(Code.DELETE_FINISHED, subject, "a merge into the frozen images cannot be seen from"
                + " outside, so the delete was finished: " + (done.isEmpty() ? "every disk was done already"
                : String.join(", ", done)) + "; the catalog no longer lists it");
        return true;
    }

    /**
     * The small merge of a shut-off disk ({@link OlderMerge}), redone from where the headers show it stopped: while
     * the newer overlay still backs onto the older one, the older one is committed (again: it is frozen, so committing
     * it twice writes the same data) and the newer overlay rebased onto the frozen image; the older overlay goes last.
     */
    private void mergeDown(DiskSnapshot d, DiskSnapshot newer, List<String> done) throws QemuImgException,
            IOException {
        if (headers.backing(newer.overlay()).filter(d.overlay()::equals).isPresent()) {
            peers.qemuImg().commit(Images.of(d.overlay(), DiskFormat.QCOW2));
            peers.qemuImg().rebaseUnsafe(Images.of(newer.overlay(), DiskFormat.QCOW2), Images.of(d.image(),
                    d.format()));
            headers.forget(newer.overlay());
            done.add("merged " + d.overlay() + " of " + d.vdev() + " down into " + d.image() + ", onto which "
                    + newer.overlay() + " now backs");
        }
        if (peers.overlayFiles().remove(d.overlay())) {
            headers.forget(d.overlay());
            done.add("removed " + d.overlay());
        }
    }

    /** @return why a shut-off domain's delete cannot be finished safely (an image gone, an overlay moved), if so */
    private Optional<String> doubt(DomainCatalog catalog, SnapshotInfo snap) throws QemuImgException {
        for (DiskSnapshot d : snap.disks()) {
            if (!Files.exists(d.image())) {
                return Optional.of("image " + d.image() + " of " + d.vdev() + " is gone");
            }
            Optional<DiskSnapshot> newer = OlderMerge.newer(catalog, snap.name(), d);
            if (newer.isPresent()) {
                Optional<Path> below = headers.backing(newer.get().overlay());
                boolean onOlder = below.filter(d.overlay()::equals).isPresent()
                        && Files.exists(d.overlay(), LinkOption.NOFOLLOW_LINKS);
                if (!onOlder && below.filter(d.image()::equals).isEmpty()) {
                    return Optional.of("overlay " + newer.get().overlay() + " of " + d.vdev() + " backs onto "
                            + below.map(Path::toString).orElse("nothing") + ", neither " + d.overlay() + " nor "
                            + d.image());
                }
            }
            if (d.kind() == SnapshotKind.EXTERNAL && Files.exists(d.overlay(), LinkOption.NOFOLLOW_LINKS)
                    && headers.backing(d.overlay()).filter(d.image()::equals).isEmpty()) {
                return Optional.of("overlay " + d.overlay() + " of " + d.vdev() + " no longer sits on " + d.image());
            }
        }
        return Optional.empty();
    }

    /** @return the catalog's disks once every merged overlay's disk names its base image again */
    private static List<DiskImage> imagesAfter(DomainCatalog catalog, SnapshotInfo snap) {
        List<DiskImage> after = new ArrayList<>(catalog.disks());
        for (DiskSnapshot d : snap.disks()) {
            if (d.kind() == SnapshotKind.EXTERNAL) {
                after.replaceAll(x -> x.vdev().equals(d.vdev()) && x.image().equals(d.overlay())
                        ? new DiskImage(d.vdev(), d.image(), d.format()) : x);
            }
        }
        return after;
    }

    /**
     * Takes over the merge jobs this delete left in QEMU. A job is this delete's only when its id is the one the
     * pending mark gives the merge of a disk the mark records as begun ({@link PendingOperation#mergeJob}); any other
     * job is reported and never touched. Ours: one in {@code ready} is completed (the switch to the frozen image the
     * delete was about to make) and dismissed; one still running is waited for within the job timeout, because an
     * active commit reaches {@code ready} by itself and cancelling it would not give the frozen image back (the merge
     * has written into it); one that concluded is dismissed, and the chain then decides.
     *
     * @return the domain as QEMU now shows it, empty when something was reported and the delete cannot go on
     */
    private Optional<LiveDomain> settleJobs(PendingOperation p, LiveDomain domain, QmpConnection qmp,
                                            DomainConfigStore.Session libxl, XenstoreClient xs, List<String> done)
            throws QmpException, XenstoreException, LibxlConfigException {
        String subject = "snapshot " + p.snapshot();
        Map<String, DiskSnapshot> ours = new LinkedHashMap<>();
        p.disks().stream().filter(d -> d.kind() == SnapshotKind.EXTERNAL).forEach(d -> ours.put(p.mergeJob(d.vdev()), d));
        List<String> foreign = domain.jobs().keySet().stream().filter(id -> !ours.containsKey(id)).sorted().toList();
        if (!foreign.isEmpty()) {
            findings.reported(Code.DELETE_AMBIGUOUS, subject, "QEMU holds jobs this delete did not start: "
                    + foreign + "; xensnap leaves a job it cannot prove its own alone, and the chains cannot be read"
                    + " while it runs: nothing was touched. Once the job ended (or its owner ended it), reconcile again");
            return Optional.empty();
        }
        boolean any = false;
        for (Map.Entry<String, DiskSnapshot> e : ours.entrySet()) {
            String id = e.getKey();
            String status = domain.jobs().get(id);
            if (status == null) {
                continue;
            }
            any = true;
            if (status.equals("paused") || status.equals("standby")) {
                findings.reported(Code.DELETE_AMBIGUOUS, subject, "the merge job " + id + " of " + e.getValue().vdev()
                        + " is " + status + " in QEMU: someone paused it. Nothing was touched; resume it"
                        + " (block-job-resume) and reconcile again");
                return Optional.empty();
            }
            if (!status.equals("ready") && !status.equals("concluded")) {
                // MergeWait waited for it outside libxl's locks; waiting here would block xl
                findings.reported(Code.DELETE_AMBIGUOUS, subject, "the merge job " + id + " of "
                        + e.getValue().vdev() + " is still " + status + " in QEMU after " + jobTimeout
                        + "; it is left running, since cancelling would not give the frozen image back."
                        + " Reconcile again once it is ready" + (done.isEmpty() ? "" : "; done so far: "
                        + String.join(", ", done)));
                return Optional.empty();
            }
            try {
                // ready or ended: completing or dismissing it is short
                new BlockJobs(qmp, jobTimeout, Duration.ofMillis(50)).settle(id,
                        pr -> LOG.debug("reconcile: merge job {}: {}", id, pr));
                done.add("completed the merge job " + id + " that QEMU still held (" + status + ")");
            } catch (QmpException x) {
                if (x.kind() != QmpException.Kind.JOB_FAILED) {
                    throw x;
                }
                done.add("dismissed the merge job " + id + ", which had ended with an error (" + x.getMessage() + ")");
            }
        }
        return any ? Optional.of(LiveDomain.read(domain.domid(), xs, qmp, libxl)) : Optional.of(domain);
    }

    /**
     * Every internal snapshot still in its image, every overlay still on its frozen image, and a newer snapshot's
     * overlay still on the overlay it froze.
     */
    private boolean intactOnDisk(DomainCatalog catalog, SnapshotInfo snap, String name) throws QemuImgException {
        for (DiskSnapshot d : snap.disks()) {
            Optional<DiskSnapshot> newer = OlderMerge.newer(catalog, name, d);
            if (newer.isPresent() && headers.backing(newer.get().overlay()).filter(d.overlay()::equals).isEmpty()) {
                return false;
            }
            if (d.kind() == SnapshotKind.INTERNAL) {
                Optional<ImageInfo> info = headers.info(d.image(), DiskFormat.QCOW2.id());
                if (info.isEmpty() || info.get().snapshotsNamed(name).isEmpty()) {
                    return false;
                }
            } else if (!Files.exists(d.overlay(), LinkOption.NOFOLLOW_LINKS)
                    || headers.backing(d.overlay()).filter(d.image()::equals).isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private static State liveState(DiskSnapshot d, String name, LiveDomain domain, Optional<DiskSnapshot> newer) {
        Optional<LiveDomain.Disk> disk = domain.disk(d.vdev());
        if (disk.isEmpty() || disk.get().qemu().isEmpty()) {
            return State.UNKNOWN;
        }
        List<Path> chain = disk.get().chain();
        if (d.kind() == SnapshotKind.INTERNAL) {
            return disk.get().layer(d.image()).map(l -> l.snapshots().contains(name) ? State.INTACT : State.DONE)
                    .orElse(State.UNKNOWN);
        }
        if (newer.isPresent()) {
            return OlderMerge.position(chain, d, newer.get()) >= 0 ? State.INTACT
                    : OlderMerge.merged(chain, d, newer.get()) ? State.DONE : State.UNKNOWN;
        }
        if (chain.size() > 1 && chain.get(0).equals(d.overlay()) && chain.get(1).equals(d.image())) {
            return State.INTACT;
        }
        return !chain.isEmpty() && chain.get(0).equals(d.image()) ? State.DONE : State.UNKNOWN;
    }

    private void removeOverlays(SnapshotInfo snap, List<String> done) throws IOException {
        for (DiskSnapshot d : snap.disks()) {
            if (d.kind() == SnapshotKind.EXTERNAL && peers.overlayFiles().remove(d.overlay())) {
                headers.forget(d.overlay());
                done.add("removed " + d.overlay());
            }
        }
    }

    private boolean alreadyGone(DomainCatalog catalog, PendingOperation p) {
        return clear(catalog, p, "the catalog no longer lists it");
    }

    private boolean clear(DomainCatalog catalog, PendingOperation p, String why) {
        try {
            peers.catalogs().save(catalog.withPending(Optional.empty()));
        } catch (CatalogException e) {
            findings.reported(Code.REPAIR_FAILED, "snapshot " + p.snapshot(), why + ", but the pending mark could not"
                    + " be cleared: " + e.getMessage());
            return false;
        }
        Code code = catalog.snapshot(p.snapshot()).isPresent() ? Code.DELETE_ROLLED_BACK : Code.DELETE_FINISHED;
        findings.repaired(code, "snapshot " + p.snapshot(), why + "; cleared the pending mark");
        return true;
    }

    private void commit(DomainCatalog catalog, PendingOperation p, List<DiskImage> after) throws CatalogException {
        DomainCatalog without = catalog.withoutSnapshotMergedDown(p.snapshot());
        peers.catalogs().save(without.withCurrent(without.current(), after).withPending(Optional.empty()));
    }

    private static String describe(Map<DiskSnapshot, State> states) {
        List<String> out = new ArrayList<>();
        states.forEach((d, s) -> out.add(d.vdev() + " " + s.name().toLowerCase(java.util.Locale.ROOT)));
        return String.join(", ", out);
    }
}
