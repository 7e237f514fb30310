package io.xensnap.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A snapshot of a domain.
 *
 * @param domainUuid  the domain's uuid
 * @param name        the snapshot's name, unique per domain
 * @param description free text, may be empty
 * @param created     when the snapshot was taken
 * @param parent      the snapshot the domain was at when this one was taken, or {@code null} for a root
 * @param disks       one entry per disk the snapshot covers
 * @param memory      a domain snapshot's saved memory, or {@code null} for a disk snapshot; since 1.3
 * @param quiesced    whether the guest's file systems were frozen through its agent for the whole time the disks were
 *                    snapshotted (application-consistent); {@code false} for a crash-consistent snapshot. Since 1.3.
 * @param frozen      how long the guest's file systems were frozen for this snapshot, from the freeze request to the
 *                    thaw's answer; zero when they were not frozen. Since 1.3.
 */
public record SnapshotInfo(String domainUuid, String name, String description, Instant created, String parent,
                           List<DiskSnapshot> disks, MemoryImage memory, boolean quiesced, Duration frozen) {

    /** A disk snapshot that was not quiesced, as before 1.3. */
    public SnapshotInfo(String domainUuid, String name, String description, Instant created, String parent,
                        List<DiskSnapshot> disks) {
        this(domainUuid, name, description, created, parent, disks, null, false, Duration.ZERO);
    }

    /**
     * A snapshot without memory, quiesced or not.
     *
     * @since 1.3
     */
    public SnapshotInfo(String domainUuid, String name, String description, Instant created, String parent,
                        List<DiskSnapshot> disks, boolean quiesced, Duration frozen) {
        this(domainUuid, name, description, created, parent, disks, null, quiesced, frozen);
    }

    /** @throws IllegalArgumentException for bad names, or a negative frozen time */
    public SnapshotInfo {
        Objects.requireNonNull(frozen, "frozen");
        if (frozen.isNegative()) {
            throw new IllegalArgumentException("frozen time is negative: " + frozen);
        }
        Names.uuid(domainUuid);
        Names.snapshot(name);
        description = description == null ? "" : description;
        Objects.requireNonNull(created, "created");
        if (parent != null) {
            Names.snapshot(parent);
        }
        disks = List.copyOf(Objects.requireNonNull(disks, "disks"));
        if (disks.isEmpty()) {
            throw new IllegalArgumentException("snapshot " + name + " covers no disk");
        }
    }

    /**
     * @return this snapshot with its saved memory
     * @since 1.3
     */
    public SnapshotInfo withMemory(MemoryImage image) {
        return new SnapshotInfo(domainUuid, name, description, created, parent, disks, image, quiesced, frozen);
    }
}
