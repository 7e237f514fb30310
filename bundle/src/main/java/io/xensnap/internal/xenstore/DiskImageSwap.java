package io.xensnap.internal.xenstore;

import java.util.Objects;

/**
 * The xenstore side of pointing a disk at another image (after an external snapshot, or back on revert): the
 * backend's {@code params} and libxl's copy of it change in one transaction, so no reader ever sees one without the
 * other. Nothing else changes: mode, state and the frontend stay as they are.
 */
public final class DiskImageSwap {

    private final XenstoreClient xs;

    public DiskImageSwap(XenstoreClient xs) {
        this.xs = Objects.requireNonNull(xs, "xs");
    }

    /**
     * @param disk      the disk as listed by {@link DomainDisks}; its {@code params} must still be current
     * @param newFormat the new image's format (a vbd backend takes raw only)
     * @param newTarget the new image path
     * @return the disk as it is now
     * @throws XenstoreException {@code ESTALE} when the disk's params changed since it was listed (someone else
     *         swapped it: nothing is written); {@code ENOENT} when the disk is gone
     */
    public DomainDisk swap(DomainDisk disk, DiskFormat newFormat, String newTarget) throws XenstoreException {
        DomainDisk swapped = disk.withImage(newFormat, newTarget);
        xs.transaction(tx -> {
            DomainDisk current = DomainDisks.disk(tx, disk.domid(), disk.devid());
            if (!current.backendPath().equals(disk.backendPath()) || !current.params().equals(disk.params())) {
                throw new XenstoreException(XenstoreException.ESTALE, "disk " + disk.vdev() + " of domain "
                        + disk.domid() + " now has params '" + current.params() + "' at " + current.backendPath()
                        + ", not '" + disk.params() + "' as listed");
            }
            tx.write(disk.backendPath() + "/params", swapped.params());
            // A domain libxl did not create has no private copy; do not invent one.
            if (tx.exists(disk.libxlPath())) {
                tx.write(disk.libxlPath() + "/params", swapped.params());
            }
            return null;
        });
        return swapped;
    }
}
