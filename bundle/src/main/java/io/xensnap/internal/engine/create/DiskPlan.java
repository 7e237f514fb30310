package io.xensnap.internal.engine.create;

import java.nio.file.Path;
import java.util.Objects;

import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.OverlayPlace;

/**
 * What create will do to one disk, decided before anything is changed.
 *
 * @param disk    the disk
 * @param kind    internal or external
 * @param place   external only: the checked path of the new overlay and its directory as checked
 */
record DiskPlan(DiskView disk, SnapshotKind kind, OverlayPlace place) {

    DiskPlan {
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(kind, "kind");
        if ((kind == SnapshotKind.EXTERNAL) != (place != null)) {
            throw new IllegalArgumentException("an overlay path belongs to external snapshots only");
        }
    }

    /** @return external: the new overlay's path; internal: {@code null} */
    Path overlay() {
        return place == null ? null : place.overlay();
    }
}
