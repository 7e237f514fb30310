package io.xensnap.internal.engine;

import java.nio.file.Path;

import io.xensnap.api.DiskFormat;
import io.xensnap.internal.qemuimg.ImageFile;

/** The bridge from the API's formats to qemu-img's image handles. */
public final class Images {

    private Images() {
    }

    public static ImageFile of(Path path, DiskFormat format) {
        return new ImageFile(path, format.id());
    }
}
