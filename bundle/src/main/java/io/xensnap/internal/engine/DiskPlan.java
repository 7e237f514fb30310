package io.xensnap.internal.engine;

import java.nio.file.Path;
import java.util.Objects;

import io.xensnap.api.SnapshotKind;

/**
 * What create will do to one disk, decided before anything is changed.
 *
 * @param disk    the disk
 * @param kind    internal or external
 * @param overlay external only: the checked path of the new overlay
 */
record DiskPlan(DiskView disk, SnapshotKind kind, Path overlay) {

    DiskPlan {
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(kind, "kind");
        if ((kind == SnapshotKind.EXTERNAL) != (overlay != null)) {
            throw new IllegalArgumentException("an overlay path belongs to external snapshots only");
        }
    }
}
