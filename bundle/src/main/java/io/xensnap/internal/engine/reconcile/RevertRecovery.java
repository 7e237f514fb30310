package io.xensnap.internal.engine.reconcile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.qemuimg.ImageInfo;
import io.xensnap.internal.qemuimg.Qcow2Sharing;
import io.xensnap.internal.qemuimg.QemuImgException;

/**
 * Settles a revert the catalog marks pending ({@link PendingOperation} describes the marks). A revert that had not
 * committed is taken back, because a request that was never answered must leave the domain as it was; one that had
 * committed is finished (its undo snapshots and set-aside overlays removed). Every disk is checked before anything is
 * touched; if one does not tell a story the revert can have left, nothing is.
 *
 * <p>Taking back, per disk:
 * <ul>
 *   <li>internal, listed in the mark (every undo snapshot had been taken, the apply may have run): the undo snapshot
 *       is applied and deleted. Missing → ambiguous (the disk may hold the snapshot's state, and nothing else holds
 *       its state before the revert). Written since the revert's last step on it ({@link Qcow2Sharing}) → ambiguous:
 *       the domain ran, and applying the undo snapshot would lose those writes.</li>
 *   <li>internal, not listed: nothing was applied; an undo snapshot already taken is deleted.</li>
 *   <li>external: the new overlay, if made, is removed (only when it is a qcow2 on the frozen image that holds nothing:
 *       otherwise the domain ran on it → ambiguous), and the overlay set aside is moved back to its path.</li>
 * </ul>
 * The domain running again is ambiguous in itself: its disks may hold new writes, and qemu-img must not touch them.
 */
final class RevertRecovery {

    private final Peers peers;
    private final ImageHeaders headers;
    private final Findings findings;

    RevertRecovery(Peers peers, ImageHeaders headers, Findings findings) {
        this.peers = peers;
        this.headers = headers;
        this.findings = findings;
    }

    /** A revert mark on a domain that runs: reported, never touched. @return false: the mark stays */
    static boolean live(PendingOperation p, int domid, Findings findings) {
        String what = p.kind() == PendingOperation.Kind.REVERT ? "a revert to it started at " + p.started()
                + " did not finish" : "a revert to it started at " + p.started() + " committed, but its undo"
                + " snapshots (" + p.undoTag() + ") or set-aside overlays were not all removed";
        findings.reported(Code.REVERT_AMBIGUOUS, "snapshot " + p.snapshot(), what + ", and the domain runs again as"
                + " domid " + domid + ": its disks may hold writes made since, and qemu-img must not touch images a"
                + " QEMU holds; nothing was touched. Shut the domain down and reconcile it");
        return false;
    }

    /** @return whether the pending mark is settled (cleared) */
    boolean offline(DomainCatalog catalog, PendingOperation p) {
        return p.kind() == PendingOperation.Kind.REVERT_CLEANUP ? finish(catalog, p) : rollBack(catalog, p);
    }

    /** What taking back one external disk does. */
    private record ExternalUndo(String vdev, Path newTop, boolean removeTop, boolean moveBack) {
    }

