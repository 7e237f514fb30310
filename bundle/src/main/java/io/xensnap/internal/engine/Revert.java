package io.xensnap.internal.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
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
import io.xensnap.internal.qemuimg.QemuImgException;

/**
 * Brings the disks of a shut-off domain back to a snapshot. Only offline: no device model may hold the images (a
 * qdisk opens them with {@code locking=off}, and qemu-img under a live QEMU corrupts them silently).
 *
 * <ul>
 *   <li>Internal: {@code qemu-img snapshot -a} on every disk in parallel. Each disk first gets a temporary internal
 *       snapshot of its current state (metadata only, cheap), so that a failure on one disk can put the others back.</li>
 *   <li>External: a fresh overlay on the snapshot's frozen image. The disk keeps its current path when that file is
 *       an overlay xensnap made and no snapshot needs it (it is then replaced); otherwise the new overlay gets a new
 *       name, and the old file stays.</li>
 * </ul>
 */
final class Revert {

    private static final Logger LOG = LoggerFactory.getLogger(Revert.class);

    private final Peers peers;
    private final DomainResolver resolver;
    private final int parallelism;

    Revert(Peers peers, DomainResolver resolver, int parallelism) {
        this.peers = peers;
        this.resolver = resolver;
        this.parallelism = Math.max(1, parallelism);
    }

    private record DiskRevert(DiskSnapshot snap, DiskView current, Path newTop) {
    }

