package io.xensnap.internal.engine.create;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.Images;
import io.xensnap.internal.engine.OverlayFiles;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.UndoLog;
import io.xensnap.internal.qemuimg.QemuImgException;

/**
 * Create on a shut-off domain with qemu-img, one disk after another, each step recorded so that a failure on the
 * last disk takes back what was done to the others. The catalog write is the commit.
 */
public final class OfflineCreate {

    private static final Logger LOG = LoggerFactory.getLogger(OfflineCreate.class);

    private final Peers peers;

    public OfflineCreate(Peers peers) {
        this.peers = peers;
    }

    public SnapshotInfo run(CreatePlan plan) throws SnapshotException {
        UndoLog undo = new UndoLog();
        List<DiskSnapshot> taken = new ArrayList<>();
        List<DiskImage> after = new ArrayList<>();
        // the overlays' directories stay held until the create is committed or undone: the undo removes through them
        List<OverlayFiles.Made> made = new ArrayList<>();
        try {
            recordOverlays(plan, undo);
            for (DiskView d : plan.domain().disks()) {
                snapshotDisk(plan, d, undo, made, taken, after);
            }
            SnapshotInfo info = new SnapshotInfo(plan.domain().uuid(), plan.name(), plan.description(),
                    peers.clock().instant(), plan.catalog().current(), taken);
            peers.catalogs().save(plan.catalog().withSnapshot(info, after));
            undo.commit();
            LOG.info("{}: snapshot {} created offline on {}", plan.domain().label(), plan.name(),
                    plan.disks().stream().map(x -> x.disk().vdev() + "/" + x.kind()).toList());
            return info;
        } catch (QemuImgException | IOException | CatalogException e) {
            throw Errors.rolledBack(undo, plan.domain().label(), "snapshot " + plan.name(), e);
        } catch (RuntimeException e) {
            undo.rollback(e);
            throw e;
        } finally {
            made.forEach(OverlayFiles.Made::close);
        }
    }

    /**
     * The record comes before the file: a crash between qemu-img and the catalog write of {@link #run} must not
     * leave an overlay that reconcile cannot tell from an operator's.
     */
    private void recordOverlays(CreatePlan plan, UndoLog undo) throws CatalogException {
        List<java.nio.file.Path> overlays = plan.disks().stream().filter(x -> x.kind() == SnapshotKind.EXTERNAL)
                .map(DiskPlan::overlay).toList();
        if (!overlays.isEmpty()) {
            boolean existed = peers.catalogs().exists(plan.domain().uuid());
            peers.catalogs().save(plan.catalog().withMade(overlays));
            undo.done("record of the overlays " + overlays,
                    () -> peers.catalogs().restore(plan.catalog(), existed));
        }
    }

    /**
     * One disk of the domain: its snapshot, if the plan names it, with its undo; what it holds afterwards. Also
     * {@link RestoringCreate}'s, on the disks of a domain it destroyed.
     */
    void snapshotDisk(CreatePlan plan, DiskView d, UndoLog undo, List<OverlayFiles.Made> made,
            List<DiskSnapshot> taken, List<DiskImage> after) throws QemuImgException, IOException {
        Optional<DiskPlan> p = plan.disks().stream().filter(x -> x.disk().vdev().equals(d.vdev())).findFirst();
        var image = Images.of(d.image(), d.format());
        if (p.isEmpty()) {
            if (DiskView.hasImage(d)) {
                after.add(new DiskImage(d.vdev(), d.image(), d.format()));
            }
        } else if (p.get().kind() == SnapshotKind.INTERNAL) {
            peers.qemuImg().createSnapshot(image, plan.name());
            undo.done("internal snapshot " + plan.name() + " in " + d.image(),
                    () -> peers.qemuImg().deleteSnapshot(image, plan.name()));
            taken.add(new DiskSnapshot(d.vdev(), SnapshotKind.INTERNAL, d.image(), DiskFormat.QCOW2, null));
            after.add(new DiskImage(d.vdev(), d.image(), d.format()));
        } else {
            var overlay = p.get().overlay();
            OverlayFiles.Made m = peers.overlayFiles().make(p.get().place());
            made.add(m);
            undo.done("overlay " + overlay, m::remove);
            peers.overlayFiles().format(m, image, -1);
            taken.add(new DiskSnapshot(d.vdev(), SnapshotKind.EXTERNAL, d.image(), d.format(), overlay));
            after.add(new DiskImage(d.vdev(), overlay, DiskFormat.QCOW2));
        }
    }
}