    private boolean rollBack(DomainCatalog catalog, PendingOperation p) {
        String subject = "snapshot " + p.snapshot();
        String tag = p.undoTag();
        Optional<SnapshotInfo> snap = catalog.snapshot(p.snapshot());
        if (snap.isEmpty()) {
            findings.reported(Code.REVERT_AMBIGUOUS, subject, "a revert to it did not finish, but the catalog no"
                    + " longer lists the snapshot; nothing was touched");
            return false;
        }
        List<String> problems = new ArrayList<>();
        List<Path> restore = new ArrayList<>();
        List<Path> drop = new ArrayList<>();
        List<ExternalUndo> externals = new ArrayList<>();
        for (DiskSnapshot d : snap.get().disks()) {
            try {
                if (d.kind() == SnapshotKind.INTERNAL) {
                    internal(d, listed(p, d.vdev(), SnapshotKind.INTERNAL).isPresent(), tag, restore, drop, problems);
                } else {
                    external(catalog, p, d, externals, problems);
                }
            } catch (QemuImgException | IOException e) {
                problems.add(d.vdev() + ": cannot be read: " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            findings.reported(Code.REVERT_AMBIGUOUS, subject, "a revert to it started at " + p.started() + " did not"
                    + " finish, and it cannot be taken back safely: " + String.join("; ", problems)
                    + "; nothing was touched");
            return false;
        }
        List<String> done = new ArrayList<>();
        try {
            undoInternals(catalog, p, restore, drop, done);
            undoExternals(externals, done);
            peers.catalogs().save(catalog.withPending(Optional.empty()));
        } catch (QemuImgException | IOException | CatalogException e) {
            findings.reported(Code.REPAIR_FAILED, subject, "taking back the revert failed after "
                    + (done.isEmpty() ? "nothing" : String.join(", ", done)) + ": " + e.getMessage()
                    + "; the pending mark stays");
            return false;
        }
        findings.repaired(Code.REVERT_ROLLED_BACK, subject, "a revert to it started at " + p.started() + " had not"
                + " committed, so it was taken back: " + (done.isEmpty() ? "no disk had changed"
                : String.join(", ", done)) + "; every disk is as it was before, and the catalog's current snapshot is "
                + (catalog.current() == null ? "none" : catalog.current()));
        return true;
    }

    /** Each internal disk back at its undo point, then every undo point deleted. */
    private void undoInternals(DomainCatalog catalog, PendingOperation p, List<Path> restore, List<Path> drop,
            List<String> done) throws QemuImgException, CatalogException {
        String tag = p.undoTag();
        for (Path image : restore) {
            peers.qemuImg().applySnapshot(Images.of(image, DiskFormat.QCOW2), tag);
            headers.forget(image);
            done.add("applied " + tag + " to " + image);
        }
        if (!restore.isEmpty()) {
            // every listed disk is back at its undo point: a run that stops from here on must not expect them
            List<DiskSnapshot> external = p.disks().stream().filter(x -> x.kind() == SnapshotKind.EXTERNAL)
                    .toList();
            peers.catalogs().save(catalog.withPending(Optional.of(new PendingOperation(p.kind(), p.snapshot(),
                    p.started(), p.description(), external))));
        }
        for (Path image : drop) {
            peers.qemuImg().deleteSnapshot(Images.of(image, DiskFormat.QCOW2), tag);
            headers.forget(image);
            done.add("deleted " + tag + " from " + image);
        }
    }

    /** Each external disk's new overlay removed and, when its old one was set aside, that one moved back. */
    private void undoExternals(List<ExternalUndo> externals, List<String> done) throws IOException {
        for (ExternalUndo x : externals) {
            if (x.removeTop()) {
                peers.overlayFiles().remove(x.newTop());
                headers.forget(x.newTop());
                done.add("removed the new overlay " + x.newTop());
            }
            if (x.moveBack()) {
                Files.move(PendingOperation.setAside(x.newTop()), x.newTop(), StandardCopyOption.ATOMIC_MOVE);
                done.add("moved " + x.vdev() + "'s overlay back to " + x.newTop());
            }
        }
    }

    private void internal(DiskSnapshot d, boolean listed, String tag, List<Path> restore, List<Path> drop,
                          List<String> problems) throws QemuImgException, IOException {
        Optional<ImageInfo> info = headers.info(d.image(), DiskFormat.QCOW2.id());
        if (info.isEmpty()) {
            problems.add(d.vdev() + ": image " + d.image() + " is gone");
            return;
        }
        int undoPoints = info.get().snapshotsNamed(tag).size();
        if (undoPoints > 1) {
            problems.add(d.vdev() + ": " + d.image() + " holds " + undoPoints + " snapshots named " + tag);
        } else if (listed && undoPoints == 0) {
            problems.add(d.vdev() + ": the undo snapshot " + tag + " is missing from " + d.image() + ", so the disk"
                    + " may already hold the snapshot's state and nothing holds its state before the revert");
        } else if (listed) {
            int written = Qcow2Sharing.unsharedTables(d.image());
            if (written > 0) {
                problems.add(d.vdev() + ": " + d.image() + " was written after the revert's last step on it ("
                        + written + " L2 table(s) of its own): the domain ran since, and applying " + tag
                        + " would lose those writes");
                return;
            }
            restore.add(d.image());
            drop.add(d.image());
        } else if (undoPoints == 1) {
            drop.add(d.image());
        }
    }

    private void external(DomainCatalog catalog, PendingOperation p, DiskSnapshot d, List<ExternalUndo> externals,
                          List<String> problems) throws QemuImgException {
        Optional<DiskSnapshot> planned = listed(p, d.vdev(), SnapshotKind.EXTERNAL);
        if (planned.isEmpty()) {
            problems.add(d.vdev() + ": the mark holds no plan for it");
            return;
        }
        Path top = planned.get().overlay();
        Path aside = PendingOperation.setAside(top);
        boolean reused = catalog.disks().stream().filter(x -> x.vdev().equals(d.vdev())).map(DiskImage::image)
                .anyMatch(top::equals);
        boolean setAside = Files.exists(aside, LinkOption.NOFOLLOW_LINKS);
        boolean made = Files.exists(top, LinkOption.NOFOLLOW_LINKS);
        if (!reused && setAside) {
            problems.add(d.vdev() + ": " + aside + " exists, but the revert set nothing aside there");
            return;
        }
        if (reused && !setAside) {
            if (!made) {
                problems.add(d.vdev() + ": its image " + top + " is gone");
            }
            // not set aside yet: the disk was not touched
            return;
        }
        if (made && !emptyOverlayOn(top, d.image())) {
            problems.add(d.vdev() + ": " + top + " is not the empty overlay on " + d.image() + " the revert makes"
                    + " (it holds data or another backing file): the domain may have run on it");
            return;
        }
        externals.add(new ExternalUndo(d.vdev(), top, made, reused));
    }

    private boolean emptyOverlayOn(Path overlay, Path frozen) throws QemuImgException {
        Optional<ImageInfo> info = headers.info(overlay, DiskFormat.QCOW2.id());
        return info.isPresent() && info.get().fullBackingFilename().map(Path::of).filter(frozen::equals).isPresent()
                && !headers.holdsData(overlay);
    }

    /** A committed revert: what is left is removed; the set-aside overlays hold only what the revert discarded. */
    private boolean finish(DomainCatalog catalog, PendingOperation p) {
        String subject = "snapshot " + p.snapshot();
        String tag = p.undoTag();
        List<String> done = new ArrayList<>();
        try {
            for (DiskSnapshot d : p.disks()) {
                if (d.kind() == SnapshotKind.INTERNAL) {
                    Optional<ImageInfo> info = headers.info(d.image(), DiskFormat.QCOW2.id());
                    if (info.isPresent() && !info.get().snapshotsNamed(tag).isEmpty()) {
                        peers.qemuImg().deleteSnapshot(Images.of(d.image(), DiskFormat.QCOW2), tag);
                        headers.forget(d.image());
                        done.add("deleted " + tag + " from " + d.image());
                    }
                } else if (peers.overlayFiles().remove(PendingOperation.setAside(d.overlay()))) {
                    done.add("removed " + PendingOperation.setAside(d.overlay()));
                }
            }
            peers.catalogs().save(catalog.withPending(Optional.empty()));
        } catch (QemuImgException | IOException | CatalogException e) {
            findings.reported(Code.REPAIR_FAILED, subject, "finishing the revert failed after "
                    + (done.isEmpty() ? "nothing" : String.join(", ", done)) + ": " + e.getMessage()
                    + "; the pending mark stays");
            return false;
        }
        findings.repaired(Code.REVERT_FINISHED, subject, "a revert to it had committed; "
                + (done.isEmpty() ? "nothing was left" : String.join(", ", done)) + "; the mark is cleared");
        return true;
    }

    private static Optional<DiskSnapshot> listed(PendingOperation p, String vdev, SnapshotKind kind) {
        return p.disks().stream().filter(x -> x.vdev().equals(vdev) && x.kind() == kind).findFirst();
    }
}
