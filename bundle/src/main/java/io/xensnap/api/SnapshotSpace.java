package io.xensnap.api;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The space one snapshot holds, and what deleting it would give back, read from its images' qcow2 tables. The images
 * of a running domain are read without a lock while QEMU writes them, so the figures are as of {@link #readAt()}
 * (and of QEMU's last metadata flush before it).
 *
 * <p>Counted per disk:
 * <ul>
 * <li><b>internal</b>: {@code held} is the guest data clusters that only this snapshot references (reference count 1
 * and reached from its own L1 table, from no other snapshot's and not from the image's active one) — the data the
 * guest has overwritten since. {@code freed} adds the L2 tables and the L1 table only it references: QEMU releases
 * all of them when the snapshot is deleted.</li>
 * <li><b>external</b>: {@code held} is the data clusters the overlay holds — what the guest wrote since the snapshot
 * — and {@code freed} is the overlay's used clusters (data and metadata) less what the merge into the frozen image
 * makes that image grow by: always an {@link Accuracy#ESTIMATE}.</li>
 * </ul>
 * Cluster counts are bytes: clusters × cluster size; a compressed cluster counts the 512-byte sectors it takes.
 *
 * @param domainUuid  the domain's uuid
 * @param snapshot    the snapshot's name
 * @param readAt      when its images were read
 * @param disks       one entry per disk of the snapshot, in the snapshot's order
 * @param memoryImage the bytes of the snapshot's memory image; 0 for a disk-only snapshot
 */
public record SnapshotSpace(String domainUuid, String snapshot, Instant readAt, List<Disk> disks, long memoryImage) {

    /** How far a disk's figures can be trusted. */
    public enum Accuracy {
        /** Counted cluster by cluster from tables that agree with each other. */
        EXACT,
        /** Counted, but part of it is an estimate; {@link Disk#note()} says which part and why. */
        ESTIMATE,
        /** Not counted: the image could not be read or does not hold the snapshot; {@link Disk#note()} says why. */
        UNKNOWN
    }

    /**
     * The space a snapshot holds on one disk.
     *
     * @param vdev     the disk
     * @param file     the image read: internal, the image holding the snapshot; external, the overlay
     * @param accuracy whether {@code held} and {@code freed} are exact; both are 0 when {@link Accuracy#UNKNOWN}
     * @param held     the bytes of guest data only this snapshot holds (see {@link SnapshotSpace})
     * @param freed    the bytes deleting the snapshot would give back on this disk
     * @param note     why a figure is an estimate or unknown; empty when exact
     */
    public record Disk(String vdev, Path file, Accuracy accuracy, long held, long freed, String note) {

        /** @throws IllegalArgumentException for a negative figure or figures on an unknown disk */
        public Disk {
            Names.vdev(vdev);
            file = Paths.absoluteNormalized(file, "file");
            Objects.requireNonNull(accuracy, "accuracy");
            note = note == null ? "" : note;
            if (held < 0 || freed < 0) {
                throw new IllegalArgumentException("disk " + vdev + ": negative space");
            }
            if (accuracy == Accuracy.UNKNOWN && (held != 0 || freed != 0)) {
                throw new IllegalArgumentException("disk " + vdev + ": an unknown space has no figures");
            }
        }
    }

    /** @throws IllegalArgumentException for bad names or a negative memory image */
    public SnapshotSpace {
        Names.uuid(domainUuid);
        Names.snapshot(snapshot);
        Objects.requireNonNull(readAt, "readAt");
        disks = List.copyOf(Objects.requireNonNull(disks, "disks"));
        if (memoryImage < 0) {
            throw new IllegalArgumentException("snapshot " + snapshot + ": negative memory image size");
        }
    }

    /** @return the bytes the snapshot holds: its disks' {@code held} and its memory image */
    public long held() {
        return disks.stream().mapToLong(Disk::held).sum() + memoryImage;
    }

    /** @return the bytes deleting the snapshot would give back: its disks' {@code freed} and its memory image */
    public long freed() {
        return disks.stream().mapToLong(Disk::freed).sum() + memoryImage;
    }

    /** @return the least accuracy of its disks: {@link Accuracy#EXACT} only when every disk is exact */
    public Accuracy accuracy() {
        return disks.stream().map(Disk::accuracy).max(Enum::compareTo).orElse(Accuracy.EXACT);
    }
}
