package io.xensnap.api;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of a revert.
 *
 * @param snapshot the snapshot the domain's disks now match
 * @param disks    the image each disk must be started from; the configured path where it could be kept, a new
 *                 overlay otherwise (external snapshots)
 */
public record RevertResult(SnapshotInfo snapshot, List<DiskImage> disks) {

    public RevertResult {
        Objects.requireNonNull(snapshot, "snapshot");
        disks = List.copyOf(Objects.requireNonNull(disks, "disks"));
    }
}
