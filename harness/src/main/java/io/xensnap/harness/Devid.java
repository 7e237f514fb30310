package io.xensnap.harness;

import java.util.regex.Pattern;

/**
 * libxl's device numbers of whole disks ({@code libxl__device_disk_dev_number}; docs/xen-host.md#device-numbers), the
 * key of a disk's frontend, backend and {@code /libxl} directories in xenstore. Computed here independently of the
 * product's own mapping, so that tests which build or read those paths do not take the numbers from the code they
 * test, and do not spell them as bare numbers either.
 */
public final class Devid {

    static final Pattern WHOLE_DISK = Pattern.compile("(xvd|hd|sd)([a-z]+)");

    /** {@code xvda}: (202 &lt;&lt; 8) | (0 &lt;&lt; 4). */
    public static final int XVDA = of("xvda");
    /** {@code xvdb}: (202 &lt;&lt; 8) | (1 &lt;&lt; 4). */
    public static final int XVDB = of("xvdb");
    /** {@code xvdc}: (202 &lt;&lt; 8) | (2 &lt;&lt; 4). */
    public static final int XVDC = of("xvdc");

    private Devid() {
    }

    /**
     * @param vdev a whole disk: {@code xvdX}, {@code hdX} or {@code sdX}, X counting a, b, ..., z, aa, ...
     * @return libxl's device number for it
     */
    public static int of(String vdev) {
        var m = vdev == null ? null : WHOLE_DISK.matcher(vdev);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("not a whole disk like xvda, hda or sda: " + vdev);
        }
        int disk = -1;
        for (char c : m.group(2).toCharArray()) {
            disk = (disk + 1) * 26 + (c - 'a');
        }
        return switch (m.group(1)) {
            case "xvd" -> disk <= 15 ? (202 << 8) | (disk << 4) : (1 << 28) | (disk << 8);
            case "hd" -> ((disk < 2 ? 3 : 22) << 8) | ((disk & 1) << 6);
            default -> (8 << 8) | (disk << 4);
        };
    }
}
