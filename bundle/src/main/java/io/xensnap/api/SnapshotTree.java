package io.xensnap.api;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * All snapshots of one domain, as a tree: each snapshot's parent is the one the domain was at when it was taken.
 *
 * @param domainUuid the domain's uuid
 * @param current    the snapshot the domain's disks were last created from or reverted to, or {@code null}
 * @param snapshots  every snapshot, oldest first
 */
public record SnapshotTree(String domainUuid, String current, List<SnapshotInfo> snapshots) {

    /** @throws IllegalArgumentException when the snapshots do not form a tree of this domain */
    public SnapshotTree {
        Names.uuid(domainUuid);
        snapshots = List.copyOf(Objects.requireNonNull(snapshots, "snapshots"));
        Set<String> names = new HashSet<>();
        for (SnapshotInfo s : snapshots) {
            if (!s.domainUuid().equals(domainUuid)) {
                throw new IllegalArgumentException("snapshot " + s.name() + " belongs to domain " + s.domainUuid());
            }
            if (!names.add(s.name())) {
                throw new IllegalArgumentException("snapshot " + s.name() + " appears twice");
            }
        }
        for (SnapshotInfo s : snapshots) {
            if (s.parent() != null && !names.contains(s.parent())) {
                throw new IllegalArgumentException("snapshot " + s.name() + " has unknown parent " + s.parent());
            }
        }
        if (current != null && !names.contains(current)) {
            throw new IllegalArgumentException("current snapshot " + current + " is not in the tree");
        }
    }

    /** @return the snapshot called {@code name}, if any */
    public Optional<SnapshotInfo> get(String name) {
        return snapshots.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** @return the snapshots without a parent, oldest first */
    public List<SnapshotInfo> roots() {
        return snapshots.stream().filter(s -> s.parent() == null).toList();
    }

    /** @return the snapshots whose parent is {@code name}, oldest first */
    public List<SnapshotInfo> children(String name) {
        return snapshots.stream().filter(s -> name.equals(s.parent())).toList();
    }
}
