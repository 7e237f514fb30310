package io.xensnap.internal.engine.reconcile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.MemoryImage;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.Images;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.engine.revert.ResumingRevert;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.qemuimg.ImageInfo;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.xenstore.DiskImageSwap;
import io.xensnap.internal.xenstore.LibxlFormat;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xl.DomainControlException;
import io.xensnap.internal.xl.SaveImageDigest;
import io.xensnap.internal.xl.SaveImageHeader;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * Settles a create that the catalog marks pending: the process stopped between marking it and clearing the mark.
 * The mark records the plan (per disk the image and, for external disks, the overlay), so every disk can be checked
 * against what QEMU runs or what the image headers hold.
 *
 * <ul>
 *   <li>Running domain: QEMU applies a transaction whole or not at all. Every disk taken → finish (libxl's config,
 *       xenstore, catalog, each only where it is not done yet). No disk taken → take it back (remove the overlay files
 *       QEMU left, clear the mark). A mix cannot come from a transaction: reported, nothing touched.</li>
 *   <li>Shut-off domain (QEMU died): QEMU makes every internal snapshot and every overlay file before it switches any
 *       disk over, and the guest writes to an overlay only after the switch. So: everything present on disk → finish,
 *       which keeps whatever the guest wrote; anything missing → the switch never happened, so the overlays hold
 *       nothing and go, and the internal snapshots made so far are deleted.</li>
 * </ul>
 */
final class CreateRecovery {

    enum State { TAKEN, NOT_TAKEN, UNKNOWN }

    private final Peers peers;
    private final ImageHeaders headers;
    private final Findings findings;

    CreateRecovery(Peers peers, ImageHeaders headers, Findings findings) {
        this.peers = peers;
        this.headers = headers;
        this.findings = findings;
    }

    /** @return whether the pending mark is settled (cleared) */
    boolean live(DomainCatalog catalog, PendingOperation p, LiveDomain domain, DomainConfigStore.Session libxl,
                 XenstoreClient xs) throws QemuImgException {
        String subject = "snapshot " + p.snapshot();
        if (p.memory() != null) {
            unpause(domain.domid(), subject);
        }
        if (!hasPlan(p, subject)) {
            return false;
        }
        Map<DiskSnapshot, State> states = new LinkedHashMap<>();
        for (DiskSnapshot d : p.disks()) {
            states.put(d, liveState(d, p.snapshot(), domain.disk(d.vdev())));
        }
        if (states.values().stream().allMatch(s -> s == State.TAKEN)) {
            return finishLive(catalog, p, domain, libxl, xs);
        }
        if (states.values().stream().allMatch(s -> s == State.NOT_TAKEN)) {
            return rollBack(catalog, p, domain.chainFiles(), "QEMU never took it");
        }
        findings.reported(Code.CREATE_AMBIGUOUS, subject, "QEMU shows " + describe(states)
                + "; a transaction is all or nothing, so something else changed these disks: nothing was touched");
        return false;
    }

    /**
     * A create with memory pauses the domain from its save until its disks are snapshotted: a crash in between leaves
     * it paused, and only this mark tells who paused it. Whatever became of the snapshot, the domain should run.
     */
    void unpause(int domid, String subject) {
        if (peers.domains().isEmpty()) {
            findings.reported(Code.DOMAIN_PAUSE_UNKNOWN, "domain " + domid, subject + " was being taken with memory,"
                    + " which pauses the domain, and xl is not configured (xl.path): check 'xl list' and unpause it");
            return;
        }
        try {
            if (peers.domains().get().state(domid).paused()) {
                peers.domains().get().unpause(domid);
                findings.repaired(Code.DOMAIN_UNPAUSED, "domain " + domid, subject + " was being taken with"
                        + " memory and xensnap stopped while the domain was paused for it; it runs again");
            }
        } catch (DomainControlException e) {
            findings.reported(Code.DOMAIN_PAUSE_UNKNOWN, "domain " + domid, subject + " was being taken with memory,"
                    + " which pauses the domain, and xl failed: " + e.getMessage());
        }
    }

