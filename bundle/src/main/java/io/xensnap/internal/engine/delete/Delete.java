package io.xensnap.internal.engine.delete;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DomainRef;
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
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.QmpSession;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.libxl.LibxlDomain;
import io.xensnap.internal.libxl.LibxlLockKind;
import io.xensnap.internal.libxl.UserdataLock;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.qmp.BlockDevice;
import io.xensnap.internal.qmp.BlockDevices;
import io.xensnap.internal.qmp.BlockJobs;
import io.xensnap.internal.qmp.InternalSnapshots;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;
import io.xensnap.internal.xenstore.DiskImageSwap;
import io.xensnap.internal.xenstore.LibxlFormat;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * Deletes a snapshot. Internal: removed from its image (QMP while running, qemu-img when shut off). External: the
 * overlay is merged back into the frozen image (block-commit while running, qemu-img commit when shut off), the disk
 * runs on that image again and the overlay file is removed, as libvirt does.
 *
 * <p>A merge cannot be undone, so an "in progress" mark is written to the catalog before the first image changes and
 * cleared only when the catalog is updated; a crash in between is found by reconcile.
 */
public final class Delete {

    private static final Logger LOG = LoggerFactory.getLogger(Delete.class);

    private final Peers peers;
    private final DomainResolver resolver;
    private final Duration jobTimeout;
    private final EngineHooks hooks;

    public Delete(Peers peers, DomainResolver resolver, Duration jobTimeout, EngineHooks hooks) {
        this.peers = peers;
        this.resolver = resolver;
        this.jobTimeout = jobTimeout;
        this.hooks = hooks;
    }

