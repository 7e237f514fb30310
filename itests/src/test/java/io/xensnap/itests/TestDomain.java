package io.xensnap.itests;

import java.nio.file.Path;

import io.xensnap.harness.RealQemu;
import io.xensnap.harness.XenHost;

/**
 * A guest of the test dom0, the same on the host (which starts it) and in the container (which checks it): a qcow2
 * disk {@code xvda} and a raw disk {@code xvdb}, each filled with its own byte over the first MiB.
 *
 * @param domid the guest's domid, also the seed of its uuid and data patterns
 * @param name  its name in xenstore and libxl's config
 */
record TestDomain(int domid, String name) {

    static final String QCOW2 = "xvda";
    static final String RAW = "xvdb";

    /** @return a uuid that names the domid, e.g. {@code 00000000-0000-4000-8000-000000000011} */
    String uuid() {
        return String.format("00000000-0000-4000-8000-%012d", domid);
    }

    /** @return the images' directory below the dom0 root */
    Path imageDir(Path root) {
        return root.resolve("var/lib/xen/images/d" + domid);
    }

    Path image(Path root, String vdev) {
        return imageDir(root).resolve(QCOW2.equals(vdev) ? "disk0.qcow2" : "disk1.raw");
    }

    /** @return the byte the harness wrote over the first MiB of the disk before start */
    int pattern(String vdev) {
        return (domid * 2 + (QCOW2.equals(vdev) ? 0 : 1)) & 0xff;
    }

    /** @return the disk as XenHost lays it out (for xenstore paths) */
    XenHost.Disk disk(Path root, String vdev) {
        return XenHost.Disk.of(vdev, XenHost.Backend.QDISK,
                QCOW2.equals(vdev) ? XenHost.Format.QCOW2 : XenHost.Format.RAW, image(root, vdev));
    }

    RealQemu.Format format(String vdev) {
        return QCOW2.equals(vdev) ? RealQemu.Format.QCOW2 : RealQemu.Format.RAW;
    }
}
