package io.xensnap.internal.libxl;

import java.util.Objects;
import java.util.Optional;

/**
 * The two fields of a disk in libxl's domain config that a snapshot changes, plus the vdev that selects the disk.
 *
 * @param vdev     the guest device name, e.g. {@code xvda}
 * @param pdevPath the backing file or device; empty when libxl has none (an empty CD-ROM drive)
 * @param format   the image format; {@link LibxlDiskFormat#UNKNOWN} when the config has no {@code format}
 */
public record LibxlDisk(String vdev, Optional<String> pdevPath, LibxlDiskFormat format) {

    public LibxlDisk {
        Objects.requireNonNull(vdev, "vdev");
        if (vdev.isEmpty()) {
            throw new IllegalArgumentException("vdev is empty");
        }
        Objects.requireNonNull(pdevPath, "pdevPath");
        Objects.requireNonNull(format, "format");
    }

    public LibxlDisk(String vdev, String pdevPath, LibxlDiskFormat format) {
        this(vdev, Optional.of(pdevPath), format);
    }

    /** @return this disk backed by {@code newPath} in {@code newFormat} */
    public LibxlDisk withBacking(String newPath, LibxlDiskFormat newFormat) {
        return new LibxlDisk(vdev, Optional.of(newPath), newFormat);
    }
}
