package io.xensnap.internal.engine.revert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.DomainResolver;
import io.xensnap.internal.engine.DomainView;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.Images;
import io.xensnap.internal.engine.OverlayFiles;
import io.xensnap.internal.engine.Parallel;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.engine.UndoLog;
import io.xensnap.internal.engine.create.CreatePlanner;
import io.xensnap.internal.qemuimg.ImageFile;
import io.xensnap.internal.qemuimg.ImageInfo;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.qemuimg.QemuImgException;

/**
 * Brings the disks of a shut-off domain back to a snapshot. Only offline: no device model may hold the images (a
 * qdisk opens them with {@code locking=off}, and qemu-img under a live QEMU corrupts them silently).
 *
 * <ul>
 *   <li>Internal: {@code qemu-img snapshot -a} on every disk in parallel. Each disk first gets a temporary internal
 *       snapshot of its current state (metadata only, cheap), so that a failure on one disk can put the others back.</li>
 *   <li>External: a fresh overlay on the snapshot's frozen image. The disk keeps its current path when that file is
 *       an overlay xensnap made and no snapshot needs it (it is then set aside and replaced); otherwise the new
 *       overlay gets a new name, and the old file stays.</li>
 * </ul>
 *
 * <p>Per internal disk that is four qemu-img processes, each phase run on every disk in parallel: one
 * {@code info --backing-chain} (every check is made on it), {@code snapshot -c} of the undo point, {@code snapshot -a},
 * and after the commit {@code snapshot -d} of the undo point. The catalog marks the revert pending before the first
 * change (see {@link PendingOperation} for the three marks), so that
 * {@link io.xensnap.internal.engine.reconcile.RevertRecovery} can take back a revert the process did not live to
 * finish, and finish one it committed.
 */
public final class Revert {

    private static final Logger LOG = LoggerFactory.getLogger(Revert.class);

    private final Peers peers;
    private final DomainResolver resolver;
    private final int parallelism;
    private final EngineHooks hooks;

    public Revert(Peers peers, DomainResolver resolver, int parallelism, EngineHooks hooks) {
        this.peers = peers;
        this.resolver = resolver;
        this.parallelism = Math.max(1, parallelism);
        this.hooks = hooks;
    }

    /**
     * @param chain  internal: the backing chain of the image as read before the first change; external: empty
     * @param newTop external: the disk's top image after the revert; internal: {@code null}
     * @param setAside external: whether the disk's current top is moved aside so that {@code newTop} can take its path
     */
    private record DiskRevert(DiskSnapshot snap, DiskView current, List<ImageInfo> chain, Path newTop,
                              boolean setAside) {

        boolean internal() {
            return snap.kind() == SnapshotKind.INTERNAL;
        }

        ImageFile image() {
            return Images.of(snap.image(), snap.format());
        }

        /** @return how the pending mark names this disk: the snapshot's entry, or the frozen image and new top */
        DiskSnapshot marked() {
            return internal() ? snap : new DiskSnapshot(snap.vdev(), SnapshotKind.EXTERNAL, snap.image(),
                    snap.format(), newTop);
        }
    }