    public void run(DomainRef ref, DomainCatalog catalog, String name, Progress progress) throws SnapshotException {
        SnapshotInfo snap = catalog.snapshot(name).orElseThrow(() -> new SnapshotException(
                SnapshotError.NO_SUCH_SNAPSHOT, "domain " + catalog.uuid() + " has no snapshot named " + name));
        if (catalog.pending().isPresent()) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, "domain " + catalog.uuid() + ": an earlier "
                    + catalog.pending().get().kind() + " did not finish; reconcile the domain first");
        }
        DomainView domain = resolver.resolve(ref, catalog);
        if (!domain.running()) {
            resolver.requireShutOff(catalog.uuid());
        }
        validate(domain, catalog, snap);

        // libxl's lock is taken before the first image changes, as for create: a lock that cannot be had must
        // refuse the delete while nothing has happened, not leave a merged disk that libxl's config does not name.
        boolean follows = domain.running() && snap.disks().stream().anyMatch(d -> d.kind() == SnapshotKind.EXTERNAL);
        // libxl's lock order: device changes, QMP socket, domain userdata (docs/xen-host.md, "Lock order")
        try (UserdataLock deviceChanges = follows ? lock(domain) : null;
             QmpSession session = domain.running() ? connect(domain) : null;
             DomainConfigStore.Session libxl = follows ? hold(domain) : null) {
            boolean existed = peers.catalogs().exists(catalog.uuid());
            DomainCatalog marked = catalog.withPending(Optional.of(new PendingOperation(
                    PendingOperation.Kind.DELETE, name, peers.clock().instant())));
            save(marked);
            EngineHooks.call(() -> hooks.beforeMerge(catalog.uuid(), name));
            List<DiskImage> after;
            try {
                after = domain.running() ? live(domain, snap, session.qmp(), libxl, marked, progress)
                        : offline(domain, snap, marked, progress);
            } catch (SnapshotException e) {
                // Nothing irreversible happened when the first disk failed validation inside QEMU; otherwise the
                // mark stays so that reconcile can see which disks were merged.
                if (e.getCause() instanceof NothingChanged) {
                    try {
                        peers.catalogs().restore(catalog, existed);
                    } catch (CatalogException ce) {
                        e.addSuppressed(ce);
                    }
                }
                throw e;
            }
            EngineHooks.call(() -> hooks.beforeDeleteCommit(catalog.uuid(), name));
            save(marked.withoutSnapshot(name).withCurrent(marked.withoutSnapshot(name).current(), after)
                    .withPending(Optional.empty()));
        }
        LOG.info("{}: snapshot {} deleted", domain.label(), name);
    }

    private UserdataLock lock(DomainView domain) throws SnapshotException {
        try {
            return peers.libxl().lock(new LibxlDomain(domain.domid().getAsInt(), UUID.fromString(domain.uuid())),
                    LibxlLockKind.DEVICE_CHANGES);
        } catch (LibxlConfigException e) {
            throw Errors.libxl(domain.label(), e);
        }
    }

    private QmpSession connect(DomainView domain) throws SnapshotException {
        try {
            return QmpSession.open(peers, domain.domid().getAsInt(), domain.uuid());
        } catch (LibxlConfigException e) {
            throw Errors.libxl(domain.label(), e);
        } catch (QmpException e) {
            throw Errors.qmp(domain.label(), e);
        }
    }

    private DomainConfigStore.Session hold(DomainView domain) throws SnapshotException {
        try {
            return peers.libxl().hold(new LibxlDomain(domain.domid().getAsInt(), UUID.fromString(domain.uuid())));
        } catch (LibxlConfigException e) {
            throw Errors.libxl(domain.label(), e);
        }
    }

    /** Every refusal happens here, before the catalog mark and before any image changes. */
    private static void validate(DomainView domain, DomainCatalog catalog, SnapshotInfo snap) throws SnapshotException {
        for (DiskSnapshot d : snap.disks()) {
            String what = domain.label() + " disk " + d.vdev();
            if (d.kind() == SnapshotKind.INTERNAL) {
                continue;
            }
            for (SnapshotInfo other : catalog.snapshots()) {
                if (other.name().equals(snap.name())) {
                    continue;
                }
                for (DiskSnapshot o : other.disks()) {
                    // Merging writes the overlay's data into the frozen image: an internal snapshot there survives
                    // (qcow2 keeps it copy-on-write), but anything living in the overlay, or another overlay
                    // branching off the same frozen image, would not.
                    boolean needsOverlay = d.overlay().equals(o.image()) || d.overlay().equals(o.overlay());
                    boolean sibling = o.kind() == SnapshotKind.EXTERNAL && d.image().equals(o.image());
                    if (o.vdev().equals(d.vdev()) && (needsOverlay || sibling)) {
                        throw new SnapshotException(SnapshotError.INVALID_STATE, what + ": snapshot " + other.name()
                                + " depends on the images of " + snap.name() + "; delete " + other.name() + " first");
                    }
                }
            }
            DiskView cur = domain.disk(d.vdev()).orElseThrow(() -> new SnapshotException(SnapshotError.NO_SUCH_DISK,
                    what + ": its current image is unknown; name the domain with its disk images"));
            if (!cur.image().equals(d.overlay())) {
                throw new SnapshotException(SnapshotError.INVALID_STATE, what + " runs on " + cur.image()
                        + ", not on the overlay " + d.overlay() + " of snapshot " + snap.name()
                        + "; only the newest external snapshot of a disk can be merged");
            }
        }
    }

    private List<DiskImage> live(DomainView domain, SnapshotInfo snap, QmpConnection qmp,
                                 DomainConfigStore.Session libxl, DomainCatalog marked, Progress progress)
            throws SnapshotException {
        String label = domain.label();
        List<DiskImage> after = current(domain);
        try {
            List<BlockDevice> found = matchChains(qmp, label, snap);
            // POINT OF NO RETURN: from the first deleted internal snapshot or merged overlay on, going back is not
            // possible; the pending mark in the catalog tells reconcile where we were.
            List<LibxlDisk> libxlDisks = new ArrayList<>();
            List<DiskSnapshot> started = new ArrayList<>();
            for (int i = 0; i < snap.disks().size(); i++) {
                DiskSnapshot d = snap.disks().get(i);
                BlockDevice bd = found.get(i);
                begin(marked, started, d);
                if (d.kind() == SnapshotKind.INTERNAL) {
                    new InternalSnapshots(qmp).delete(bd.target(), snap.name());
                    progress.report(d.vdev() + " snapshot deleted", i + 1, snap.disks().size(), Progress.Unit.DISKS);
                    continue;
                }
                merge(qmp, domain, snap, marked, d, bd, progress);
                progress.report(d.vdev() + " merged", i + 1, snap.disks().size(), Progress.Unit.DISKS);
                libxlDisks.add(new LibxlDisk(d.vdev(), d.image().toString(), LibxlDiskFormat.valueOf(d.format().name())));
                replace(after, new DiskImage(d.vdev(), d.image(), d.format()));
            }
            EngineHooks.call(() -> hooks.afterMerge(domain.uuid(), snap.name()));
            if (!libxlDisks.isEmpty()) {
                follow(domain, libxl, snap, libxlDisks);
                removeOverlays(snap);
            }
            return after;
        } catch (QmpException e) {
            throw Errors.qmp(label + ": delete of " + snap.name(), e);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, label + ": delete of " + snap.name()
                    + ": merged, but an overlay file could not be removed: " + e.getMessage(), e);
        }
    }

    /**
     * @return QEMU's block device of each disk of the snapshot, in its order, when QEMU's chain is the one the snapshot
     *         left; else nothing is changed and the delete is refused
     */
    private static List<BlockDevice> matchChains(QmpConnection qmp, String label, SnapshotInfo snap)
            throws QmpException, SnapshotException {
        BlockDevices devices = new BlockDevices(qmp);
        List<BlockDevice> found = new ArrayList<>();
        List<BlockDevice> all = devices.list();
        for (DiskSnapshot d : snap.disks()) {
            BlockDevice bd = devices.resolve(d.vdev(), all);
            Path root = Path.of(bd.file());
            boolean ok = d.kind() == SnapshotKind.INTERNAL ? root.equals(d.image())
                    : root.equals(d.overlay()) && bd.fileChain().size() > 1
                            && Path.of(bd.fileChain().get(1)).equals(d.image());
            if (!ok) {
                throw new SnapshotException(SnapshotError.INVALID_STATE, label + " disk " + d.vdev()
                        + ": QEMU's chain " + bd.fileChain() + " does not match snapshot " + snap.name()
                        + (d.kind() == SnapshotKind.INTERNAL ? "; an internal snapshot in a backing image can be"
                                + " deleted while the domain is shut off" : ""), new NothingChanged());
            }
            found.add(bd);
        }
        return found;
    }

    /** One external disk's overlay merged into its base by an active commit, under the job id the mark names. */
    private void merge(QmpConnection qmp, DomainView domain, SnapshotInfo snap, DomainCatalog marked, DiskSnapshot d,
            BlockDevice bd, Progress progress) throws QmpException {
        new BlockJobs(qmp, jobTimeout, Duration.ofMillis(200)).commitActive(
                marked.pending().orElseThrow().mergeJob(d.vdev()), bd.target(), bd.nodeChain().get(1), p -> {
                    LOG.debug("{} disk {}: merge {}", domain.label(), d.vdev(), p);
                    EngineHooks.call(() -> hooks.merging(domain.uuid(), snap.name(), d.vdev(), p.status()));
                    progress.report("merge " + d.vdev(), p.current(), p.total(), Progress.Unit.BYTES);
                });
    }

    private void removeOverlays(SnapshotInfo snap) throws IOException {
        for (DiskSnapshot d : snap.disks()) {
            if (d.kind() == SnapshotKind.EXTERNAL) {
                peers.overlayFiles().remove(d.overlay());
            }
        }
    }

    /** After a merge QEMU runs on the base image again: libxl's config and the xenstore backend must say so too. */
    private void follow(DomainView domain, DomainConfigStore.Session libxl, SnapshotInfo snap, List<LibxlDisk> disks)
            throws SnapshotException {
        try (XenstoreClient xs = peers.xenstore().open()) {
            libxl.setDisks(disks);
            DiskImageSwap swap = new DiskImageSwap(xs);
            for (LibxlDisk d : disks) {
                DiskView view = domain.disk(d.vdev()).orElseThrow();
                LibxlFormat f = LibxlFormat.ofLibxlName(
                        d.format().jsonName());
                swap.swap(view.xenstore(), f, d.pdevPath().orElseThrow());
            }
        } catch (LibxlConfigException e) {
            throw Errors.libxl(domain.label() + ": snapshot " + snap.name() + " was merged, but", e);
        } catch (XenstoreException e) {
            throw Errors.xenstore(domain.label() + ": snapshot " + snap.name() + " was merged, but", e);
        }
    }

    private List<DiskImage> offline(DomainView domain, SnapshotInfo snap, DomainCatalog marked, Progress progress)
            throws SnapshotException {
        List<DiskImage> after = current(domain);
        String label = domain.label();
        List<DiskSnapshot> started = new ArrayList<>();
        try {
            int done = 0;
            for (DiskSnapshot d : snap.disks()) {
                begin(marked, started, d);
                if (d.kind() == SnapshotKind.INTERNAL) {
                    peers.qemuImg().deleteSnapshot(Images.of(d.image(), DiskFormat.QCOW2), snap.name());
                    progress.report(d.vdev() + " snapshot deleted", ++done, snap.disks().size(), Progress.Unit.DISKS);
                } else {
                    peers.qemuImg().commit(Images.of(d.overlay(), DiskFormat.QCOW2));
                    peers.overlayFiles().remove(d.overlay());
                    replace(after, new DiskImage(d.vdev(), d.image(), d.format()));
                    progress.report(d.vdev() + " merged", ++done, snap.disks().size(), Progress.Unit.DISKS);
                }
            }
            return after;
        } catch (QemuImgException e) {
            throw Errors.qemuImg(label + ": delete of " + snap.name(), e);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, label + ": delete of " + snap.name()
                    + ": merged, but an overlay file could not be removed: " + e.getMessage(), e);
        }
    }

    /**
     * Records in the pending mark that {@code d}'s merge or internal delete is about to begin. A cancelled or
     * half-done merge leaves the frozen image changed while the chain still looks untouched, so reconcile may take a
     * delete back only when the mark proves that no disk had begun.
     */
    private void begin(DomainCatalog marked, List<DiskSnapshot> started, DiskSnapshot d) throws SnapshotException {
        started.add(d);
        PendingOperation p = marked.pending().orElseThrow();
        save(marked.withPending(Optional.of(new PendingOperation(PendingOperation.Kind.DELETE, p.snapshot(),
                p.started(), "", started))));
    }

    private static List<DiskImage> current(DomainView domain) {
        List<DiskImage> out = new ArrayList<>();
        for (DiskView d : domain.disks()) {
            if (DiskView.hasImage(d)) {
                out.add(new DiskImage(d.vdev(), d.image(), d.format()));
            }
        }
        return out;
    }

    private static void replace(List<DiskImage> disks, DiskImage now) {
        disks.replaceAll(d -> d.vdev().equals(now.vdev()) ? now : d);
    }

    private void save(DomainCatalog c) throws SnapshotException {
        try {
            peers.catalogs().save(c);
        } catch (CatalogException e) {
            throw Errors.catalog(e);
        }
    }

    /** Marks a refusal found inside QEMU before anything was changed, so the pending mark can be taken back. */
    private static final class NothingChanged extends Exception {
        private static final long serialVersionUID = 1L;

        NothingChanged() {
            super("nothing was changed");
        }
    }
}
