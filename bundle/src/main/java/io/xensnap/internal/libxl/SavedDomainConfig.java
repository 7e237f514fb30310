package io.xensnap.internal.libxl;

import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * libxl's domain config as xl keeps it in a save image: the same JSON libxl writes to its userdata file. A revert
 * re-points its disks at the images the domain must run on now, so that {@code xl restore} does not start the domain
 * on images a snapshot has frozen since.
 */
public final class SavedDomainConfig {

    private SavedDomainConfig() {
    }

    /** @return the disk {@code vdev} in {@code json} (without a trailing NUL) */
    public static LibxlDisk disk(byte[] json, String vdev, String name) throws LibxlConfigException {
        return DomainConfigDisks.read(DomainConfigJson.parse(json, name), vdev, name);
    }

    /**
     * @return whether the disk {@code vdev} in {@code json} names QEMU's backend ({@code "backend": "qdisk"}). A disk
     *         without a backend was left to libxl's choice when it was attached: blkback for a raw device, so its
     *         config says nothing (as {@code xl block-attach phy:/dev/loop0,xvdc,w} leaves it)
     */
    public static boolean qdisk(byte[] json, String vdev, String name) throws LibxlConfigException {
        return DomainConfigDisks.backend(DomainConfigJson.parse(json, name), vdev, name).filter("qdisk"::equals)
                .isPresent();
    }

    /**
     * @param json  the config (without a trailing NUL)
     * @param disks the disks to re-point: each one's path and format replace those of the disk with its vdev
     * @return the config as libxl would print it, without a trailing NUL; every other field as it was
     */
    public static byte[] withDisks(byte[] json, List<LibxlDisk> disks, String name) throws LibxlConfigException {
        return withDisks(json, disks, List.of(), name);
    }

    /**
     * As {@link #withDisks(byte[], List, String)}, and each disk of {@code qdisks} is also switched to QEMU's backend
     * (qdisk, its hotplug script removed): a snapshot with memory of a disk that blkback serves restores the domain on
     * a qcow2 overlay, which only QEMU can serve.
     */
    public static byte[] withDisks(byte[] json, List<LibxlDisk> disks, List<LibxlDisk> qdisks, String name)
            throws LibxlConfigException {
        ObjectNode config = DomainConfigJson.parse(json, name);
        for (LibxlDisk d : disks) {
            DomainConfigDisks.write(config, d, name);
        }
        for (LibxlDisk d : qdisks) {
            DomainConfigDisks.writeQdisk(config, d, name);
        }
        byte[] printed = DomainConfigJson.print(config);
        return Arrays.copyOf(printed, printed.length - 1);
    }

    /** @return the domain's shape in {@code json} as libxl stored it: what a save and restore of it needs to know */
    public static DomainShape shape(byte[] json, String name) throws LibxlConfigException {
        return DomainShape.of(DomainConfigJson.parse(json, name));
    }
}