    public RevertResult run(DomainRef ref, DomainCatalog catalog, String name,
            Progress progress) throws SnapshotException {
        SnapshotInfo snap = validate(ref, catalog, name);
        DomainView domain = resolver.resolve(ref, catalog);
        Instant started = peers.clock().instant();
        String undoTag = new PendingOperation(PendingOperation.Kind.REVERT, name, started).undoTag();
        List<DiskRevert> plan = readPlan(domain, catalog, snap, undoTag);
        List<DiskImage> after = imagesAfter(domain, plan);

        UndoLog undo = new UndoLog();
        boolean marked = false;
        Counter disks = new Counter(plan.size(), progress);
        DomainCatalog committed;
        try {
            DomainCatalog mark = markPending(domain, catalog, name, started, plan);
            marked = true;
            step(catalog, name, "marked");
            markUndoPoints(catalog, mark, plan, name, started, undoTag, undo);
            apply(catalog, plan, name, undoTag, undo, disks);
            committed = commit(catalog, plan, name, started, after);
            // POINT OF NO RETURN. The catalog now names the snapshot as current: from here the revert goes forward,
            // and what is left (undo points, set-aside overlays) is cleanup the mark keeps listed for reconcile.
            undo.commit();
        } catch (QemuImgException e) {
            throw rolledBack(Errors.qemuImg(domain.label() + ": revert to " + name, e), undo, catalog, marked, disks);
        } catch (CatalogException e) {
            throw rolledBack(Errors.catalog(e), undo, catalog, marked, disks);
        } catch (IOException e) {
            throw rolledBack(new SnapshotException(SnapshotError.INTERNAL,
                    domain.label() + ": revert to " + name + ": " + e.getMessage(), e), undo, catalog, marked, disks);
        } catch (RuntimeException e) {
            rollBack(e, undo, catalog, marked);
            throw e;
        }
        step(catalog, name, "committed");
        cleanUp(catalog, committed, domain.label());
        LOG.info("{}: reverted to snapshot {}", domain.label(), name);
        return new RevertResult(snap, after);
    }

