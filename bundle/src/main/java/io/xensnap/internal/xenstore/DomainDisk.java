package io.xensnap.internal.xenstore;

import java.util.Objects;

/**
 * One disk of a running domain as xenstore describes it: its frontend, its backend and what the backend serves.
 *
 * @param domid        the guest
 * @param devid        the device number (the key of both directories)
 * @param vdev         the guest's name for it ({@code xvda}), from the backend's {@code dev}
 * @param kind         vbd (phy) or qdisk
 * @param backendDomid the domain running the backend, normally 0
 * @param params       the backend's {@code params}, verbatim
 * @param format       the image format ({@code aio} is raw; phy is always raw)
 * @param target       the image or device path, {@code params} without its format prefix
 * @param writable     the backend's {@code mode} is {@code w}
 * @param cdrom        the backend's {@code device-type} is {@code cdrom}
 */
public record DomainDisk(int domid, int devid, String vdev, BackendKind kind, int backendDomid, String params,
        LibxlFormat format, String target, boolean writable, boolean cdrom) {

    public DomainDisk {
        Objects.requireNonNull(vdev, "vdev");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(target, "target");
    }

    /** @return {@code /local/domain/<domid>/device/vbd/<devid>} */
    public String frontendPath() {
        return frontendPath(domid, devid);
    }

    /** @return {@code /local/domain/<backendDomid>/backend/<kind>/<domid>/<devid>} */
    public String backendPath() {
        return "/local/domain/" + backendDomid + "/backend/" + kind.pathName() + "/" + domid + "/" + devid;
    }

    /** @return libxl's private copy of the backend entries, {@code /libxl/<domid>/device/vbd/<devid>} */
    public String libxlPath() {
        return "/libxl/" + domid + "/device/vbd/" + devid;
    }

    static String frontendPath(int domid, int devid) {
        return "/local/domain/" + domid + "/device/vbd/" + devid;
    }

    /** @return this disk serving another image, as after a swap */
    public DomainDisk withImage(LibxlFormat newFormat, String newTarget) {
        return new DomainDisk(domid, devid, vdev, kind, backendDomid, kind.params(newFormat, newTarget), newFormat,
                newTarget, writable, cdrom);
    }
}
