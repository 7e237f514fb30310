package io.xensnap.internal.engine.create;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.MemoryImage;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.DomainView;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.OverlayFiles;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.UndoLog;
import io.xensnap.internal.engine.revert.ResumingRevert;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.libxl.LibxlDomain;
import io.xensnap.internal.libxl.SavedDomainConfig;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.xl.DomainControl;
import io.xensnap.internal.xl.DomainControlException;
import io.xensnap.internal.xl.SaveImageDigest;
import io.xensnap.internal.xl.SaveImageException;
import io.xensnap.internal.xl.SaveImageHeader;

/**
 * A snapshot with memory of a running domain with a disk that blkback (the kernel's block backend) serves. blkback can
 * neither open a qcow2 overlay nor take an internal snapshot, and nothing can switch it to another image while the
 * guest runs. So the domain is saved ({@code xl save -p}), destroyed, its disks are snapshotted offline with qemu-img
 * like a shut-off domain's, and {@code xl restore} brings it back from a copy of the save image whose config names
 * each new overlay as a qdisk disk in qcow2: the blkback disk comes back served by QEMU, on its overlay. The downtime
 * is the save, the disks' snapshots and the restore: seconds, not the milliseconds of {@link LiveCreate}.
 *
 * <p>The catalog's mark ({@link PendingOperation.Kind#CREATE_SAVED}) comes first: until the restore on the new images
 * begins, every failure, here or after a crash in reconcile, ends with the disks as they were and the domain restored
 * from the untouched save image. The undo of the destroy is that restore; the steps older than it (the save image, the
 * mark) are undone only once it succeeded, so a domain that could not be brought back keeps what brings it back.
 */
public final class RestoringCreate {

    private static final Logger LOG = LoggerFactory.getLogger(RestoringCreate.class);

    private final Peers peers;
    private final EngineHooks hooks;
    private final OfflineCreate disks;

    public RestoringCreate(Peers peers, EngineHooks hooks) {
        this.peers = peers;
        this.hooks = hooks;
        this.disks = new OfflineCreate(peers);
    }

    public SnapshotInfo run(CreatePlan plan) throws SnapshotException {
        UndoLog undo = new UndoLog();
        // the failures of undo steps that must not stop the restore of the domain (see tolerant)
        Exception tolerated = new Exception("tolerated");
        List<OverlayFiles.Made> made = new ArrayList<>();
        try {
            return run(plan, undo, tolerated, made);
        } catch (QemuImgException | IOException | LibxlConfigException | CatalogException | DomainControlException
                | SaveImageException | SnapshotException e) {
            SnapshotException se = translate(plan, e);
            boolean undone = undo.rollbackUntilFailure(se);
            for (Throwable t : tolerated.getSuppressed()) {
                se.addSuppressed(t);
            }
            if (!undone) {
                throw new SnapshotException(se.code(), se.getMessage() + "; undoing it stopped at a step that failed"
                        + " (below): the domain may be shut off, and its save image " + plan.memory() + " and the"
                        + " pending mark stay, so that reconcile can restore it", se);
            }
            throw se;
        } catch (RuntimeException e) {
            undo.rollbackUntilFailure(e);
            throw e;
        } finally {
            made.forEach(OverlayFiles.Made::close);
        }
    }

    private SnapshotInfo run(CreatePlan plan, UndoLog undo, Exception tolerated, List<OverlayFiles.Made> made)
            throws QemuImgException, IOException, LibxlConfigException, CatalogException, DomainControlException,
            SaveImageException, SnapshotException {
        DomainView domain = plan.domain();
        int domid = domain.domid().getAsInt();
        DomainControl xl = peers.domains().orElseThrow();
        DomainCatalog marked = PendingMark.write(peers, plan,
                new LibxlDomain(domid, UUID.fromString(domain.uuid())), undo, PendingOperation.Kind.CREATE_SAVED, null);
        MemorySave memory = new MemorySave(xl, domain.label(), domid, plan.memory());
        memory.save(undo);
        UndoLog diskUndo = new UndoLog();
        destroy(plan, xl, memory, undo, diskUndo, tolerated);
        List<DiskSnapshot> taken = new ArrayList<>();
        List<DiskImage> after = new ArrayList<>();
        for (DiskView d : domain.disks()) {
            disks.snapshotDisk(plan, d, diskUndo, made, taken, after);
        }
        Path copy = ResumingRevert.restoreCopy(plan.memory());
        Files.deleteIfExists(copy);
        undo.done("the copy " + copy + " of the save image", tolerant("remove " + copy,
                () -> Files.deleteIfExists(copy), tolerated));
        writeCopy(plan, copy);
        // from here the domain may come back on the new images: the mark says so, and reconcile then settles the
        // create as any other create with memory (running on the overlays: finished)
        DomainCatalog restoring = marked.withPending(marked.pending().map(p -> p.as(PendingOperation.Kind.CREATE)));
        peers.catalogs().save(restoring);
        undo.done("the mark of the restore on the new images", tolerant("put the mark back",
                () -> peers.catalogs().save(marked), tolerated));
        EngineHooks.call(() -> hooks.beforeTransaction(plan));
        try {
            xl.restore(copy, Optional.empty());
        } catch (DomainControlException e) {
            throw Errors.xl(domain.label() + ": snapshot " + plan.name() + ": xl restore of the domain on the new"
                    + " images failed", e);
        }
        // POINT OF NO RETURN. The domain runs again, on the overlays and the internal snapshots: what the guest writes
        // now lands in them. Undoing that would mean another save and restore; from here on we go forward. libxl
        // wrote the new domain's userdata config itself at the restore, from the copy's header, and made its xenstore
        // backends (a qdisk naming the overlay): xensnap has nothing to write to either. Only the catalog is left.
        undo.commit();
        deleteQuietly(copy, domain.label());
        EngineHooks.call(() -> hooks.afterPointOfNoReturn(plan));
        return finish(plan, restoring, taken, after);
    }

