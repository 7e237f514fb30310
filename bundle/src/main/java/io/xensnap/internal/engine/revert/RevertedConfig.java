package io.xensnap.internal.engine.revert;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.xensnap.api.DiskImage;
import io.xensnap.api.RevertResult;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.libxl.SavedDomainConfig;

/**
 * libxl's config of a domain whose disks a revert put back, each disk naming the image the domain must run on now.
 * An internal disk snapshot keeps its path; an external one does not: the image the config names is frozen now, and
 * a domain started on it would write into the base of every overlay above it.
 */
final class RevertedConfig {

    private RevertedConfig() {
    }

    /**
     * @param json the config as it was at the snapshot's instant (without a trailing NUL)
     * @param name where it comes from, for messages
     * @return the config re-pointed at the reverted images; empty when it already names every one of them
     */
    static Optional<byte[]> of(byte[] json, RevertResult result, String name) throws LibxlConfigException {
        List<LibxlDisk> moved = new ArrayList<>();
        // a disk blkback served at the snapshot (taken by saving, destroying and restoring the domain) is back on a
        // qcow2 overlay, which only QEMU serves: it goes back as a qdisk, as the snapshot's own restore did. Its
        // config may name blkback ("phy") or no backend at all (libxl chose one when the disk was attached)
        List<LibxlDisk> qdisks = new ArrayList<>();
        for (DiskImage d : result.disks()) {
            LibxlDisk now = new LibxlDisk(d.vdev(), d.image().toString(), LibxlDiskFormat.valueOf(d.format().name()));
            LibxlDisk saved = SavedDomainConfig.disk(json, d.vdev(), name);
            if (!saved.equals(now)) {
                boolean toQdisk = now.format() != LibxlDiskFormat.RAW && !SavedDomainConfig.qdisk(json, d.vdev(), name);
                (toQdisk ? qdisks : moved).add(now);
            }
        }
        if (moved.isEmpty() && qdisks.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(SavedDomainConfig.withDisks(json, moved, qdisks, name));
    }
}
