package io.xensnap.internal.catalog;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Objects;
import java.util.Optional;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.Names;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotTree;

/**
 * What xensnap remembers about one domain: its snapshots, the current one, the disks it last saw, and an operation
 * that was in progress when the process stopped (so a crash can be reconciled).
 *
 * @param uuid      the domain's uuid (the catalog's key: domids change every boot)
 * @param name      the domain's name when last seen, may be empty
 * @param current   the current snapshot, or {@code null}
 * @param disks     the domain's disks as last seen (the top image of each)
 * @param pending   the operation in progress, if one was interrupted
 * @param snapshots the snapshots, oldest first
 * @param made      the files xensnap made for this domain that may still exist and that no snapshot lists as its
 *                  overlay (a snapshot's overlay is recorded by the snapshot): with those overlays, the only files
 *                  reconcile may ever remove. A file enters with the pending mark (or, for a shut-off create, the
 *                  catalog write) that comes before it is made; it leaves once it is gone ({@link CatalogStore#save})
 *                  or a snapshot lists it
 */
public record DomainCatalog(String uuid, String name, String current, List<DiskImage> disks,
                            Optional<PendingOperation> pending, List<SnapshotInfo> snapshots, List<Path> made) {

    public DomainCatalog {
        Names.uuid(uuid);
        name = name == null ? "" : name;
        disks = List.copyOf(disks);
        Objects.requireNonNull(pending, "pending");
        snapshots = List.copyOf(snapshots);
        // the tree's constructor checks names, parents and current
        new SnapshotTree(uuid, current, snapshots);
        // a mark names files about to be made: recording them here means no write of a mark can leave them out
        Set<Path> all = new LinkedHashSet<>(Objects.requireNonNull(made, "made"));
        pending.ifPresent(p -> all.addAll(p.files()));
        // a snapshot's overlay is recorded by the snapshot itself, for as long as the file exists
        snapshots.forEach(s -> s.disks().forEach(d -> all.remove(d.overlay())));
        made = List.copyOf(all);
    }

    /** A catalog that records no made file beyond what its pending mark names. */
    public DomainCatalog(String uuid, String name, String current, List<DiskImage> disks,
                         Optional<PendingOperation> pending, List<SnapshotInfo> snapshots) {
        this(uuid, name, current, disks, pending, snapshots, List.of());
    }

    /** @return the catalog of a domain with no snapshots yet */
    public static DomainCatalog empty(String uuid) {
        return new DomainCatalog(uuid, "", null, List.of(), Optional.empty(), List.of());
    }

    public SnapshotTree tree() {
        return new SnapshotTree(uuid, current, snapshots);
    }

    public Optional<SnapshotInfo> snapshot(String snapshotName) {
        return snapshots.stream().filter(s -> s.name().equals(snapshotName)).findFirst();
    }

    /** @return this catalog with {@code s} added, made current */
    public DomainCatalog withSnapshot(SnapshotInfo s, List<DiskImage> disksAfter) {
        if (snapshot(s.name()).isPresent()) {
            throw new IllegalArgumentException("snapshot " + s.name() + " exists");
        }
        List<SnapshotInfo> all = new ArrayList<>(snapshots);
        all.add(s);
        return new DomainCatalog(uuid, name, s.name(), disksAfter, pending, all, made);
    }

    /**
     * @return this catalog without {@code snapshotName}; its children take its parent, and if it was current its
     *         parent becomes current
     */
    public DomainCatalog withoutSnapshot(String snapshotName) {
        SnapshotInfo gone = snapshot(snapshotName)
                .orElseThrow(() -> new IllegalArgumentException("no snapshot " + snapshotName));
        List<SnapshotInfo> all = new ArrayList<>();
        for (SnapshotInfo s : snapshots) {
            if (s.name().equals(snapshotName)) {
                continue;
            }
            all.add(snapshotName.equals(s.parent())
                    ? new SnapshotInfo(s.domainUuid(), s.name(), s.description(), s.created(), gone.parent(), s.disks(),
                            s.memory(), s.quiesced(), s.frozen())
                    : s);
        }
        String cur = snapshotName.equals(current) ? gone.parent() : current;
        return new DomainCatalog(uuid, name, cur, disks, pending, all, made);
    }

    /**
     * @return this catalog without {@code snapshotName} (as {@link #withoutSnapshot}) after its overlays were merged
     *         down into its frozen images: a snapshot that froze one of those overlays now freezes the image below it,
     *         in that image's format
     */
    public DomainCatalog withoutSnapshotMergedDown(String snapshotName) {
        SnapshotInfo gone = snapshot(snapshotName)
                .orElseThrow(() -> new IllegalArgumentException("no snapshot " + snapshotName));
        DomainCatalog without = withoutSnapshot(snapshotName);
        List<SnapshotInfo> all = new ArrayList<>();
        for (SnapshotInfo s : without.snapshots) {
            List<DiskSnapshot> disks = s.disks().stream().map(o -> mergedDown(gone, o)).toList();
            all.add(disks.equals(s.disks()) ? s : new SnapshotInfo(s.domainUuid(), s.name(), s.description(),
                    s.created(), s.parent(), disks, s.memory(), s.quiesced(), s.frozen()));
        }
        return new DomainCatalog(uuid, name, without.current, disks, pending, all, made);
    }

    private static DiskSnapshot mergedDown(SnapshotInfo gone, DiskSnapshot o) {
        for (DiskSnapshot d : gone.disks()) {
            if (d.kind() == SnapshotKind.EXTERNAL && o.kind() == SnapshotKind.EXTERNAL && d.vdev().equals(o.vdev())
                    && d.overlay().equals(o.image())) {
                return new DiskSnapshot(o.vdev(), o.kind(), d.image(), d.format(), o.overlay());
            }
        }
        return o;
    }

    public DomainCatalog withCurrent(String snapshotName, List<DiskImage> disksAfter) {
        return new DomainCatalog(uuid, name, snapshotName, disksAfter, pending, snapshots, made);
    }

    public DomainCatalog withName(String domainName) {
        return new DomainCatalog(uuid, domainName, current, disks, pending, snapshots, made);
    }

    public DomainCatalog withPending(Optional<PendingOperation> op) {
        return new DomainCatalog(uuid, name, current, disks, op, snapshots, made);
    }

    /** @return this catalog also recording {@code files} as made by xensnap (written before they are made) */
    public DomainCatalog withMade(List<Path> files) {
        List<Path> all = new ArrayList<>(made);
        all.addAll(files);
        return new DomainCatalog(uuid, name, current, disks, pending, snapshots, all);
    }

    /** @return this catalog recording as made only those of its files that {@code keep} accepts */
    DomainCatalog withMadeOnly(java.util.function.Predicate<Path> keep) {
        return new DomainCatalog(uuid, name, current, disks, pending, snapshots,
                made.stream().filter(keep).toList());
    }
}
