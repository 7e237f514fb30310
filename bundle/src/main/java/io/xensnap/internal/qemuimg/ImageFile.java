package io.xensnap.internal.qemuimg;

import java.nio.file.Path;
import java.util.Objects;

/**
 * An image file and its format. The format is always passed to qemu-img: probing a raw image would let a guest that
 * wrote an image header into its disk choose how the host reads the file.
 */
public record ImageFile(Path path, String format) {

    public ImageFile {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(format, "format");
        // qemu-img reads "proto:rest" as a protocol prefix unless a '/' comes first
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException("image path must be absolute: " + path);
        }
        if (!format.matches("[a-z0-9]+")) {
            throw new IllegalArgumentException("not an image format: '" + format + "'");
        }
    }

    public static ImageFile qcow2(Path path) {
        return new ImageFile(path, "qcow2");
    }

    public static ImageFile raw(Path path) {
        return new ImageFile(path, "raw");
    }
}
