package io.xensnap.api;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A request to snapshot some or all disks of a domain, atomically: every disk is snapshotted, or none is.
 *
 * @param domain      the domain
 * @param name        the snapshot's name, unique per domain (see {@link Names#newSnapshot(String)})
 * @param description free text for people, may be empty, at most 1024 characters, without control characters
 *                    (tab and newline included) and Unicode format characters such as the bidi overrides: it is
 *                    shown on terminals and in JMX clients, where those would act instead of being read
 * @param disks       what to do per disk; empty means every disk, internal for qcow2 and external beside the image
 *                    for raw
 * @param memory      a domain snapshot: the running domain's memory and device state are saved too, at the same
 *                    instant as its disks (the domain is paused from the save until the disks are snapshotted), so
 *                    that a revert brings the domain back running at that instant. Needs a running domain and every
 *                    disk covered; since 1.3
 * @param quiesce     whether to freeze the guest's file systems through its agent while the disks are snapshotted;
 *                    {@code null} for xensnap's configured default (key {@code quiesce}). Only a running domain is
 *                    frozen; a shut-off domain has nothing to freeze. Since 1.3.
 */
public record SnapshotRequest(DomainRef domain, String name, String description, List<DiskSpec> disks,
                              boolean memory, QuiescePolicy quiesce) {

    /**
     * @throws IllegalArgumentException for a bad name, a too long description, one with a control or format
     *                                  character, or a disk given twice
     */
    public SnapshotRequest {
        Objects.requireNonNull(domain, "domain");
        Names.newSnapshot(name);
        description = description == null ? "" : description;
        if (description.length() > 1024) {
            throw new IllegalArgumentException("description is longer than 1024 characters");
        }
        Names.text(description, "description");
        disks = List.copyOf(Objects.requireNonNull(disks, "disks"));
        Set<String> seen = new HashSet<>();
        for (DiskSpec d : disks) {
            if (!seen.add(d.vdev())) {
                throw new IllegalArgumentException("disk " + d.vdev() + " is given twice");
            }
        }
    }

    /** A disk snapshot with the configured quiesce policy, as before 1.3. */
    public SnapshotRequest(DomainRef domain, String name, String description, List<DiskSpec> disks) {
        this(domain, name, description, disks, false, null);
    }

    /**
     * A snapshot with memory or without, with the configured quiesce policy.
     *
     * @since 1.3
     */
    public SnapshotRequest(DomainRef domain, String name, String description, List<DiskSpec> disks,
                           boolean memory) {
        this(domain, name, description, disks, memory, null);
    }

    /**
     * A disk snapshot with quiesce policy {@code quiesce} ({@code null}: the configured default).
     *
     * @since 1.3
     */
    public SnapshotRequest(DomainRef domain, String name, String description, List<DiskSpec> disks,
                           QuiescePolicy quiesce) {
        this(domain, name, description, disks, false, quiesce);
    }

    /**
     * @return this request with quiesce policy {@code policy} ({@code null}: the configured default)
     * @since 1.3
     */
    public SnapshotRequest withQuiesce(QuiescePolicy policy) {
        return new SnapshotRequest(domain, name, description, disks, memory, policy);
    }

    /** @return a request for every disk of {@code domain}, with the defaults */
    public static SnapshotRequest allDisks(DomainRef domain, String name, String description) {
        return new SnapshotRequest(domain, name, description, List.of());
    }
}