    /** @return whether the pending mark is settled (cleared) */
    boolean offline(DomainCatalog catalog, PendingOperation p) throws QemuImgException {
        String subject = "snapshot " + p.snapshot();
        if (!hasPlan(p, subject)) {
            return false;
        }
        Map<DiskSnapshot, State> states = new LinkedHashMap<>();
        for (DiskSnapshot d : p.disks()) {
            states.put(d, offlineState(d, p.snapshot()));
        }
        if (states.containsValue(State.UNKNOWN)) {
            findings.reported(Code.CREATE_AMBIGUOUS, subject, "the images show " + describe(states)
                    + ": a file is missing or is not the overlay xensnap planned; nothing was touched");
            return false;
        }
        if (states.values().stream().allMatch(s -> s == State.TAKEN)) {
            return finishOffline(catalog, p);
        }
        for (DiskSnapshot d : p.disks()) {
            if (d.kind() == SnapshotKind.INTERNAL && states.get(d) == State.TAKEN) {
                peers.qemuImg().deleteSnapshot(Images.of(d.image(), DiskFormat.QCOW2), p.snapshot());
                headers.forget(d.image());
            }
        }
        return rollBack(catalog, p, Set.of(), "QEMU stopped before it switched any disk to the snapshot");
    }

    private boolean hasPlan(PendingOperation p, String subject) {
        if (p.disks().isEmpty()) {
            findings.reported(Code.CREATE_AMBIGUOUS, subject, "the pending mark does not record which disks the"
                    + " create was about (an older catalog); check the disks and the catalog by hand");
            return false;
        }
        return true;
    }

    private static State liveState(DiskSnapshot d, String name, Optional<LiveDomain.Disk> disk) {
        if (disk.isEmpty() || disk.get().qemu().isEmpty()) {
            return State.UNKNOWN;
        }
        List<Path> chain = disk.get().chain();
        if (d.kind() == SnapshotKind.INTERNAL) {
            return disk.get().layer(d.image()).map(l -> l.snapshots().contains(name) ? State.TAKEN : State.NOT_TAKEN)
                    .orElse(State.UNKNOWN);
        }
        if (chain.size() > 1 && chain.get(0).equals(d.overlay()) && chain.get(1).equals(d.image())) {
            return State.TAKEN;
        }
        return !chain.isEmpty() && chain.get(0).equals(d.image()) ? State.NOT_TAKEN : State.UNKNOWN;
    }

    State offlineState(DiskSnapshot d, String name) throws QemuImgException {
        if (d.kind() == SnapshotKind.INTERNAL) {
            Optional<ImageInfo> info = headers.info(d.image(), DiskFormat.QCOW2.id());
            if (info.isEmpty()) {
                return State.UNKNOWN;
            }
            return info.get().snapshotsNamed(name).isEmpty() ? State.NOT_TAKEN : State.TAKEN;
        }
        if (!Files.exists(d.overlay(), LinkOption.NOFOLLOW_LINKS)) {
            return State.NOT_TAKEN;
        }
        return ours(d) ? State.TAKEN : State.UNKNOWN;
    }

    /** The planned overlay path did not exist when the create was planned; a regular qcow2 on our image is QEMU's. */
    private boolean ours(DiskSnapshot d) throws QemuImgException {
        return Files.isRegularFile(d.overlay(), LinkOption.NOFOLLOW_LINKS)
                && headers.backing(d.overlay()).filter(d.image()::equals).isPresent();
    }

