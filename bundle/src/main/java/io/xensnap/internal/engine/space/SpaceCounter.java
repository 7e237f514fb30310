package io.xensnap.internal.engine.space;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.api.SnapshotSpace.Accuracy;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.qemuimg.Qcow2Tables;
import io.xensnap.internal.qemuimg.Qcow2Tables.Layer;

/**
 * Counts the space of every snapshot of a domain from its images' qcow2 tables ({@link SnapshotSpace} says what is
 * counted). Only reads files, without a lock and without QEMU: a running domain is neither asked nor held up, and
 * xensnap's domain lock is not taken either, so a count runs beside any operation — an image a merge removes under it
 * is reported as unknown, not as an error.
 */
public final class SpaceCounter {

    private final Clock clock;

    public SpaceCounter(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** @return one entry per snapshot of {@code tree}, in its order */
    public List<SnapshotSpace> count(SnapshotTree tree) {
        // the time before the first read: every figure is as of this time or later
        Instant readAt = clock.instant();
        List<SnapshotSpace> spaces = new ArrayList<>();
        try (ImageTables images = new ImageTables()) {
            for (SnapshotInfo s : tree.snapshots()) {
                List<SnapshotSpace.Disk> disks = new ArrayList<>();
                for (DiskSnapshot d : s.disks()) {
                    disks.add(d.kind() == SnapshotKind.INTERNAL ? internal(images, s.name(), d) : external(images, d));
                }
                spaces.add(new SnapshotSpace(tree.domainUuid(), s.name(), readAt, disks, memoryImage(s)));
            }
        }
        return spaces;
    }

    /**
     * The hook for snapshots with memory: the size of the snapshot's memory image file. Snapshots are disk-only
     * today, so there is none.
     */
    /** the size recorded when the image was written: xensnap never changes a save image after that */
    private static long memoryImage(SnapshotInfo s) {
        return s.memory() == null ? 0 : s.memory().sizeBytes();
    }

    private static SnapshotSpace.Disk internal(ImageTables images, String name, DiskSnapshot d) {
        Path image = d.image();
        ImageTables.Opened opened = images.open(image);
        if (opened.tables().isEmpty()) {
            return unknown(d, image, opened.failure());
        }
        Qcow2Tables t = opened.tables().get();
        try {
            Optional<Qcow2Tables.Snapshot> found = t.snapshot(name);
            if (found.isEmpty()) {
                return unknown(d, image, image + " holds no internal snapshot named " + name);
            }
            Qcow2Tables.Snapshot own = found.get();
            Layer mine = images.layer(image, t, own);
            Reached others = othersThan(images, image, t, own);
            List<String> notes = new ArrayList<>();
            boolean trustRefcounts = !t.dirty();
            if (!trustRefcounts) {
                notes.add("QEMU marked the image dirty (lazy refcounts): counted from the tables alone");
            }
            BitSet onlyMine = (BitSet) mine.data().clone();
            onlyMine.andNot(others.data());
            Counted data = onlyOnes(t, onlyMine, trustRefcounts);
            long held = data.clusters() * t.clusterSize();
            long compressed = 0;
            for (var e : mine.compressed().entrySet()) {
                if (!others.compressed().contains(e.getKey())) {
                    compressed += e.getValue();
                }
            }
            if (compressed > 0) {
                held += compressed;
                notes.add("compressed clusters counted by the sectors they take; QEMU frees a host cluster only when"
                        + " no compressed cluster shares it");
            }
            BitSet l2 = (BitSet) mine.l2Tables().clone();
            l2.andNot(others.l2Tables());
            Counted tables = onlyOnes(t, l2, trustRefcounts);
            Counted l1 = onlyOnes(t, t.l1Clusters(own), trustRefcounts);
            long mismatched = data.mismatched() + tables.mismatched() + l1.mismatched();
            if (mismatched > 0) {
                notes.add(mismatched + " clusters only this snapshot reaches have reference counts other than 1 (QEMU"
                        + " has not flushed its tables yet, or the image needs qemu-img check): not counted");
            }
            long freed = held + (tables.clusters() + l1.clusters()) * t.clusterSize();
            return disk(d, image, held, freed, notes);
        } catch (IOException e) {
            return unknown(d, image, "cannot read " + image + ": " + e.getMessage());
        }
    }

    /** What the active layer and every other snapshot of the image reach: data clusters, L2 tables, compressed ones. */
    private record Reached(BitSet data, BitSet l2Tables, Set<Long> compressed) {
    }

    private static Reached othersThan(ImageTables images, Path image, Qcow2Tables t, Qcow2Tables.Snapshot own)
            throws IOException {
        Reached r = new Reached(new BitSet(), new BitSet(), new HashSet<>());
        List<Layer> others = new ArrayList<>();
        others.add(images.layer(image, t, null));
        for (Qcow2Tables.Snapshot s : t.snapshots()) {
            if (!s.id().equals(own.id())) {
                others.add(images.layer(image, t, s));
            }
        }
        for (Layer o : others) {
            r.data().or(o.data());
            r.l2Tables().or(o.l2Tables());
            r.compressed().addAll(o.compressed().keySet());
        }
        return r;
    }

    private static SnapshotSpace.Disk external(ImageTables images, DiskSnapshot d) {
        Path overlay = d.overlay();
        ImageTables.Opened opened = images.open(overlay);
        if (opened.tables().isEmpty()) {
            return unknown(d, overlay, opened.failure());
        }
        Qcow2Tables t = opened.tables().get();
        try {
            // the active layer only: what an internal snapshot taken on the overlay later keeps is that snapshot's
            Layer top = images.layer(overlay, t, null);
            List<String> notes = new ArrayList<>();
            long held = top.data().cardinality() * t.clusterSize() + top.compressedBytes();
            if (!top.compressed().isEmpty()) {
                notes.add("compressed clusters counted by the sectors they take");
            }
            long growth = 0;
            if (d.format() == DiskFormat.QCOW2) {
                ImageTables.Opened frozen = images.open(d.image());
                if (frozen.tables().isEmpty()) {
                    notes.add("the frozen image could not be read (" + frozen.failure() + "): its growth by the merge"
                            + " is not subtracted");
                } else {
                    Qcow2Tables b = frozen.tables().get();
                    growth = growth(top, t.clusterSize(), images.layer(d.image(), b, null), b.clusterSize());
                }
            } else {
                notes.add("the merge writes into the raw frozen image, which grows where it is sparse: not"
                        + " subtracted");
            }
            notes.add("freed is the overlay's used clusters less what the merge adds to the frozen image");
            long freed = Math.max(0, t.usedClusters() * t.clusterSize() - growth);
            return new SnapshotSpace.Disk(d.vdev(), overlay, Accuracy.ESTIMATE, held, freed, String.join("; ", notes));
        } catch (IOException e) {
            return unknown(d, overlay, "cannot read " + overlay + ": " + e.getMessage());
        }
    }

    /**
     * @return the bytes a merge of {@code top} into {@code base} allocates in the base: each base cluster under data
     *         of the top that is not written in place there (unallocated, compressed, or shared with one of its
     *         internal snapshots, which QEMU copies on write)
     */
    static long growth(Layer top, long topCluster, Layer base, long baseCluster) {
        BitSet grows = new BitSet();
        for (int g = top.guestAllocated().nextSetBit(0); g >= 0; g = top.guestAllocated().nextSetBit(g + 1)) {
            long first = g * topCluster / baseCluster;
            long last = ((g + 1) * topCluster - 1) / baseCluster;
            for (long b = first; b <= last; b++) {
                if (!base.guestInPlace().get((int) b)) {
                    grows.set((int) b);
                }
            }
        }
        return grows.cardinality() * baseCluster;
    }

    /** Clusters counted, and those left out because their reference count is not 1. */
    private record Counted(long clusters, long mismatched) {
    }

    private static Counted onlyOnes(Qcow2Tables t, BitSet clusters, boolean trustRefcounts) throws IOException {
        if (!trustRefcounts) {
            return new Counted(clusters.cardinality(), 0);
        }
        long ones = 0;
        long other = 0;
        for (int c = clusters.nextSetBit(0); c >= 0; c = clusters.nextSetBit(c + 1)) {
            if (t.refcount(c) == 1) {
                ones++;
            } else {
                other++;
            }
        }
        return new Counted(ones, other);
    }

    private static SnapshotSpace.Disk disk(DiskSnapshot d, Path file, long held, long freed, List<String> notes) {
        return new SnapshotSpace.Disk(d.vdev(), file, notes.isEmpty() ? Accuracy.EXACT : Accuracy.ESTIMATE, held,
                freed, String.join("; ", notes));
    }

    private static SnapshotSpace.Disk unknown(DiskSnapshot d, Path file, String why) {
        return new SnapshotSpace.Disk(d.vdev(), file, Accuracy.UNKNOWN, 0, 0, why);
    }
}
