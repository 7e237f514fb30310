package io.xensnap.internal.engine.create;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

import io.xensnap.internal.engine.OwnNames;

/**
 * The length limits an overlay path must meet for every peer that stores or opens it, checked before anything is
 * changed: a path one peer takes and the next refuses would leave the peers disagreeing about the disk after the point
 * of no return. Lengths are in bytes of UTF-8, as the kernel and the daemons count them. The table with the reason
 * for each limit is in docs/operations.md; xenstore's value limits depend on the disk's node paths and are checked by
 * {@link io.xensnap.internal.xenstore.DiskImageSwap#refusal}.
 */
final class OverlayPathLimits {

    /** Linux PATH_MAX, the terminating NUL included. */
    static final int PATH_MAX = 4096;

    /** Linux NAME_MAX: one component of a path. */
    static final int NAME_MAX = 255;

    /**
     * qcow2 stores a backing file name of at most 1023 bytes (qemu-img: "Could not assign backing file"): the overlay
     * becomes the backing file of the next external snapshot's overlay and of a revert's new overlay.
     */
    static final int BACKING_NAME_MAX = 1023;

    /** The longest file name an overlay may have: a revert sets it aside under its name plus this suffix. */
    static final int FILE_NAME_MAX = NAME_MAX - OwnNames.SET_ASIDE_SUFFIX.length();

    private OverlayPathLimits() {
    }

    /** @return why {@code overlay} is too long for some peer, or empty */
    static Optional<String> refusal(Path overlay) {
        int bytes = bytes(overlay.toString());
        if (bytes + 1 > PATH_MAX) {
            return Optional.of("is " + bytes + " bytes long; Linux takes paths of at most " + (PATH_MAX - 1)
                    + " bytes (PATH_MAX)");
        }
        for (Path part : overlay) {
            int n = bytes(part.toString());
            if (n > NAME_MAX) {
                return Optional.of("has a component of " + n + " bytes; Linux takes at most " + NAME_MAX
                        + " bytes per file or directory name (NAME_MAX)");
            }
        }
        Path file = overlay.getFileName();
        if (file != null && bytes(file.toString()) > FILE_NAME_MAX) {
            return Optional.of("has a file name of " + bytes(file.toString()) + " bytes; at most " + FILE_NAME_MAX
                    + " leave room for the suffix " + OwnNames.SET_ASIDE_SUFFIX + " a revert adds when it sets the"
                    + " overlay aside (NAME_MAX " + NAME_MAX + ")");
        }
        if (bytes > BACKING_NAME_MAX) {
            return Optional.of("is " + bytes + " bytes long; qcow2 stores backing file names of at most "
                    + BACKING_NAME_MAX + " bytes, and this overlay becomes the backing file of the next snapshot's"
                    + " overlay");
        }
        return Optional.empty();
    }

    static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
