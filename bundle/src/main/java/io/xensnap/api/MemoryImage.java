package io.xensnap.api;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The saved memory and device state of a domain snapshot: libxl's save image, made by {@code xl save} at the
 * snapshot's instant, with libxl's config of the domain in its header. Kept under xensnap's state directory, readable
 * by root only; deleting the snapshot removes it.
 *
 * @param image     the save image, an absolute path
 * @param sizeBytes its size in bytes, about the domain's memory
 * @since 1.3
 */
public record MemoryImage(Path image, long sizeBytes) {

    /** @throws IllegalArgumentException for a relative path or a negative size */
    public MemoryImage {
        Objects.requireNonNull(image, "image");
        if (!image.isAbsolute()) {
            throw new IllegalArgumentException("memory image " + image + " is not an absolute path");
        }
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("memory image size is negative: " + sizeBytes);
        }
    }
}