    private boolean finishLive(DomainCatalog catalog, PendingOperation p, LiveDomain domain,
                               DomainConfigStore.Session libxl, XenstoreClient xs) {
        List<String> done = new ArrayList<>();
        try {
            List<LibxlDisk> libxlDisks = new ArrayList<>();
            for (DiskSnapshot d : externals(p)) {
                LiveDomain.Disk disk = domain.disk(d.vdev()).orElseThrow();
                boolean named = disk.libxl().flatMap(LibxlDisk::pdevPath).filter(d.overlay().toString()::equals)
                        .isPresent();
                if (libxl != null && !named) {
                    libxlDisks.add(new LibxlDisk(d.vdev(), d.overlay().toString(), LibxlDiskFormat.QCOW2));
                }
            }
            if (!libxlDisks.isEmpty()) {
                libxl.setDisks(libxlDisks);
                done.add("libxl's config of " + libxlDisks.stream().map(LibxlDisk::vdev).toList());
            }
            DiskImageSwap swap = new DiskImageSwap(xs);
            for (DiskSnapshot d : externals(p)) {
                LiveDomain.Disk disk = domain.disk(d.vdev()).orElseThrow();
                if (!disk.xenstore().target().equals(d.overlay().toString())) {
                    swap.swap(disk.xenstore(), LibxlFormat.QCOW2, d.overlay().toString());
                    done.add("xenstore's " + d.vdev());
                }
            }
            List<DiskImage> after = new ArrayList<>();
            for (LiveDomain.Disk disk : domain.disks()) {
                Optional<DiskSnapshot> ext = externals(p).stream().filter(d -> d.vdev().equals(disk.vdev())).findFirst();
                if (ext.isPresent()) {
                    after.add(new DiskImage(disk.vdev(), ext.get().overlay(), DiskFormat.QCOW2));
                } else if (disk.top().isPresent() && disk.format().isPresent() && !disk.xenstore().cdrom()) {
                    after.add(new DiskImage(disk.vdev(), disk.top().get(), disk.format().get()));
                }
            }
            commit(catalog.withName(domain.name()), p, after);
            done.add("the catalog");
        } catch (LibxlConfigException | XenstoreException | CatalogException e) {
            findings.reported(Code.REPAIR_FAILED, "snapshot " + p.snapshot(), "QEMU had taken it, but finishing"
                    + " the create failed after " + (done.isEmpty() ? "nothing" : String.join(", ", done)) + ": "
                    + e.getMessage() + "; the pending mark stays");
            return false;
        }
        findings.repaired(Code.CREATE_FINISHED, "snapshot " + p.snapshot(), "QEMU had taken it on "
                + p.disks().stream().map(d -> d.vdev() + "/" + d.kind()).toList() + "; wrote " + String.join(", ", done));
        return true;
    }

    private boolean finishOffline(DomainCatalog catalog, PendingOperation p) {
        List<DiskImage> after = new ArrayList<>(catalog.disks());
        for (DiskSnapshot d : p.disks()) {
            DiskImage now = d.kind() == SnapshotKind.EXTERNAL ? new DiskImage(d.vdev(), d.overlay(), DiskFormat.QCOW2)
                    : new DiskImage(d.vdev(), d.image(), d.format());
            if (after.stream().anyMatch(x -> x.vdev().equals(d.vdev()))) {
                after.replaceAll(x -> x.vdev().equals(d.vdev()) ? now : x);
            } else {
                after.add(now);
            }
        }
        try {
            commit(catalog, p, after);
        } catch (CatalogException e) {
            findings.reported(Code.REPAIR_FAILED, "snapshot " + p.snapshot(), "every disk holds it, but the catalog"
                    + " could not be written: " + e.getMessage());
            return false;
        }
        findings.repaired(Code.CREATE_FINISHED, "snapshot " + p.snapshot(), "the device model stopped after it had"
                + " prepared every disk ("
                + p.disks().stream().map(d -> d.vdev() + "/" + d.kind()).toList() + "); the snapshot is complete on"
                + " disk and now in the catalog, with the overlays as the disks' images");
        return true;
    }

    private void commit(DomainCatalog catalog, PendingOperation p, List<DiskImage> after) throws CatalogException {
        DomainCatalog next = catalog.snapshot(p.snapshot()).isPresent() ? catalog.withCurrent(catalog.current(), after)
                : catalog.withSnapshot(new SnapshotInfo(catalog.uuid(), p.snapshot(), p.description(), p.started(),
                        catalog.current(), p.disks()).withMemory(memory(p)), after);
        peers.catalogs().save(next.withPending(Optional.empty()));
        if (p.memory() != null) {
            // a create that restored the domain from a copy of its save image (RestoringCreate) and stopped before
            // removing it; the snapshot keeps the image itself
            try {
                Files.deleteIfExists(ResumingRevert.restoreCopy(p.memory()));
            } catch (IOException e) {
                findings.reported(Code.REPAIR_FAILED, ResumingRevert.restoreCopy(p.memory()).toString(),
                        "cannot remove the copy of the save image: " + e.getMessage());
            }
        }
    }

