package io.xensnap.internal.engine;

import java.nio.file.Path;
import java.util.Objects;

import io.xensnap.internal.fs.SecureDirectoryRule;

/**
 * A checked overlay path and its directory as validation saw it.
 *
 * @param overlay   the path as the user gave it: the disk's name for the overlay everywhere (QEMU, xenstore, libxl)
 * @param directory the overlay's directory with every link resolved, and its identity when checked
 */
public record OverlayPlace(Path overlay, SecureDirectoryRule.Checked directory) {

    public OverlayPlace {
        Objects.requireNonNull(overlay, "overlay");
        Objects.requireNonNull(directory, "directory");
    }

    String fileName() {
        return overlay.getFileName().toString();
    }
}
