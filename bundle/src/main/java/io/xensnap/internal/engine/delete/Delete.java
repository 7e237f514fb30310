package io.xensnap.internal.engine.delete;

import java.io.IOException;
import java.nio.file.Files;
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
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.DomainResolver;
import io.xensnap.internal.engine.DomainView;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.Images;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.QmpSession;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.engine.revert.ResumingRevert;
import io.xensnap.internal.qemuimg.ImageSnapshot;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.qmp.BlockDevice;
import io.xensnap.internal.qmp.BlockDevices;
import io.xensnap.internal.qmp.InternalSnapshots;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;

/**
 * Deletes a snapshot. Internal: removed from its image (QMP while running, qemu-img when shut off). External: the
 * overlay is merged back into the frozen image (block-commit while running, qemu-img commit when shut off), the disk
 * runs on that image again and the overlay file is removed, as libvirt does. An external snapshot whose overlay a
 * newer snapshot froze is deleted by the small merge instead ({@link OlderMerge}): its overlay is committed down into
 * the frozen image, the newer overlay backs onto that image, and the disk stays on its top.
 *
 * <p>A merge of a running domain runs in QEMU unattended, with libxl's locks held only to start it and to switch over
 * ({@link LiveMerge}). A merge cannot be undone, so an "in progress" mark is written to the catalog before the first image changes and
 * cleared only when the catalog is updated; a crash in between is found by reconcile.
 */
public final class Delete {

    private static final Logger LOG = LoggerFactory.getLogger(Delete.class);

    private final Peers peers;
    private final DomainResolver resolver;
    private final DeleteSteps steps;
    private final LiveMerge merge;
    private final EngineHooks hooks;

    /** @param mergeSpeed QEMU's {@code speed} for a merge job, bytes a second; 0 for unlimited */
    public Delete(Peers peers, DomainResolver resolver, Duration jobTimeout, long mergeSpeed, EngineHooks hooks) {
        this.peers = peers;
        this.resolver = resolver;
        this.steps = new DeleteSteps(peers);
        this.merge = new LiveMerge(steps, jobTimeout, mergeSpeed, hooks);
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
        Map<String, DiskSnapshot> older = validate(domain, catalog, snap);
        if (domain.running() && snap.disks().stream().anyMatch(d -> d.kind() == SnapshotKind.EXTERNAL)) {
            // a merge: QEMU runs it unattended, libxl's locks are held only to start it and to pivot
            merge.run(domain, catalog, snap, older, progress);
        } else {
            withoutMerge(domain, catalog, snap, older, progress);
        }
        removeKeptConfig(domain, snap);
        if (snap.memory() != null) {
            removeMemoryImage(domain, snap);
        }
        LOG.info("{}: snapshot {} deleted", domain.label(), name);
    }

