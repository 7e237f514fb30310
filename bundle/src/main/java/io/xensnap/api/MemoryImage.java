package io.xensnap.api;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The saved memory and device state of a domain snapshot: libxl's save image, made by {@code xl save} at the
 * snapshot's instant, with libxl's config of the domain in its header. Kept under xensnap's state directory, readable
 * by root only; deleting the snapshot removes it. A revert checks the image against its digest before it changes
 * anything: an image damaged since the snapshot would leave the domain destroyed and not restorable.
 *
 * @param image     the save image, an absolute path
 * @param sizeBytes its size in bytes, about the domain's memory
 * @param sha256    the SHA-256 of the image as xl wrote it, 64 lowercase hex digits; empty when not known
 * @since 1.3
 */
public record MemoryImage(Path image, long sizeBytes, String sha256) {

    /** @throws IllegalArgumentException for a relative path, a negative size or a digest that is not SHA-256 hex */
    public MemoryImage {
        Objects.requireNonNull(image, "image");
        if (!image.isAbsolute()) {
            throw new IllegalArgumentException("memory image " + image + " is not an absolute path");
        }
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("memory image size is negative: " + sizeBytes);
        }
        Objects.requireNonNull(sha256, "sha256");
        if (!sha256.isEmpty() && !sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("memory image digest is not 64 lowercase hex digits: " + sha256);
        }
    }
}
