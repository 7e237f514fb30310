package io.xensnap.internal.engine.delete;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.qmp.BlockDevice;
import io.xensnap.internal.qmp.BlockJobs;
import io.xensnap.internal.qmp.QmpException;

/**
 * The delete of an external snapshot that a newer external snapshot depends on, done as libvirt and Proxmox do it:
 * the small merge. One disk's chain {@code base ← ov1 ← ov2}: the older snapshot froze {@code base} (its overlay
 * {@code ov1}), the newer one froze {@code ov1} (its overlay {@code ov2}). Forgetting the older instant commits
 * {@code ov1}, which holds only what changed between the two snapshots, down into {@code base}; {@code ov2} then backs
 * onto {@code base}, {@code ov1} is removed, and the newer snapshot's record names {@code base} as its frozen image
 * ({@link DomainCatalog#withoutSnapshotMergedDown}). Streaming {@code base} up into {@code ov1} instead would copy
 * the whole disk.
 *
 * <p>The small merge is right only when {@code ov1} is the one image stacked on {@code base}, {@code ov2} the one
 * stacked on {@code ov1}, and {@code ov1} holds no internal snapshot (the commit would leave it behind in the removed
 * file). {@link #check} refuses everything else before anything changes; the disk's chain is checked against QEMU or
 * the image headers by {@link #position}.
 */
public final class OlderMerge {

    private OlderMerge() {
    }

    /** @return the disk of the newer external snapshot that froze {@code d}'s overlay, if one did */
    public static Optional<DiskSnapshot> newer(DomainCatalog catalog, String name, DiskSnapshot d) {
        if (d.kind() != SnapshotKind.EXTERNAL) {
            return Optional.empty();
        }
        return catalog.snapshots().stream().filter(s -> !s.name().equals(name)).flatMap(s -> s.disks().stream())
                .filter(o -> o.vdev().equals(d.vdev()) && o.kind() == SnapshotKind.EXTERNAL
                        && o.image().equals(d.overlay()))
                .findFirst();
    }

    /**
     * Refuses the delete of {@code d} when another snapshot depends on its images in a way no merge can keep: an
     * internal snapshot in the overlay, a second image stacked on the overlay or on the frozen image.
     *
     * @return the newer snapshot's disk when the delete of {@code d} is the small merge; empty when no snapshot
     *         depends on {@code d} (it is the newest of its disk)
     */
    static Optional<DiskSnapshot> check(String what, DomainCatalog catalog, SnapshotInfo snap, DiskSnapshot d)
            throws SnapshotException {
        Optional<DiskSnapshot> newer = Optional.empty();
        for (SnapshotInfo other : catalog.snapshots()) {
            if (other.name().equals(snap.name())) {
                continue;
            }
            for (DiskSnapshot o : other.disks()) {
                if (!o.vdev().equals(d.vdev())) {
                    continue;
                }
                boolean frozeOverlay = o.image().equals(d.overlay());
                Optional<String> why = Optional.empty();
                if (frozeOverlay && o.kind() == SnapshotKind.EXTERNAL && newer.isEmpty()) {
                    newer = Optional.of(o);
                } else if (frozeOverlay && o.kind() == SnapshotKind.INTERNAL) {
                    why = Optional.of("it lives in the overlay " + d.overlay() + ", which the merge removes");
                } else if (frozeOverlay) {
                    why = Optional.of("it froze the overlay " + d.overlay() + " too: two images stack on it");
                } else if (d.overlay().equals(o.overlay())) {
                    why = Optional.of("it names the same overlay " + d.overlay());
                } else if (o.kind() == SnapshotKind.EXTERNAL && d.image().equals(o.image())) {
                    why = Optional.of("it froze " + d.image() + " too: two images stack on it");
                }
                if (why.isPresent()) {
                    throw new SnapshotException(SnapshotError.INVALID_STATE, what + ": snapshot " + other.name()
                            + " depends on the images of " + snap.name() + " (" + why.get() + "); delete "
                            + other.name() + " first");
                }
            }
        }
        return newer;
    }

    /**
     * @param chain the disk's backing chain from its top down, as QEMU or the image headers show it
     * @return where {@code d}'s overlay sits in {@code chain} when the newer snapshot's overlay sits directly on it
     *         and it directly on {@code d}'s frozen image; -1 when the chain is not that
     */
    public static int position(List<Path> chain, DiskSnapshot d, DiskSnapshot newer) {
        for (int i = 1; i + 1 < chain.size(); i++) {
            if (chain.get(i).equals(d.overlay()) && chain.get(i - 1).equals(newer.overlay())
                    && chain.get(i + 1).equals(d.image())) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Starts the merge of one external disk: the active commit of its overlay into the frozen image when the disk runs
     * on the overlay ({@code newer} null), else the intermediate commit of the overlay {@code newer} froze, which ends
     * by itself with QEMU having rewritten the newer overlay's backing reference to the frozen image.
     */
    public static void startMerge(BlockJobs jobs, String id, BlockDevice bd, DiskSnapshot d, DiskSnapshot newer)
            throws QmpException {
        if (newer == null) {
            jobs.startCommitActive(id, bd.target(), bd.nodeChain().get(1));
        } else {
            int at = position(bd.fileChain().stream().map(Path::of).toList(), d, newer);
            if (at < 0) {
                throw QmpException.of(QmpException.Kind.PROTOCOL, bd.target(), "QEMU's chain " + bd.fileChain()
                        + " does not stack " + newer.overlay() + " on " + d.overlay() + " on " + d.image());
            }
            jobs.startCommit(id, bd.target(), bd.nodeChain().get(at), bd.nodeChain().get(at + 1));
        }
    }

    /** @return whether {@code chain} shows the small merge of {@code d} done: the newer overlay on the frozen image */
    public static boolean merged(List<Path> chain, DiskSnapshot d, DiskSnapshot newer) {
        for (int i = 0; i + 1 < chain.size(); i++) {
            if (chain.get(i).equals(newer.overlay()) && chain.get(i + 1).equals(d.image())) {
                return true;
            }
        }
        return false;
    }

    /** The refusal when the disk's chain is not {@code newer overlay ← d's overlay ← d's image}. */
    static SnapshotException notOnChain(String what, List<Path> chain, SnapshotInfo snap, DiskSnapshot d,
            DiskSnapshot newer, Throwable cause) {
        return new SnapshotException(SnapshotError.INVALID_STATE, what + ": its chain " + chain + " does not stack "
                + newer.overlay() + " on " + d.overlay() + " on " + d.image() + " (after a revert another image may"
                + " stack on one of them); the overlay of " + snap.name() + " cannot be merged down", cause);
    }

    /** The refusal when the overlay to merge down holds internal snapshots, which the merge would lose. */
    static SnapshotException internalInOverlay(String what, SnapshotInfo snap, DiskSnapshot d, List<String> names) {
        return new SnapshotException(SnapshotError.INVALID_STATE, what + ": the overlay " + d.overlay() + " of "
                + snap.name() + " holds the internal snapshots " + names + ", which merging it down would lose;"
                + " delete them first");
    }
}
