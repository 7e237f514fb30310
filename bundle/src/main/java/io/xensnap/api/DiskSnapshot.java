package io.xensnap.api;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a snapshot holds for one disk.
 *
 * @param vdev    the disk
 * @param kind    internal or external
 * @param image   internal: the qcow2 image that holds the snapshot; external: the image frozen by the snapshot
 * @param format  the format of {@code image}
 * @param overlay external only: the overlay created on top of {@code image}, which took the disk's writes from then
 *                on; {@code null} for internal
 */
public record DiskSnapshot(String vdev, SnapshotKind kind, Path image, DiskFormat format, Path overlay) {

    /** @throws IllegalArgumentException when the fields do not fit the kind */
    public DiskSnapshot {
        Names.vdev(vdev);
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(format, "format");
        image = Paths.absoluteNormalized(image, "image");
        if (kind == SnapshotKind.INTERNAL) {
            if (overlay != null) {
                throw new IllegalArgumentException("disk " + vdev + ": an internal snapshot has no overlay");
            }
            if (format != DiskFormat.QCOW2) {
                throw new IllegalArgumentException("disk " + vdev + ": internal snapshots live in qcow2 images only");
            }
        } else {
            overlay = Paths.absoluteNormalized(overlay, "overlay");
        }
    }
}
