package io.xensnap.internal.libxl;

import java.util.Arrays;
import java.util.Optional;

/** libxl's {@code libxl_disk_format}, by the lowercase name its JSON uses. */
public enum LibxlDiskFormat {
    /** libxl's default: the JSON then has no {@code format} field at all. */
    UNKNOWN("unknown"),
    QCOW("qcow"),
    QCOW2("qcow2"),
    VHD("vhd"),
    RAW("raw"),
    EMPTY("empty"),
    QED("qed");

    private final String jsonName;

    LibxlDiskFormat(String jsonName) {
        this.jsonName = jsonName;
    }

    /** @return the value libxl writes in the {@code format} field */
    public String jsonName() {
        return jsonName;
    }

    /** @return the format whose JSON name is {@code name}, if libxl 4.17 knows it */
    public static Optional<LibxlDiskFormat> fromJsonName(String name) {
        return Arrays.stream(values()).filter(f -> f.jsonName.equals(name)).findFirst();
    }
}
