package io.xensnap.internal.engine.create;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.OverlayPlace;
import io.xensnap.internal.fs.FileIdentity;
import io.xensnap.internal.qemuimg.Qcow2Header;

/**
 * The limits a create must keep ({@link CreateLimits}), checked while validating: they only read (image headers, the
 * file system's free space), so a refused create changes nothing. Each has its own code, so that a scheduler or a
 * script can tell "clean up first" from a bad request.
 */
final class CreateGuards {

    private final CreateLimits limits;

    CreateGuards(CreateLimits limits) {
        this.limits = limits;
    }

    /** An external snapshot adds one image to the disk's chain. */
    void chain(String what, DiskView disk) throws SnapshotException {
        int length = chainLength(what, disk);
        if (length >= limits.maxChainLength()) {
            throw new SnapshotException(SnapshotError.CHAIN_TOO_LONG, what + ": its backing chain holds " + length
                    + (length > limits.maxChainLength() ? " or more" : "") + " images and may hold at most "
                    + limits.maxChainLength() + " (configuration key chain.max.length); a new overlay would make it"
                    + " longer. Delete a snapshot of it first (its overlay is merged), or raise the limit");
        }
    }

    /** An internal snapshot adds one to the count in the top image. */
    void internalCount(String what, DiskView disk) throws SnapshotException {
        int held = header(what, disk.image()).map(Qcow2Header::snapshots).orElse(0);
        if (held >= limits.maxInternalSnapshots()) {
            throw new SnapshotException(SnapshotError.TOO_MANY_SNAPSHOTS, what + ": image " + disk.image() + " holds "
                    + held + " internal snapshots and may hold at most " + limits.maxInternalSnapshots()
                    + " (configuration key internal.snapshots.max). Delete one first, or raise the limit");
        }
    }

    /** The guest's writes after an external snapshot go to the overlay: its file system must have room left. */
    void freeSpace(String what, OverlayPlace place) throws SnapshotException {
        if (limits.minFreeBytes() == 0 && limits.minFreePercent() == 0) {
            return;
        }
        Path dir = place.directory().real();
        long usable;
        long total;
        try {
            FileStore store = Files.getFileStore(dir);
            usable = store.getUsableSpace();
            total = store.getTotalSpace();
            // the name is followed: the numbers count only if it still names the directory that was checked
            if (!FileIdentity.of(dir).equals(place.directory().identity())) {
                throw new NoSuchFileException(dir.toString(), null, "replaced since it was checked");
            }
        } catch (NoSuchFileException e) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, what + " refused, nothing changed: directory "
                    + dir + " changed while the request was checked (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, what + ": cannot read the free space of the file"
                    + " system of " + dir + ": " + e.getMessage(), e);
        }
        // usable, not free: what an unprivileged writer could still use is what QEMU can count on without reserve
        boolean belowBytes = usable < limits.minFreeBytes();
        boolean belowPercent = total > 0 && usable * 100.0 / total < limits.minFreePercent();
        if (belowBytes || belowPercent) {
            throw new SnapshotException(SnapshotError.LOW_FREE_SPACE, what + ": the file system of " + dir + " has "
                    + usable + " bytes free (" + percent(usable, total) + " of " + total + "), below the minimum of "
                    + limits.minFreeBytes() + " bytes and " + limits.minFreePercent() + "% (configuration keys"
                    + " free.space.min.bytes, free.space.min.percent). Free space, or put the overlay elsewhere");
        }
    }

    /**
     * @return the images of the disk's chain, counted from the headers as QEMU follows them, at most one past the limit
     *         (no need to read further, and a chain that loops back ends there)
     */
    private int chainLength(String what, DiskView disk) throws SnapshotException {
        if (disk.format() != DiskFormat.QCOW2) {
            return 1;
        }
        int length = 1;
        Path file = disk.image();
        while (length <= limits.maxChainLength()) {
            Optional<Qcow2Header> h = header(what, file);
            if (h.isEmpty() || h.get().backingFile().isEmpty()) {
                return length;
            }
            length++;
            Optional<Path> next = next(file, h.get());
            if (next.isEmpty()) {
                return length;
            }
            file = next.get();
        }
        return length;
    }

    /** @return the backing file to read next, empty when it is not qcow2 or not a local file (the chain ends there) */
    private static Optional<Path> next(Path file, Qcow2Header h) {
        String name = h.backingFile().orElseThrow();
        int colon = name.indexOf(':');
        int slash = name.indexOf('/');
        if (colon >= 0 && (slash < 0 || colon < slash)) {
            // json:{...} or a protocol (nbd:, file:): QEMU's own business; counted, not followed
            return Optional.empty();
        }
        Path backing = file.resolveSibling(name).normalize();
        Optional<String> format = h.backingFormat();
        if (format.isPresent()) {
            return format.get().equals("qcow2") ? Optional.of(backing) : Optional.empty();
        }
        try {
            // no format in the header: QEMU probes, and so does the count
            return Qcow2Header.looksLikeQcow2(backing) ? Optional.of(backing) : Optional.empty();
        } catch (IOException e) {
            // counted, and the chain ends here for QEMU too: it could not open the file either
            return Optional.empty();
        }
    }

    private static Optional<Qcow2Header> header(String what, Path image) throws SnapshotException {
        try {
            return Qcow2Header.read(image);
        } catch (NoSuchFileException e) {
            // QEMU holds the image open; its name is gone or leads elsewhere: someone is moving files right now
            throw new SnapshotException(SnapshotError.INVALID_STATE, what + " refused, nothing changed: image " + image
                    + " is no longer at that path (moved or replaced while the request was checked)", e);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, what + ": cannot read the qcow2 header of " + image
                    + ": " + e.getMessage(), e);
        }
    }

    private static String percent(long part, long total) {
        return total <= 0 ? "?%" : String.format(java.util.Locale.ROOT, "%.1f%%", part * 100.0 / total);
    }
}
