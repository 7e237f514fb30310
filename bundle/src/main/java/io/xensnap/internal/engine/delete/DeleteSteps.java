package io.xensnap.internal.engine.delete;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.DomainView;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.QmpSession;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDomain;
import io.xensnap.internal.libxl.LibxlLockKind;
import io.xensnap.internal.libxl.UserdataLock;
import io.xensnap.internal.qmp.QmpException;
import io.xensnap.internal.xenstore.DiskImageSwap;
import io.xensnap.internal.xenstore.LibxlFormat;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * The steps a delete takes on its peers, shared by the shut-off, the running and the merging delete: libxl's locks
 * and QMP session, the catalog's pending mark and its end, libxl's config and xenstore following a merge.
 */
final class DeleteSteps {

    private final Peers peers;

    DeleteSteps(Peers peers) {
        this.peers = peers;
    }

    Peers peers() {
        return peers;
    }

    UserdataLock deviceChangesLock(DomainView domain) throws SnapshotException {
        try {
            return peers.libxl().lock(libxl(domain), LibxlLockKind.DEVICE_CHANGES);
        } catch (LibxlConfigException e) {
            throw Errors.libxl(domain.label(), e);
        }
    }

    QmpSession connect(DomainView domain) throws SnapshotException {
        try {
            return QmpSession.open(peers, domain.domid().getAsInt(), domain.uuid());
        } catch (LibxlConfigException e) {
            throw Errors.libxl(domain.label(), e);
        } catch (QmpException e) {
            throw Errors.qmp(domain.label(), e);
        }
    }

    DomainConfigStore.Session hold(DomainView domain) throws SnapshotException {
        try {
            return peers.libxl().hold(libxl(domain));
        } catch (LibxlConfigException e) {
            throw Errors.libxl(domain.label(), e);
        }
    }

    private static LibxlDomain libxl(DomainView domain) {
        return new LibxlDomain(domain.domid().getAsInt(), UUID.fromString(domain.uuid()));
    }

    boolean exists(DomainCatalog catalog) {
        return peers.catalogs().exists(catalog.uuid());
    }

    /** @return the catalog as saved with the delete of {@code name} marked pending, no disk begun */
    DomainCatalog mark(DomainCatalog catalog, String name) throws SnapshotException {
        DomainCatalog marked = catalog.withPending(Optional.of(new PendingOperation(
                PendingOperation.Kind.DELETE, name, peers.clock().instant())));
        save(marked);
        return marked;
    }

    /**
     * Records in the pending mark that {@code d}'s merge or internal delete is about to begin. A cancelled or
     * half-done merge leaves the frozen image changed while the chain still looks untouched, so reconcile may take a
     * delete back only when the mark proves that no disk had begun.
     */
    void begin(DomainCatalog marked, List<DiskSnapshot> started, DiskSnapshot d) throws SnapshotException {
        started.add(d);
        PendingOperation p = marked.pending().orElseThrow();
        save(marked.withPending(Optional.of(new PendingOperation(PendingOperation.Kind.DELETE, p.snapshot(),
                p.started(), "", started))));
    }

    /**
     * Nothing irreversible happened when the first disk failed validation inside QEMU: the mark is taken back. Any
     * other failure keeps it, so that reconcile can see which disks were begun.
     */
    void takeBackWhenNothingChanged(DomainCatalog catalog, boolean existed, SnapshotException e) {
        if (e.getCause() instanceof Delete.NothingChanged) {
            try {
                peers.catalogs().restore(catalog, existed);
            } catch (CatalogException ce) {
                e.addSuppressed(ce);
            }
        }
    }

    /**
     * The catalog no longer lists {@code name}, a newer snapshot that froze one of its overlays now freezes the image
     * that overlay was merged into, the disks' images are those after the delete, and the mark is gone: one write.
     */
    void commit(DomainCatalog marked, String name, List<DiskImage> after) throws SnapshotException {
        DomainCatalog without = marked.withoutSnapshotMergedDown(name);
        save(without.withCurrent(without.current(), after).withPending(Optional.empty()));
    }

    /** After a merge QEMU runs on the base image again: libxl's config and the xenstore backend must say so too. */
    void follow(DomainView domain, DomainConfigStore.Session libxl, SnapshotInfo snap, List<LibxlDisk> disks)
            throws SnapshotException {
        if (disks.isEmpty()) {
            return;
        }
        try (XenstoreClient xs = peers.xenstore().open()) {
            libxl.setDisks(disks);
            DiskImageSwap swap = new DiskImageSwap(xs);
            for (LibxlDisk d : disks) {
                DiskView view = domain.disk(d.vdev()).orElseThrow();
                swap.swap(view.xenstore(), LibxlFormat.ofLibxlName(d.format().jsonName()), d.pdevPath().orElseThrow());
            }
        } catch (LibxlConfigException e) {
            throw Errors.libxl(domain.label() + ": snapshot " + snap.name() + " was merged, but", e);
        } catch (XenstoreException e) {
            throw Errors.xenstore(domain.label() + ": snapshot " + snap.name() + " was merged, but", e);
        }
    }

    void removeOverlays(SnapshotInfo snap) throws IOException {
        for (DiskSnapshot d : snap.disks()) {
            if (d.kind() == SnapshotKind.EXTERNAL) {
                peers.overlayFiles().remove(d.overlay());
            }
        }
    }

    SnapshotException overlayNotRemoved(String label, SnapshotInfo snap, IOException e) {
        return new SnapshotException(SnapshotError.INTERNAL, label + ": delete of " + snap.name()
                + ": merged, but an overlay file could not be removed: " + e.getMessage(), e);
    }

    void save(DomainCatalog c) throws SnapshotException {
        try {
            peers.catalogs().save(c);
        } catch (CatalogException e) {
            throw Errors.catalog(e);
        }
    }
}
