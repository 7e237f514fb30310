package io.xensnap.internal.xenstore;

/** The backend of a disk, as the kind in its backend path ({@code /local/domain/0/backend/<kind>/...}). */
public enum BackendKind {
    /** {@code backend=phy}: the kernel's blkback on a block device; params is the device path, the format raw. */
    VBD("vbd"),
    /** {@code backendtype=qdisk}: QEMU serves the disk; params is {@code <format>:<image>}. */
    QDISK("qdisk");

    private final String pathName;

    BackendKind(String pathName) {
        this.pathName = pathName;
    }

    public String pathName() {
        return pathName;
    }

    /** @return the kind for a path segment, or {@code null} for one this code does not handle (vbd3, ...) */
    static BackendKind ofPathName(String name) {
        for (BackendKind k : values()) {
            if (k.pathName.equals(name)) {
                return k;
            }
        }
        return null;
    }

    /** @return the {@code params} value libxl writes for this backend */
    public String params(LibxlFormat format, String target) {
        if (this == VBD) {
            if (format != LibxlFormat.RAW) {
                throw new IllegalArgumentException("a phy (vbd) backend serves raw devices only, not " + format);
            }
            return target;
        }
        return format.paramsPrefix() + ":" + target;
    }
}
