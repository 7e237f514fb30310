package io.xensnap.internal.xenstore;

/**
 * A disk image format as libxl names it, and as it prefixes a qdisk backend's {@code params}
 * ({@code libxl__device_disk_string_of_format}: raw is written {@code aio}).
 */
public enum LibxlFormat {
    RAW("raw", "aio"),
    QCOW("qcow", "qcow"),
    QCOW2("qcow2", "qcow2"),
    VHD("vhd", "vhd"),
    QED("qed", "qed");

    private final String libxlName;
    private final String paramsPrefix;

    LibxlFormat(String libxlName, String paramsPrefix) {
        this.libxlName = libxlName;
        this.paramsPrefix = paramsPrefix;
    }

    /** @return the name in libxl's JSON and xl configs ({@code format=qcow2}) */
    public String libxlName() {
        return libxlName;
    }

    /** @return what libxl writes before the colon of a qdisk {@code params} */
    public String paramsPrefix() {
        return paramsPrefix;
    }

    /** @return the format of a {@code params} prefix; QEMU reads both {@code aio} (libxl's) and {@code raw} as raw */
    public static LibxlFormat ofParamsPrefix(String prefix) {
        if (prefix.equals("raw")) {
            return RAW;
        }
        for (LibxlFormat f : values()) {
            if (f.paramsPrefix.equals(prefix)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown disk format prefix '" + prefix + "'");
    }

    /** @return the format libxl calls {@code name} */
    public static LibxlFormat ofLibxlName(String name) {
        for (LibxlFormat f : values()) {
            if (f.libxlName.equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown libxl disk format '" + name + "'");
    }
}
