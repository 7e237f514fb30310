package io.xensnap.api;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Which domain an operation is about: a running one by its domid, or a shut-off one by its uuid.
 *
 * <p>Snapshots are kept per domain uuid, because domids change on every boot.
 */
public sealed interface DomainRef permits DomainRef.Running, DomainRef.ShutOff {

    /**
     * A running (or paused) domain. Its uuid, name and disks are read from xenstore.
     *
     * @param domid the domain id, 1 to 32751 (dom0 itself has no snapshots)
     */
    record Running(int domid) implements DomainRef {
        /** @throws IllegalArgumentException for a domid outside 1..32751 */
        public Running {
            if (domid < 1 || domid > 0x7fef) {
                throw new IllegalArgumentException("invalid domid " + domid + ": expected 1 to 32751");
            }
        }

        @Override
        public String toString() {
            return "domain " + domid;
        }
    }

    /**
     * A shut-off domain: no device model holds its images, so they are worked on with qemu-img.
     *
     * @param uuid  the domain's uuid, lowercase 8-4-4-4-12
     * @param disks the disk images the caller knows; may be empty once the catalog remembers the domain's disks
     */
    record ShutOff(String uuid, List<DiskImage> disks) implements DomainRef {
        /** @throws IllegalArgumentException for a bad uuid or two disks with the same vdev */
        public ShutOff {
            Names.uuid(uuid);
            disks = List.copyOf(Objects.requireNonNull(disks, "disks"));
            Set<String> seen = new HashSet<>();
            for (DiskImage d : disks) {
                if (!seen.add(d.vdev())) {
                    throw new IllegalArgumentException("disk " + d.vdev() + " is given twice");
                }
            }
        }

        @Override
        public String toString() {
            return "domain " + uuid;
        }
    }

    /** @return a reference to the running domain {@code domid} */
    static DomainRef running(int domid) {
        return new Running(domid);
    }

    /** @return a reference to the shut-off domain {@code uuid} with the disks the caller knows */
    static DomainRef shutOff(String uuid, List<DiskImage> disks) {
        return new ShutOff(uuid, disks);
    }

    /**
     * Parses what a person types: a number is a running domid, a uuid a shut-off domain whose disks the catalog knows.
     *
     * @throws IllegalArgumentException for anything else
     */
    static DomainRef parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("domain is missing");
        }
        // trim() would also drop NUL and other control characters, and "7\0" must not name domain 7
        if (text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("domain '" + Names.printable(text) + "' contains a control character");
        }
        String t = text.trim();
        if (t.matches("[0-9]{1,5}")) {
            return new Running(Integer.parseInt(t));
        }
        return new ShutOff(t.toLowerCase(java.util.Locale.ROOT), List.of());
    }
}