    RevertResult run(DomainRef ref, DomainCatalog catalog, String name, Progress progress) throws SnapshotException {
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
        DomainView domain = resolver.resolve(ref, catalog);
        List<DiskRevert> plan = plan(domain, catalog, snap);

        UndoLog undo = new UndoLog();
        List<Runnable> onCommit = new ArrayList<>();
        try {
            Counter disks = new Counter(plan.size(), progress);
            internal(plan, name, undo, onCommit, disks);
            external(plan, undo, onCommit, disks);
            List<DiskImage> after = new ArrayList<>();
            for (DiskView d : domain.disks()) {
                DiskRevert r = plan.stream().filter(x -> x.current().vdev().equals(d.vdev())).findFirst().orElse(null);
                after.add(r != null && r.newTop() != null ? new DiskImage(d.vdev(), r.newTop(), DiskFormat.QCOW2)
                        : new DiskImage(d.vdev(), d.image(), d.format()));
            }
            peers.catalogs().save(catalog.withCurrent(name, after));
            undo.commit();
            onCommit.forEach(Runnable::run);
            LOG.info("{}: reverted to snapshot {}", domain.label(), name);
            return new RevertResult(snap, after);
        } catch (QemuImgException e) {
            SnapshotException se = Errors.qemuImg(domain.label() + ": revert to " + name, e);
            undo.rollback(se);
            throw se;
        } catch (CatalogException e) {
            SnapshotException se = Errors.catalog(e);
            undo.rollback(se);
            throw se;
        } catch (IOException e) {
            SnapshotException se = new SnapshotException(SnapshotError.INTERNAL,
                    domain.label() + ": revert to " + name + ": " + e.getMessage(), e);
            undo.rollback(se);
            throw se;
        } catch (RuntimeException e) {
            undo.rollback(e);
            throw e;
        }
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
                plan.add(new DiskRevert(d, cur, null));
            } else {
                boolean reusable = !cur.image().equals(d.image()) && !frozen(catalog, cur.image())
                        && ours(catalog, cur.image());
                plan.add(new DiskRevert(d, cur, reusable ? cur.image() : freshPath(d.image(), snap.name())));
            }
        }
        return plan;
    }

    /** @return whether some snapshot needs {@code image} as it is (it holds internal snapshots or is a frozen layer) */
    private static boolean frozen(DomainCatalog catalog, Path image) {
        return catalog.snapshots().stream().flatMap(s -> s.disks().stream()).anyMatch(d -> d.image().equals(image));
    }

    /**
     * Only a file xensnap made may be replaced: an overlay some snapshot created, or an earlier revert's overlay. A
     * disk the caller pointed at some other image keeps that image untouched.
     */
    private static boolean ours(DomainCatalog catalog, Path image) {
        boolean anOverlay = catalog.snapshots().stream().flatMap(s -> s.disks().stream())
                .anyMatch(d -> image.equals(d.overlay()));
        return anOverlay || image.getFileName().toString().matches(".+\\.[A-Za-z0-9._-]+-revert[0-9]*\\.qcow2");
    }

    private static Path freshPath(Path frozen, String snapshot) {
        Path base = CreatePlanner.defaultOverlay(frozen, snapshot + "-revert");
        Path p = base;
        for (int i = 2; Files.exists(p); i++) {
            p = CreatePlanner.defaultOverlay(frozen, snapshot + "-revert" + i);
        }
        return p;
    }

    private void internal(List<DiskRevert> plan, String name, UndoLog undo, List<Runnable> onCommit, Counter disks)
            throws QemuImgException {
        List<DiskRevert> internal = plan.stream().filter(r -> r.snap().kind() == SnapshotKind.INTERNAL).toList();
        if (internal.isEmpty()) {
            return;
        }
        // Fail before touching anything when an image no longer holds the snapshot.
        for (DiskRevert r : internal) {
            if (peers.qemuImg().info(Images.of(r.snap().image(), DiskFormat.QCOW2), false).snapshotsNamed(name).isEmpty()) {
                throw new QemuImgException(QemuImgException.Reason.NO_SUCH_SNAPSHOT, List.of(), 0, "",
                        "image " + r.snap().image() + " no longer holds internal snapshot " + name, null);
            }
        }
        String keep = "xensnap-undo-" + peers.clock().millis();
        for (DiskRevert r : internal) {
            var image = Images.of(r.snap().image(), DiskFormat.QCOW2);
            peers.qemuImg().createSnapshot(image, keep);
            undo.done("temporary snapshot " + keep + " of " + image.path(), () -> peers.qemuImg().deleteSnapshot(image, keep));
            onCommit.add(() -> {
                try {
                    peers.qemuImg().deleteSnapshot(image, keep);
                } catch (QemuImgException e) {
                    LOG.warn("revert done, but the temporary snapshot {} could not be removed from {}: {}; remove it"
                            + " with: qemu-img snapshot -d {} {}", keep, image.path(), e.getMessage(), keep, image.path());
                }
            });
        }
        List<Parallel.Step> steps = new ArrayList<>();
        for (DiskRevert r : internal) {
            var image = Images.of(r.snap().image(), DiskFormat.QCOW2);
            steps.add(() -> {
                peers.qemuImg().applySnapshot(image, name);
                disks.done(r.snap().vdev() + " reverted");
            });
        }
        QemuImgException first = null;
        for (Parallel.Outcome o : Parallel.run(steps, parallelism)) {
            var image = Images.of(internal.get(o.index()).snap().image(), DiskFormat.QCOW2);
            // applied or not, put the disk back to its state before the revert if anything fails
            undo.done("apply of " + name + " to " + image.path(), () -> peers.qemuImg().applySnapshot(image, keep));
            if (!o.ok() && first == null) {
                first = o.failure() instanceof QemuImgException q ? q
                        : new QemuImgException(QemuImgException.Reason.NOT_RUN, List.of(), 0, "",
                                o.failure().toString(), o.failure());
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private void external(List<DiskRevert> plan, UndoLog undo, List<Runnable> onCommit, Counter disks)
            throws QemuImgException, IOException {
        for (DiskRevert r : plan) {
            if (r.snap().kind() != SnapshotKind.EXTERNAL) {
                continue;
            }
            Path top = r.newTop();
            if (Files.exists(top)) {
                // the disk's current overlay, which no snapshot needs: keep it aside until the revert is committed
                Path aside = top.resolveSibling(top.getFileName() + ".xensnap-old");
                Files.move(top, aside, StandardCopyOption.ATOMIC_MOVE);
                undo.done("move " + top + " aside", () -> Files.move(aside, top, StandardCopyOption.ATOMIC_MOVE));
                onCommit.add(() -> {
                    try {
                        Files.deleteIfExists(aside);
                    } catch (IOException e) {
                        LOG.warn("revert done, but the old overlay {} could not be removed: {}", aside, e.toString());
                    }
                });
            }
            peers.qemuImg().createOverlay(top, Images.of(r.snap().image(), r.snap().format()), java.util.Map.of());
            undo.done("new overlay " + top, () -> Files.deleteIfExists(top));
            disks.done(r.snap().vdev() + " reverted");
        }
    }

    /** Counts finished disks across the parallel qemu-img steps. */
    private static final class Counter {
        private final AtomicLong done = new AtomicLong();
        private final long total;
        private final Progress progress;

        Counter(long total, Progress progress) {
            this.total = total;
            this.progress = progress;
        }

        void done(String step) {
            progress.report(step, done.incrementAndGet(), total, Progress.Unit.DISKS);
        }
    }
}
