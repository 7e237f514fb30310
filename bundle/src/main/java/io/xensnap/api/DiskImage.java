package io.xensnap.api;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A disk of a domain and the image that currently backs it (the top of its chain).
 *
 * @param vdev   the virtual device, e.g. {@code xvda}
 * @param image  absolute, normalized path of the image
 * @param format the image's format
 */
public record DiskImage(String vdev, Path image, DiskFormat format) {

    /** @throws IllegalArgumentException for a bad vdev or a relative or non-normalized path */
    public DiskImage {
        Names.vdev(vdev);
        Objects.requireNonNull(format, "format");
        image = Paths.absoluteNormalized(image, "image");
    }
}
