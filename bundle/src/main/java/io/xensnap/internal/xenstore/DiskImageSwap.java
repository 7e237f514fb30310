package io.xensnap.internal.xenstore;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * The xenstore side of pointing a disk at another image (after an external snapshot, or back on revert): the
 * backend's {@code params} and libxl's copy of it change in one transaction, so no reader ever sees one without the
 * other. Nothing else changes: mode, state and the frontend stay as they are.
 */
public final class DiskImageSwap {

    /**
     * The largest value oxenstored stores, for dom0 too: its {@code quota-maxsize} (2048 bytes in Xen's default
     * {@code oxenstored.conf}); a longer one is refused with {@code E2BIG}.
     */
    public static final int VALUE_MAX = 2048;

    /**
     * The largest request payload both daemons take ({@code XENSTORE_PAYLOAD_MAX}): for a WRITE the node path, a NUL
     * and the value. cxenstored keeps values up to this size; a larger request resets the connection.
     */
    public static final int PAYLOAD_MAX = 4096;

    private final XenstoreClient xs;

    public DiskImageSwap(XenstoreClient xs) {
        this.xs = Objects.requireNonNull(xs, "xs");
    }

    /**
     * What {@link #swap} would write for {@code newTarget}, checked against the daemons' size limits before anything
     * is changed: a value either daemon refuses would leave QEMU on the new image and xenstore on the old one.
     *
     * @return why the value cannot be written, or empty when both daemons take it
     */
    public static Optional<String> refusal(DomainDisk disk, LibxlFormat newFormat, String newTarget) {
        String params = disk.withImage(newFormat, newTarget).params();
        int value = params.getBytes(StandardCharsets.UTF_8).length;
        if (value > VALUE_MAX) {
            return Optional.of("the xenstore value params=\"" + newFormat.paramsPrefix() + ":<path>\" would be " + value
                    + " bytes; oxenstored stores at most " + VALUE_MAX + " bytes per value (quota-maxsize)");
        }
        for (String node : java.util.List.of(disk.backendPath(), disk.libxlPath())) {
            int payload = (node + "/params").getBytes(StandardCharsets.UTF_8).length + 1 + value;
            if (payload > PAYLOAD_MAX) {
                return Optional.of("writing " + node + "/params would take a " + payload + "-byte xenstore request;"
                        + " xenstored takes at most " + PAYLOAD_MAX);
            }
        }
        return Optional.empty();
    }

    /**
     * @param disk      the disk as listed by {@link DomainDisks}; its {@code params} must still be current
     * @param newFormat the new image's format (a vbd backend takes raw only)
     * @param newTarget the new image path
     * @return the disk as it is now
     * @throws XenstoreException {@code ESTALE} when the disk's params changed since it was listed (someone else
     *         swapped it: nothing is written); {@code ENOENT} when the disk is gone
     */
    public DomainDisk swap(DomainDisk disk, LibxlFormat newFormat, String newTarget) throws XenstoreException {
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
