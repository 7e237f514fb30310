package io.xensnap.internal.qemuimg;

import java.util.Objects;

/** An internal snapshot as {@code qemu-img info --output=json} lists it. */
public record ImageSnapshot(String id, String name, long vmStateSize, long dateSeconds, long vmClockNanos) {

    public ImageSnapshot {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
    }
}
