package io.xensnap.internal.engine;

import java.nio.file.Path;

import io.xensnap.api.DiskFormat;
import io.xensnap.internal.qemuimg.DiskImage;

/** The bridge from the API's formats to qemu-img's image handles. */
final class Images {

    private Images() {
    }

    static DiskImage of(Path path, DiskFormat format) {
        return new DiskImage(path, format.id());
    }
}
