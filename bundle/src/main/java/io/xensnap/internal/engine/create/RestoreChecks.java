package io.xensnap.internal.engine.create;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.DomainView;
import io.xensnap.internal.libxl.DomainShape;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.SavedDomainConfig;

/**
 * The checks of a snapshot with memory that must restore the domain on other disk backends ({@link RestoringCreate}):
 * read only (libxl's stored config, the free space), so a refused request changes nothing.
 */
final class RestoreChecks {

    private RestoreChecks() {
    }

    /**
     * @param config libxl's config of the running domain, empty when libxl keeps none
     * @param memory the save image to be made
     */
    static void check(DomainView domain, Optional<byte[]> config, Path memory) throws SnapshotException {
        String what = domain.label() + ": a disk served by blkback is snapshotted by saving, destroying and restoring"
                + " the domain, and ";
        if (config.isEmpty()) {
            throw new SnapshotException(SnapshotError.UNSUPPORTED, what + "libxl keeps no config of this domain"
                    + " (another toolstack started it), so xl cannot restore it");
        }
        DomainShape shape;
        try {
            shape = SavedDomainConfig.shape(config.get(), domain.label() + "'s libxl config");
        } catch (LibxlConfigException e) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, what + "its libxl config cannot be read: "
                    + e.getMessage(), e);
        }
        String type = shape.type().orElse("(none)");
        if (!type.equals("pv") && !type.equals("pvh")) {
            // an HVM guest's emulated disks are the device model's: a restore cannot move them to another backend
            throw new SnapshotException(SnapshotError.UNSUPPORTED, what + "it is of type " + type + ": only PV and"
                    + " PVH domains qualify; an HVM domain's emulated disks are served by its device model, and a"
                    + " restore cannot move them to another backend");
        }
        if (shape.stubdomain()) {
            throw new SnapshotException(SnapshotError.UNSUPPORTED, what + "its device model runs in a stub domain,"
                    + " which would have to serve the new qcow2 overlay; xensnap restores domains whose QEMU runs"
                    + " in dom0 only");
        }
        if (shape.dmRestrict()) {
            throw new SnapshotException(SnapshotError.UNSUPPORTED, what + "its device model runs deprivileged"
                    + " (dm_restrict), and the restored QEMU would have to open the overlay as an unprivileged user;"
                    + " xensnap does not arrange that");
        }
        freeSpace(domain, memory, shape.maxMemKb());
    }

    /** The save image and the copy of it that names the overlays are both about the size of the domain's memory. */
    private static void freeSpace(DomainView domain, Path memory, long maxMemKb) throws SnapshotException {
        long needed = 2 * maxMemKb * 1024;
        Path dir = memory.getParent();
        while (dir != null && !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            dir = dir.getParent();
        }
        if (needed == 0 || dir == null) {
            return;
        }
        long usable;
        try {
            usable = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, domain.label() + ": cannot read the free space of "
                    + dir + ": " + e.getMessage(), e);
        }
        if (usable < needed) {
            throw new SnapshotException(SnapshotError.LOW_FREE_SPACE, domain.label() + ": the save image " + memory
                    + " and the copy of it that restores the domain on the overlays need about " + needed + " bytes"
                    + " (twice the domain's " + maxMemKb + " KiB of memory), and " + dir + " has " + usable
                    + " bytes free; nothing changed");
        }
    }
}