    /** @return the snapshot to revert to, when the domain is shut off and no earlier operation is unfinished */
    private SnapshotInfo validate(DomainRef ref, DomainCatalog catalog, String name) throws SnapshotException {
        if (ref instanceof DomainRef.Running r) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, "domain " + r.domid() + " is running: revert"
                    + " needs it shut off, because qemu-img must not touch images a device model holds");
        }
        resolver.requireShutOff(catalog.uuid());
        SnapshotInfo snap = catalog.snapshot(name).orElseThrow(() -> new SnapshotException(
                SnapshotError.NO_SUCH_SNAPSHOT, "domain " + catalog.uuid() + " has no snapshot named " + name));
        if (catalog.pending().isPresent()) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, "domain " + catalog.uuid() + ": an earlier "
                    + catalog.pending().get().kind() + " did not finish; reconcile the domain first");
        }
        return snap;
    }

    /** The plan of every disk, with the backing chains read before the first change. */
    private List<DiskRevert> readPlan(DomainView domain, DomainCatalog catalog, SnapshotInfo snap, String undoTag)
            throws SnapshotException {
        try {
            return readChains(plan(domain, catalog, snap), snap.name(), undoTag, domain.label());
        } catch (QemuImgException e) {
            throw Errors.qemuImg(domain.label() + ": revert to " + snap.name(), e);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, domain.label() + ": revert to " + snap.name() + ": "
                    + e.getMessage(), e);
        }
    }

    /** @return the image of every disk of the domain once the revert is done, in the domain's disk order */
    private static List<DiskImage> imagesAfter(DomainView domain, List<DiskRevert> plan) {
        List<DiskImage> after = new ArrayList<>();
        for (DiskView d : domain.disks()) {
            DiskRevert r = plan.stream().filter(x -> x.current().vdev().equals(d.vdev())).findFirst().orElse(null);
            after.add(r != null && r.newTop() != null ? new DiskImage(d.vdev(), r.newTop(), DiskFormat.QCOW2)
                    : new DiskImage(d.vdev(), d.image(), d.format()));
        }
        return after;
    }

    /** The first mark: the disks as found go into the catalog with it, reconcile needs them to take the revert back. */
    private DomainCatalog markPending(DomainView domain, DomainCatalog catalog, String name, Instant started,
            List<DiskRevert> plan) throws CatalogException {
        List<DiskImage> before = domain.disks().stream().map(d -> new DiskImage(d.vdev(), d.image(), d.format()))
                .toList();
        List<DiskSnapshot> externals = plan.stream().filter(r -> !r.internal()).map(DiskRevert::marked).toList();
        DomainCatalog mark = catalog.withCurrent(catalog.current(), before)
                .withPending(Optional.of(new PendingOperation(PendingOperation.Kind.REVERT, name, started, "",
                        externals)));
        peers.catalogs().save(mark);
        return mark;
    }

    /** The undo point on every internal disk, then the second mark that lists them. */
    private void markUndoPoints(DomainCatalog catalog, DomainCatalog mark, List<DiskRevert> plan, String name,
            Instant started, String undoTag, UndoLog undo) throws QemuImgException, CatalogException, IOException {
        List<DiskRevert> internal = plan.stream().filter(DiskRevert::internal).toList();
        if (internal.isEmpty()) {
            return;
        }
        undoPoints(catalog, internal, name, undoTag, undo);
        // from here on reconcile expects the undo snapshot on every internal disk
        DomainCatalog all = mark.withPending(Optional.of(new PendingOperation(PendingOperation.Kind.REVERT,
                name, started, "", plan.stream().map(DiskRevert::marked).toList())));
        peers.catalogs().save(all);
        undo.done("mark of the undo points", () -> peers.catalogs().save(mark));
        step(catalog, name, "undo points marked");
    }

    /** The commit: the catalog names the snapshot as current, with a cleanup mark if undo points or set-asides stay. */
    private DomainCatalog commit(DomainCatalog catalog, List<DiskRevert> plan, String name, Instant started,
            List<DiskImage> after) throws CatalogException {
        List<DiskSnapshot> leftovers = plan.stream().filter(r -> r.internal() || r.setAside())
                .map(DiskRevert::marked).toList();
        DomainCatalog committed = catalog.withCurrent(name, after).withPending(leftovers.isEmpty() ? Optional.empty()
                : Optional.of(new PendingOperation(PendingOperation.Kind.REVERT_CLEANUP, name, started, "",
                        leftovers)));
        peers.catalogs().save(committed);
        return committed;
    }

    /**
     * Undoes what was done, newest first, stopping at the first undo that fails: the state is then a prefix of the
     * revert that the pending mark (kept) still describes, and reconcile continues from there.
     */
    private boolean rollBack(Exception cause, UndoLog undo, DomainCatalog previous, boolean marked) {
        if (!undo.rollbackUntilFailure(cause)) {
            return false;
        }
        if (marked) {
            try {
                peers.catalogs().save(previous);
            } catch (CatalogException ce) {
                cause.addSuppressed(ce);
            }
        }
        return true;
    }

    /**
     * Rolls back and says how it ended in the message: the disks already reverted when the failure came were reported
     * to the watcher one by one, and without this the last word would be theirs.
     */
    private SnapshotException rolledBack(SnapshotException cause, UndoLog undo, DomainCatalog previous,
                                         boolean marked, Counter disks) {
        boolean whole = rollBack(cause, undo, previous, marked);
        List<String> back = disks.back();
        String outcome;
        if (whole) {
            outcome = back.isEmpty() ? "The revert was rolled back before any disk changed."
                    : "The revert was rolled back: " + String.join(", ", back)
                            + (back.size() == 1 ? " is" : " are") + " as before the revert.";
        } else {
            // the undo that failed is the last one rollbackUntilFailure attached
            Throwable[] suppressed = cause.getSuppressed();
            outcome = "The revert could not be rolled back completely" + (back.isEmpty() ? "" : " (" + String.join(
                    ", ", back) + (back.size() == 1 ? " is" : " are") + " as before the revert)")
                    + (suppressed.length == 0 ? "." : ": " + suppressed[suppressed.length - 1].getMessage() + ".");
        }
        SnapshotException told = new SnapshotException(cause.code(), cause.getMessage() + ". " + outcome,
                cause.getCause());
        for (Throwable s : cause.getSuppressed()) {
            told.addSuppressed(s);
        }
        return told;
    }

    private List<DiskRevert> plan(DomainView domain, DomainCatalog catalog, SnapshotInfo snap) throws SnapshotException {
        List<DiskRevert> plan = new ArrayList<>();
        for (DiskSnapshot d : snap.disks()) {
            String what = domain.label() + " disk " + d.vdev();
            DiskView cur = domain.disk(d.vdev()).orElseThrow(() -> new SnapshotException(SnapshotError.NO_SUCH_DISK,
                    what + ": its current image is unknown; name the domain with its disk images"));
            if (!Files.exists(d.image())) {
                throw new SnapshotException(SnapshotError.INVALID_STATE, what + ": image " + d.image() + " is gone");
            }
            if (d.kind() == SnapshotKind.INTERNAL) {
                if (!cur.image().equals(d.image())) {
                    throw new SnapshotException(SnapshotError.INVALID_STATE, what + " now runs on " + cur.image()
                            + ", above the image " + d.image() + " that holds snapshot " + snap.name()
                            + "; applying it there would corrupt the overlay: revert to the external snapshot that"
                            + " created the overlay first, or delete it");
                }
                plan.add(new DiskRevert(d, cur, List.of(), null, false));
            } else {
                boolean reusable = !cur.image().equals(d.image()) && !frozen(catalog, cur.image())
                        && ours(catalog, cur.image());
                Path aside = PendingOperation.setAside(cur.image());
                if (reusable && Files.exists(aside, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw new SnapshotException(SnapshotError.INVALID_STATE, what + ": " + aside + " is still there"
                            + " from an earlier revert; reconcile the domain, or remove it if it holds nothing needed");
                }
                plan.add(new DiskRevert(d, cur, List.of(), reusable ? cur.image() : freshPath(d.image(), snap.name()),
                        reusable));
            }
        }
        return plan;
    }

    /**
     * Reads each internal disk's backing chain once ({@code info --backing-chain}, in parallel) and checks on it that
     * the snapshot is in the image's own layer exactly once and that the undo tag is free: fails before anything
     * changes.
     */
    private List<DiskRevert> readChains(List<DiskRevert> plan, String name, String undoTag, String label)
            throws QemuImgException, IOException {
        List<ImageInfo>[] chains = newChains(plan.size());
        List<Parallel.Step> steps = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            DiskRevert r = plan.get(i);
            int index = i;
            steps.add(() -> {
                if (!r.internal()) {
                    return;
                }
                List<ImageInfo> chain = peers.qemuImg().backingChain(r.image(), true);
                QemuImg.requireInTopLayer(r.image(), name, chain);
                if (!chain.get(0).snapshotsNamed(undoTag).isEmpty()) {
                    throw new QemuImgException(QemuImgException.Reason.DUPLICATE_NAME, List.of(), 0, "",
                            r.snap().image() + " already holds a snapshot named " + undoTag, null);
                }
                chains[index] = chain;
            });
        }
        firstFailure(Parallel.run(steps, parallelism));
        List<DiskRevert> out = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            DiskRevert r = plan.get(i);
            out.add(r.internal() ? new DiskRevert(r.snap(), r.current(), chains[i], null, false) : r);
        }
        LOG.debug("{}: checked {} disk(s) for revert to {}", label, plan.size(), name);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<ImageInfo>[] newChains(int n) {
        return (List<ImageInfo>[]) new List<?>[n];
    }

    /** {@code snapshot -c} of the undo point on every internal disk in parallel. */
    private void undoPoints(DomainCatalog catalog, List<DiskRevert> internal, String name, String undoTag,
                            UndoLog undo)
            throws QemuImgException, IOException {
        List<Parallel.Step> steps = new ArrayList<>();
        for (DiskRevert r : internal) {
            steps.add(() -> {
                peers.qemuImg().createSnapshot(r.image(), undoTag, r.chain());
                step(catalog, name, "undo " + r.snap().vdev());
            });
        }
        List<Parallel.Outcome> outcomes = Parallel.run(steps, parallelism);
        for (Parallel.Outcome o : outcomes) {
            if (o.ok()) {
                var image = internal.get(o.index()).image();
                undo.done("temporary snapshot " + undoTag + " of " + image.path(),
                        () -> peers.qemuImg().deleteSnapshot(image, undoTag));
            }
        }
        firstFailure(outcomes);
    }

    /**
     * Every disk in parallel: internal {@code snapshot -a}; external the current top set aside when its path is
     * reused, then the new overlay on the frozen image. An external step that fails halfway puts its disk back
     * itself, so that only whole steps are recorded for the undo.
     */
    private void apply(DomainCatalog catalog, List<DiskRevert> plan, String name, String undoTag, UndoLog undo,
                       Counter disks) throws QemuImgException, IOException {
        List<Parallel.Step> steps = new ArrayList<>();
        for (DiskRevert r : plan) {
            steps.add(() -> {
                if (r.internal()) {
                    peers.qemuImg().applySnapshot(r.image(), name, r.chain());
                } else {
                    external(catalog, name, r);
                }
                step(catalog, name, "applied " + r.snap().vdev());
                disks.done(r.snap().vdev() + " reverted");
            });
        }
        List<Parallel.Outcome> outcomes = Parallel.run(steps, parallelism);
        int changed = 0;
        for (Parallel.Outcome o : outcomes) {
            DiskRevert r = plan.get(o.index());
            String vdev = r.snap().vdev();
            if (r.internal()) {
                // applied or not, the disk goes back to its undo point if anything fails
                undo.done("apply of " + name + " to " + r.snap().image(), () -> {
                    peers.qemuImg().applySnapshot(r.image(), undoTag);
                    disks.back(vdev);
                });
                changed++;
            } else if (o.ok()) {
                Path top = r.newTop();
                undo.done("new overlay " + top, () -> {
                    peers.overlayFiles().remove(top);
                    if (r.setAside()) {
                        Files.move(PendingOperation.setAside(top), top, StandardCopyOption.ATOMIC_MOVE);
                    }
                    disks.back(vdev);
                });
                changed++;
            }
        }
        disks.changed(changed);
        firstFailure(outcomes);
    }

    private void external(DomainCatalog catalog, String name, DiskRevert r) throws QemuImgException, IOException {
        Path top = r.newTop();
        Path aside = PendingOperation.setAside(top);
        if (r.setAside()) {
            // the disk's current overlay, which no snapshot needs: kept aside until the revert is committed
            Files.move(top, aside, StandardCopyOption.ATOMIC_MOVE);
            step(catalog, name, "set aside " + r.snap().vdev());
        }
        try {
            createOverlay(top, r.image());
        } catch (QemuImgException | IOException | RuntimeException e) {
            if (r.setAside()) {
                try {
                    peers.overlayFiles().remove(top);
                    Files.move(aside, top, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException back) {
                    e.addSuppressed(back);
                }
            }
            throw e;
        }
    }

    /**
     * A new overlay at {@code top}, created in its directory checked now (inside the roots, secure, opened without
     * following links) and formatted by qemu-img through that directory; a failure leaves no file.
     */
    private void createOverlay(Path top, ImageFile backing)
            throws QemuImgException, IOException {
        OverlayFiles.Made made;
        try {
            made = peers.overlayFiles().makeIn(top);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw QemuImgException.refused(QemuImgException.Reason.FILE_EXISTS, "overlay " + top + " exists already");
        }
        try (made) {
            peers.overlayFiles().format(made, backing, -1);
        } catch (QemuImgException | IOException | RuntimeException e) {
            try {
                made.remove();
            } catch (IOException back) {
                e.addSuppressed(back);
            }
            throw e;
        }
    }

    /**
     * After the commit: the undo points and the set-aside overlays go, in parallel, and then the cleanup mark. What
     * cannot be removed stays listed in the mark for reconcile; the revert itself is done either way.
     */
    private void cleanUp(DomainCatalog catalog, DomainCatalog committed, String label) {
        Optional<PendingOperation> pending = committed.pending();
        if (pending.isEmpty()) {
            return;
        }
        PendingOperation p = pending.get();
        List<Parallel.Step> steps = new ArrayList<>();
        for (DiskSnapshot d : p.disks()) {
            steps.add(() -> {
                if (d.kind() == SnapshotKind.INTERNAL) {
                    peers.qemuImg().deleteOwnSnapshot(Images.of(d.image(), d.format()), p.undoTag());
                } else {
                    peers.overlayFiles().remove(PendingOperation.setAside(d.overlay()));
                }
                step(catalog, p.snapshot(), "cleaned " + d.vdev());
            });
        }
        List<Parallel.Outcome> outcomes = Parallel.run(steps, parallelism);
        boolean clean = true;
        for (Parallel.Outcome o : outcomes) {
            if (!o.ok()) {
                clean = false;
                DiskSnapshot d = p.disks().get(o.index());
                LOG.warn("{}: revert to {} done, but {} could not be removed: {}; reconcile removes it", label,
                        p.snapshot(), d.kind() == SnapshotKind.INTERNAL ? "the temporary snapshot " + p.undoTag()
                                + " of " + d.image() : PendingOperation.setAside(d.overlay()).toString(),
                        o.failure().getMessage());
            }
        }
        if (!clean) {
            return;
        }
        try {
            peers.catalogs().save(committed.withPending(Optional.empty()));
        } catch (CatalogException e) {
            LOG.warn("{}: revert to {} done and cleaned up, but the catalog still marks the cleanup: {}; reconcile"
                    + " clears it", label, p.snapshot(), e.getMessage());
        }
    }

    private void step(DomainCatalog catalog, String name, String step) {
        EngineHooks.call(() -> hooks.revertStep(catalog.uuid(), name, step));
    }

    /** Throws the first failure of a parallel phase, with the others attached as suppressed. */
    private static void firstFailure(List<Parallel.Outcome> outcomes) throws QemuImgException, IOException {
        for (Parallel.Outcome o : outcomes) {
            if (!o.ok()) {
                Exception first = o.failure();
                for (Parallel.Outcome other : outcomes) {
                    if (!other.ok() && other != o) {
                        first.addSuppressed(other.failure());
                    }
                }
                if (first instanceof QemuImgException q) {
                    throw q;
                }
                if (first instanceof IOException io) {
                    throw io;
                }
                if (first instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException("a disk step failed: " + first, first);
            }
        }
    }

    /** @return whether some snapshot needs {@code image} as it is (it holds internal snapshots or is a frozen layer) */
    private static boolean frozen(DomainCatalog catalog, Path image) {
        return catalog.snapshots().stream().flatMap(s -> s.disks().stream()).anyMatch(d -> d.image().equals(image));
    }

    /**
     * Only a file xensnap made may be replaced: an overlay some snapshot created, or one the catalog records as made
     * (an earlier revert's overlay). A disk the caller pointed at some other image, even one named like ours, keeps
     * that image untouched.
     */
    private static boolean ours(DomainCatalog catalog, Path image) {
        boolean anOverlay = catalog.snapshots().stream().flatMap(s -> s.disks().stream())
                .anyMatch(d -> image.equals(d.overlay()));
        return anOverlay || catalog.made().contains(image);
    }

    private static Path freshPath(Path frozen, String snapshot) {
        Path base = CreatePlanner.defaultOverlay(frozen, snapshot + "-revert");
        Path p = base;
        for (int i = 2; Files.exists(p); i++) {
            p = CreatePlanner.defaultOverlay(frozen, snapshot + "-revert" + i);
        }
        return p;
    }

    /** Counts finished disks across the parallel qemu-img steps, and on a rollback the disks put back. */
    private static final class Counter {
        private final AtomicLong done = new AtomicLong();
        private final long total;
        private final Progress progress;
        private final List<String> back = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile long changed;

        Counter(long total, Progress progress) {
            this.total = total;
            this.progress = progress;
        }

        void done(String step) {
            progress.report(step, done.incrementAndGet(), total, Progress.Unit.DISKS);
        }

        /** @param disks how many disks a rollback has to put back */
        void changed(long disks) {
            changed = disks;
        }

        void back(String vdev) {
            back.add(vdev);
            progress.report(vdev + " rolled back, as before the revert", back.size(), changed, Progress.Unit.DISKS);
        }

        /** @return the disks a rollback put back, in that order */
        List<String> back() {
            return List.copyOf(back);
        }
    }
}