    /**
     * {@code xl destroy} of the saved, paused domain. Its undo restores the domain from the save image, after the
     * disks' own undo ({@code diskUndo}: they must be as they were when the image was saved): a disk whose undo fails
     * is reported, but does not keep the domain from being restored, since the original images are untouched by the
     * snapshots (a leftover overlay or internal snapshot is not in the domain's way).
     */
    private void destroy(CreatePlan plan, DomainControl xl, MemorySave memory, UndoLog undo, UndoLog diskUndo,
                         Exception tolerated) throws SnapshotException {
        int domid = plan.domain().domid().getAsInt();
        try {
            xl.destroy(domid);
        } catch (DomainControlException e) {
            throw Errors.xl(plan.domain().label() + ": snapshot " + plan.name() + ": xl destroy of the saved"
                    + " domain failed", e);
        }
        memory.destroyed();
        LOG.info("{}: domain {} saved and destroyed for snapshot {}", plan.domain().label(), domid, plan.name());
        undo.done("domain " + domid + " destroyed", () -> {
            diskUndo.rollback(tolerated);
            xl.restore(plan.memory(), Optional.empty());
            LOG.info("{}: restored from {} as it was", plan.domain().label(), plan.memory());
        });
    }

    /**
     * The copy of the save image that {@code xl restore} reads (xl takes JSON config only from the image itself): its
     * config names each new overlay in qcow2, and a disk blkback served becomes a qdisk, since only QEMU serves qcow2.
     */
    private static void writeCopy(CreatePlan plan, Path copy) throws SaveImageException, LibxlConfigException {
        SaveImageHeader header = SaveImageHeader.read(plan.memory());
        byte[] json = header.jsonConfig().orElseThrow(() -> new SaveImageException(plan.memory()
                + " carries no libxl config in JSON"));
        List<LibxlDisk> moved = new ArrayList<>();
        List<LibxlDisk> qdisks = new ArrayList<>();
        for (DiskPlan d : plan.disks()) {
            if (d.kind() == SnapshotKind.EXTERNAL) {
                LibxlDisk disk = new LibxlDisk(d.disk().vdev(), d.overlay().toString(), LibxlDiskFormat.QCOW2);
                (d.disk().backend() == DiskView.Backend.PHY ? qdisks : moved).add(disk);
            }
        }
        header.rewrite(plan.memory(), SavedDomainConfig.withDisks(json, moved, qdisks, plan.memory().toString()),
                copy);
        LOG.info("{}: {} names {} on qdisk and {} for xl restore", plan.domain().label(), copy, qdisks, moved);
    }

    /** The catalog, after the point of no return: a failure keeps the mark, and reconcile finishes the create. */
    private SnapshotInfo finish(CreatePlan plan, DomainCatalog restoring, List<DiskSnapshot> taken,
                                List<DiskImage> after) throws SnapshotException {
        String label = plan.domain().label();
        MemoryImage image;
        try {
            image = new MemoryImage(plan.memory(), Files.size(plan.memory()), SaveImageDigest.sha256(plan.memory()));
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, label + ": snapshot " + plan.name() + " was taken and"
                    + " the domain runs on it, but the save image cannot be read: " + e.getMessage()
                    + "; the pending mark stays for reconcile", e);
        }
        SnapshotInfo info = new SnapshotInfo(plan.domain().uuid(), plan.name(), plan.description(),
                peers.clock().instant(), restoring.current(), taken, image, false, java.time.Duration.ZERO);
        try {
            peers.catalogs().save(restoring.withSnapshot(info, after).withPending(Optional.empty()));
        } catch (CatalogException e) {
            throw new SnapshotException(e.unwritable() ? SnapshotError.CATALOG_UNWRITABLE : SnapshotError.INTERNAL,
                    label + ": snapshot " + plan.name() + " was taken and the domain runs on it, but the catalog was"
                            + " not updated: " + e.getMessage() + "; the pending mark stays for reconcile", e);
        }
        LOG.info("{}: snapshot {} created by save, destroy and restore on {}", label, plan.name(),
                plan.disks().stream().map(p -> p.disk().vdev() + "/" + p.kind()).toList());
        return info;
    }

    /** An undo step whose failure is reported with the others but does not stop the older steps. */
    private static UndoLog.Undo tolerant(String what, UndoLog.Undo step, Exception tolerated) {
        return () -> {
            try {
                step.run();
            } catch (Exception e) {
                tolerated.addSuppressed(new Exception("could not undo: " + what + ": " + e.getMessage(), e));
            }
        };
    }

    private static SnapshotException translate(CreatePlan plan, Exception e) {
        String label = plan.domain().label();
        if (e instanceof SaveImageException s) {
            return new SnapshotException(SnapshotError.INTERNAL, label + ": snapshot " + plan.name() + ": the save"
                    + " image cannot be copied for the restore: " + s.getMessage(), s);
        }
        if (e instanceof LibxlConfigException l) {
            return Errors.libxl(label + ": snapshot " + plan.name() + ": the config in the save image", l);
        }
        return Errors.translate(label, "snapshot " + plan.name(), e);
    }

    private static void deleteQuietly(Path copy, String label) {
        try {
            Files.deleteIfExists(copy);
        } catch (IOException e) {
            // the snapshot is taken and the domain runs: the leftover copy is not worth failing it for; a revert or
            // reconcile of the domain removes it
            LOG.warn("{}: {} could not be removed: {}", label, copy, e.toString());
        }
    }
}