    /** A finished create's save image, when it is complete: xl wrote the file before the disks' transaction. */
    private static MemoryImage memory(PendingOperation p) {
        if (p.memory() == null || SaveImageHeader.refusal(p.memory()) != null) {
            return null;
        }
        try {
            return new MemoryImage(p.memory(), Files.size(p.memory()), SaveImageDigest.sha256(p.memory()));
        } catch (IOException e) {
            return null;
        }
    }

    boolean rollBack(DomainCatalog catalog, PendingOperation p, Set<Path> inUse, String why)
            throws QemuImgException {
        List<Path> removed = new ArrayList<>();
        if (!removeFile(peers.catalogs().domainConfig(catalog.uuid(), p.snapshot()), "the domain config kept by",
                p, removed) || p.memory() != null && !removeFile(p.memory(), "the save image left by", p, removed)
                || p.memory() != null && !removeFile(ResumingRevert.restoreCopy(p.memory()),
                        "the copy of the save image left by", p, removed)) {
            return false;
        }
        for (DiskSnapshot d : externals(p)) {
            Path overlay = d.overlay();
            if (!Files.exists(overlay, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            if (inUse.contains(overlay) || !ours(d) || headers.holdsData(overlay)) {
                findings.reported(Code.ORPHAN_KEPT, overlay.toString(), "planned as the overlay of " + d.vdev()
                        + " for snapshot " + p.snapshot() + ", but it is in use, not the overlay xensnap planned, or"
                        + " holds data; left in place");
                continue;
            }
            try {
                peers.overlayFiles().remove(overlay);
                headers.forget(overlay);
                removed.add(overlay);
            } catch (IOException e) {
                findings.reported(Code.REPAIR_FAILED, overlay.toString(), "cannot remove the overlay left by the"
                        + " create of " + p.snapshot() + ": " + e.getMessage() + "; the pending mark stays");
                return false;
            }
        }
        try {
            DomainCatalog cleared = catalog.withPending(Optional.empty());
            boolean recordsNothing = cleared.snapshots().isEmpty() && cleared.disks().isEmpty()
                    && cleared.current() == null;
            // a catalog that only ever held this mark goes, as the engine's own undo of a first create does
            peers.catalogs().restore(cleared, !recordsNothing);
        } catch (CatalogException e) {
            findings.reported(Code.REPAIR_FAILED, "snapshot " + p.snapshot(), why + ", but the pending mark could not"
                    + " be cleared: " + e.getMessage());
            return false;
        }
        findings.repaired(Code.CREATE_ROLLED_BACK, "snapshot " + p.snapshot(), why + "; removed "
                + (removed.isEmpty() ? "no file" : removed) + " and cleared the pending mark");
        return true;
    }

    /** @return false when {@code file} is there and cannot be removed (reported: the pending mark stays) */
    private boolean removeFile(Path file, String what, PendingOperation p, List<Path> removed) {
        try {
            if (Files.deleteIfExists(file)) {
                removed.add(file);
            }
            return true;
        } catch (IOException e) {
            findings.reported(Code.REPAIR_FAILED, file.toString(), "cannot remove " + what + " the create of "
                    + p.snapshot() + ": " + e.getMessage() + "; the pending mark stays");
            return false;
        }
    }

    private static List<DiskSnapshot> externals(PendingOperation p) {
        return p.disks().stream().filter(d -> d.kind() == SnapshotKind.EXTERNAL).toList();
    }

    static String describe(Map<DiskSnapshot, State> states) {
        List<String> out = new ArrayList<>();
        states.forEach((d, s) -> out.add(d.vdev() + " " + s.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')));
        return String.join(", ", out);
    }
}
