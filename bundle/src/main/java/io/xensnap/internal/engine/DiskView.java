package io.xensnap.internal.engine;

import java.nio.file.Path;
import java.util.Objects;

import io.xensnap.api.DiskFormat;
import io.xensnap.internal.xenstore.DomainDisk;

/**
 * One disk of a domain as the engine sees it.
 *
 * @param vdev       the guest's name for it
 * @param backend    who serves it
 * @param format     qcow2 or raw; {@code null} for a format xensnap does not handle (vhd, qed, qcow)
 * @param formatName the format as libxl names it, for messages
 * @param image      the top image (or device) the disk is served from
 * @param writable   the domain may write to it
 * @param cdrom      a CD-ROM drive (never snapshotted by default)
 * @param xenstore   the xenstore view of a running domain's disk, {@code null} when shut off
 */
public record DiskView(String vdev, Backend backend, DiskFormat format, String formatName, Path image,
                       boolean writable, boolean cdrom, DomainDisk xenstore) {

    /** Who serves a disk. */
    public enum Backend {
        /** QEMU's xen-block: snapshots go through QMP. */
        QDISK,
        /** The kernel's blkback on a device: nothing can snapshot it live. */
        PHY,
        /** A shut-off domain's image: qemu-img works on it. */
        IMAGE
    }

    /**
     * @return whether the catalog can remember this disk's image: a format xensnap handles and a real path (an empty
     *         CD-ROM drive has neither)
     */
    public static boolean hasImage(DiskView d) {
        return d.format() != null && !d.cdrom() && d.image().isAbsolute();
    }

    public DiskView {
        Objects.requireNonNull(vdev, "vdev");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(formatName, "formatName");
        Objects.requireNonNull(image, "image");
    }
}
