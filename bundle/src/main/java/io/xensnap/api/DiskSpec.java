package io.xensnap.api;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How to snapshot one disk.
 *
 * @param vdev          the disk, e.g. {@code xvdb}
 * @param kind          internal (inside the qcow2 image) or external (a new overlay takes the writes)
 * @param overlay       external only: the new overlay's absolute path, or {@code null} for the default beside the
 *                      image ({@code <image-without-extension>.<snapshot>.qcow2})
 * @param overlayFormat external only: the overlay's format; only {@link DiskFormat#QCOW2} can have a backing image
 */
public record DiskSpec(String vdev, SnapshotKind kind, Path overlay, DiskFormat overlayFormat) {

    /** @throws IllegalArgumentException for a bad vdev or path, or overlay settings on an internal snapshot */
    public DiskSpec {
        Names.vdev(vdev);
        Objects.requireNonNull(kind, "kind");
        if (kind == SnapshotKind.INTERNAL) {
            if (overlay != null || overlayFormat != null) {
                throw new IllegalArgumentException("disk " + vdev + ": an internal snapshot has no overlay");
            }
        } else {
            if (overlay != null) {
                overlay = Paths.absoluteNormalized(overlay, "overlay");
            }
            overlayFormat = overlayFormat == null ? DiskFormat.QCOW2 : overlayFormat;
        }
    }

    /** @return an internal snapshot of {@code vdev} */
    public static DiskSpec internal(String vdev) {
        return new DiskSpec(vdev, SnapshotKind.INTERNAL, null, null);
    }

    /** @return an external snapshot of {@code vdev} into a qcow2 overlay at {@code overlay} ({@code null}: default) */
    public static DiskSpec external(String vdev, Path overlay) {
        return new DiskSpec(vdev, SnapshotKind.EXTERNAL, overlay, DiskFormat.QCOW2);
    }
}
