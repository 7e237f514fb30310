package io.xensnap.api;

import java.util.Locale;

/** The image formats xensnap works with. */
public enum DiskFormat {
    /** qcow2: internal snapshots and backing files. */
    QCOW2,
    /** raw: no internal snapshots; external snapshots put a qcow2 overlay on top. */
    RAW;

    /** @return the name QEMU, qemu-img and libxl use: {@code qcow2} or {@code raw} */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @param id {@code qcow2} or {@code raw}, any case
     * @throws IllegalArgumentException for any other format
     */
    public static DiskFormat of(String id) {
        if (id != null) {
            for (DiskFormat f : values()) {
                if (f.id().equalsIgnoreCase(id.trim())) {
                    return f;
                }
            }
        }
        throw new IllegalArgumentException("unsupported disk format '" + id + "': xensnap supports qcow2 and raw");
    }
}