    /** After the catalog forgot the snapshot: the domain config kept with it goes too (said, not undone, if it fails). */
    private void removeKeptConfig(DomainView domain, SnapshotInfo snap) throws SnapshotException {
        Path kept = peers.catalogs().domainConfig(domain.uuid(), snap.name());
        try {
            Files.deleteIfExists(kept);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, domain.label() + ": snapshot " + snap.name()
                    + " is deleted, but the domain config kept with it, " + kept + ", could not be removed: "
                    + e.getMessage() + "; remove it by hand", e);
        }
    }

    /**
     * After the catalog forgot the snapshot: its save image goes too. Nothing else names the file (its path is the
     * snapshot's own), so a removal that fails leaves a file that only holds the guest's memory of then: said, not
     * undone.
     */
    private static void removeMemoryImage(DomainView domain, SnapshotInfo snap) throws SnapshotException {
        try {
            // with the copy a revert restores from, if a crash during a revert left one
            Files.deleteIfExists(ResumingRevert.restoreCopy(snap.memory().image()));
            Files.deleteIfExists(snap.memory().image());
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, domain.label() + ": snapshot " + snap.name()
                    + " is deleted, but its save image " + snap.memory().image() + " could not be removed: "
                    + e.getMessage() + "; remove it by hand", e);
        }
    }

    /** A running domain's internal snapshots (one short QMP session), or any snapshot of a shut-off domain. */
    private void withoutMerge(DomainView domain, DomainCatalog catalog, SnapshotInfo snap,
            Map<String, DiskSnapshot> older, Progress progress) throws SnapshotException {
        try (QmpSession session = domain.running() ? steps.connect(domain) : null) {
            boolean existed = steps.exists(catalog);
            DomainCatalog marked = steps.mark(catalog, snap.name());
            EngineHooks.call(() -> hooks.beforeMerge(catalog.uuid(), snap.name()));
            List<DiskImage> after;
            try {
                after = domain.running() ? internal(domain, snap, session.qmp(), marked, progress)
                        : offline(domain, snap, older, marked, progress);
            } catch (SnapshotException e) {
                steps.takeBackWhenNothingChanged(catalog, existed, e);
                throw e;
            }
            EngineHooks.call(() -> hooks.beforeDeleteCommit(catalog.uuid(), snap.name()));
            steps.commit(marked, snap.name(), after);
        }
    }

    /**
     * Every refusal happens here, before the catalog mark and before any image changes (the chains of a running
     * domain are checked against QEMU in {@link #matchChains}, still before any change).
     *
     * @return for each external disk whose delete is the small merge ({@link OlderMerge}), by vdev, the disk of the
     *         newer snapshot that froze its overlay
     */
    private Map<String, DiskSnapshot> validate(DomainView domain, DomainCatalog catalog, SnapshotInfo snap)
            throws SnapshotException {
        Map<String, DiskSnapshot> older = new LinkedHashMap<>();
        for (DiskSnapshot d : snap.disks()) {
            String what = domain.label() + " disk " + d.vdev();
            if (d.kind() == SnapshotKind.INTERNAL) {
                continue;
            }
            // Merging writes the overlay's data into the frozen image: an internal snapshot there survives (qcow2
            // keeps it copy-on-write), but anything living in the overlay, or another image stacked on the overlay
            // or on the frozen image, would not.
            Optional<DiskSnapshot> newer = OlderMerge.check(what, catalog, snap, d);
            DiskView cur = domain.disk(d.vdev()).orElseThrow(() -> new SnapshotException(SnapshotError.NO_SUCH_DISK,
                    what + ": its current image is unknown; name the domain with its disk images"));
            if (newer.isPresent()) {
                requireMergeableDown(domain, snap, d, newer.get(), cur, what);
                older.put(d.vdev(), newer.get());
            } else if (!cur.image().equals(d.overlay())) {
                throw new SnapshotException(SnapshotError.INVALID_STATE, what + " runs on " + cur.image()
                        + ", not on the overlay " + d.overlay() + " of snapshot " + snap.name() + ", and no newer"
                        + " snapshot froze that overlay; it cannot be merged");
            }
        }
        return older;
    }

    /**
     * The overlay a small merge removes holds no internal snapshot, and (shut off) the disk's chain as the image
     * headers have it stacks the newer overlay on it and it on the frozen image.
     */
    private void requireMergeableDown(DomainView domain, SnapshotInfo snap, DiskSnapshot d, DiskSnapshot newer,
            DiskView cur, String what) throws SnapshotException {
        try {
            // read-only, also while QEMU holds the overlay as a backing file
            List<String> inside = peers.qemuImg().info(Images.of(d.overlay(), DiskFormat.QCOW2), domain.running())
                    .snapshots().stream().map(ImageSnapshot::name).toList();
            if (!inside.isEmpty()) {
                throw OlderMerge.internalInOverlay(what, snap, d, inside);
            }
            if (domain.running()) {
                return;
            }
            List<Path> chain = peers.qemuImg().backingChain(Images.of(cur.image(), cur.format()), false).stream()
                    .map(i -> Path.of(i.filename())).toList();
            if (OlderMerge.position(chain, d, newer) < 0) {
                throw OlderMerge.notOnChain(what, chain, snap, d, newer, null);
            }
        } catch (QemuImgException e) {
            throw Errors.qemuImg(what + ": delete of " + snap.name(), e);
        }
    }

    /** A running domain's internal snapshots, deleted through QEMU. */
    private List<DiskImage> internal(DomainView domain, SnapshotInfo snap, QmpConnection qmp, DomainCatalog marked,
            Progress progress) throws SnapshotException {
        try {
            List<BlockDevice> found = matchChains(qmp, domain.label(), snap, Map.of());
            // POINT OF NO RETURN: from the first deleted internal snapshot on, going back is not possible; the
            // pending mark in the catalog tells reconcile where we were.
            List<DiskSnapshot> started = new ArrayList<>();
            for (int i = 0; i < snap.disks().size(); i++) {
                DiskSnapshot d = snap.disks().get(i);
                steps.begin(marked, started, d);
                new InternalSnapshots(qmp).delete(found.get(i).target(), snap.name());
                progress.report(d.vdev() + " snapshot deleted", i + 1, snap.disks().size(), Progress.Unit.DISKS);
            }
            return current(domain);
        } catch (QmpException e) {
            throw Errors.qmp(domain.label() + ": delete of " + snap.name(), e);
        }
    }

    /**
     * @return QEMU's block device of each disk of the snapshot, in its order, when QEMU's chain is the one the snapshot
     *         left; else nothing is changed and the delete is refused
     */
    static List<BlockDevice> matchChains(QmpConnection qmp, String label, SnapshotInfo snap,
            Map<String, DiskSnapshot> older) throws QmpException, SnapshotException {
        BlockDevices devices = new BlockDevices(qmp);
        List<BlockDevice> found = new ArrayList<>();
        List<BlockDevice> all = devices.list();
        for (DiskSnapshot d : snap.disks()) {
            BlockDevice bd = devices.resolve(d.vdev(), all);
            if (older.containsKey(d.vdev())) {
                if (OlderMerge.position(fileChain(bd), d, older.get(d.vdev())) < 0) {
                    throw OlderMerge.notOnChain(label + " disk " + d.vdev(), fileChain(bd), snap, d,
                            older.get(d.vdev()), new NothingChanged());
                }
                found.add(bd);
                continue;
            }
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

    private static List<Path> fileChain(BlockDevice bd) {
        return bd.fileChain().stream().map(Path::of).toList();
    }

    private List<DiskImage> offline(DomainView domain, SnapshotInfo snap, Map<String, DiskSnapshot> older,
            DomainCatalog marked, Progress progress) throws SnapshotException {
        List<DiskImage> after = current(domain);
        String label = domain.label();
        List<DiskSnapshot> started = new ArrayList<>();
        try {
            int done = 0;
            for (DiskSnapshot d : snap.disks()) {
                steps.begin(marked, started, d);
                if (d.kind() == SnapshotKind.INTERNAL) {
                    peers.qemuImg().deleteSnapshot(Images.of(d.image(), DiskFormat.QCOW2), snap.name());
                    progress.report(d.vdev() + " snapshot deleted", ++done, snap.disks().size(), Progress.Unit.DISKS);
                } else if (older.containsKey(d.vdev())) {
                    mergeDown(domain.uuid(), snap.name(), d, older.get(d.vdev()));
                    progress.report(d.vdev() + " merged down", ++done, snap.disks().size(), Progress.Unit.DISKS);
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
            throw steps.overlayNotRemoved(label, snap, e);
        }
    }

    /**
     * The small merge of a shut-off disk: the older overlay committed into the frozen image, which then reads as the
     * overlay did, so the newer overlay can name it as its backing file without any data moving; the older overlay
     * goes last. A crash in between is finished by reconcile from the headers.
     */
    private void mergeDown(String uuid, String name, DiskSnapshot d, DiskSnapshot newer)
            throws QemuImgException, IOException {
        peers.qemuImg().commit(Images.of(d.overlay(), DiskFormat.QCOW2));
        EngineHooks.call(() -> hooks.merging(uuid, name, d.vdev(), "committed"));
        peers.qemuImg().rebaseUnsafe(Images.of(newer.overlay(), DiskFormat.QCOW2), Images.of(d.image(), d.format()));
        peers.overlayFiles().remove(d.overlay());
    }

    static List<DiskImage> current(DomainView domain) {
        List<DiskImage> out = new ArrayList<>();
        for (DiskView d : domain.disks()) {
            if (DiskView.hasImage(d)) {
                out.add(new DiskImage(d.vdev(), d.image(), d.format()));
            }
        }
        return out;
    }

    static void replace(List<DiskImage> disks, DiskImage now) {
        disks.replaceAll(d -> d.vdev().equals(now.vdev()) ? now : d);
    }

    /** Marks a refusal found inside QEMU before anything was changed, so the pending mark can be taken back. */
    static final class NothingChanged extends Exception {
        private static final long serialVersionUID = 1L;

        NothingChanged() {
            super("nothing was changed");
        }
    }
}
