package io.xensnap.internal.xenstore;

/**
 * Disk names and device numbers as libxl 4.17 maps them ({@code libxl__device_disk_dev_number},
 * docs/xen-host.md#device-numbers): the devid is the key of a disk's frontend and backend directories.
 *
 * <ul>
 *   <li>{@code xvdX[N]} and {@code dXpN}: {@code (202<<8)|(disk<<4)|part} while disk and part are at most 15, else
 *       the extended form {@code (1<<28)|(disk<<8)|part}; X counts a, b, ..., z, aa, ab, ...</li>
 *   <li>{@code hdX[N]}: {@code ((disk<2 ? 3 : 22)<<8)|((disk&1)<<6)|part}, disks a..d, partitions up to 63</li>
 *   <li>{@code sdX[N]}: {@code (8<<8)|(disk<<4)|part}, disks a..p, partitions up to 15</li>
 *   <li>a plain number (decimal, 0x hex or 0 octal, as strtoul base 0) is the devid itself</li>
 * </ul>
 */
public final class VirtualDevice {

    private static final int XVD_MAJOR = 202;
    private static final int EXTENDED = 1 << 28;

    private VirtualDevice() {
    }

    /**
     * @return the devid of {@code vdev}
     * @throws IllegalArgumentException for a name libxl would refuse
     */
    public static int devid(String vdev) {
        int[] dp = parseDp(vdev);
        if (dp == null) {
            dp = parseLetters(vdev, "xvd", (1 << 20) - 1, 255);
        }
        if (dp != null) {
            int disk = dp[0];
            int part = dp[1];
            return disk <= 15 && part <= 15 ? (XVD_MAJOR << 8) | (disk << 4) | part : EXTENDED | (disk << 8) | part;
        }
        Long number = parseNumber(vdev);
        if (number != null) {
            return number.intValue();
        }
        dp = parseLetters(vdev, "hd", 3, 63);
        if (dp != null) {
            return ((dp[0] < 2 ? 3 : 22) << 8) | ((dp[0] & 1) << 6) | dp[1];
        }
        dp = parseLetters(vdev, "sd", 15, 15);
        if (dp != null) {
            return (8 << 8) | (dp[0] << 4) | dp[1];
        }
        throw new IllegalArgumentException("not a virtual disk name libxl accepts: '" + vdev + "'");
    }

    /**
     * @return the name for {@code devid}: {@code xvd…} for the xvd and extended ranges, {@code hd…} and {@code sd…} for
     *         theirs (where libxl's own reverse, {@code libxl__devid_to_vdev}, says xvd for everything)
     * @throws IllegalArgumentException for a number outside every range
     */
    public static String vdev(int devid) {
        if (devid < 0) {
            throw new IllegalArgumentException("negative devid " + devid);
        }
        if ((devid & EXTENDED) != 0) {
            return name("xvd", (devid >> 8) & 0xfffff, devid & 0xff);
        }
        int major = devid >> 8;
        return switch (major) {
            case XVD_MAJOR -> name("xvd", (devid >> 4) & 0xf, devid & 0xf);
            case 3 -> name("hd", (devid >> 6) & 1, devid & 0x3f);
            case 22 -> name("hd", 2 + ((devid >> 6) & 1), devid & 0x3f);
            case 8 -> name("sd", (devid >> 4) & 0xf, devid & 0xf);
            default -> throw new IllegalArgumentException("devid " + devid + " is in no disk range libxl uses");
        };
    }

    private static String name(String prefix, int disk, int part) {
        StringBuilder letters = new StringBuilder();
        // Bijective base 26: a..z, then aa..zz, ...
        for (int n = disk; n >= 0; n = n / 26 - 1) {
            letters.append((char) ('a' + n % 26));
        }
        return prefix + letters.reverse() + (part == 0 ? "" : Integer.toString(part));
    }

    // "d<disk>p<part>", disk < 2^20, part < 256
    private static int[] parseDp(String v) {
        if (!v.startsWith("d")) {
            return null;
        }
        int p = v.indexOf('p');
        if (p < 2 || p == v.length() - 1) {
            return null;
        }
        Long disk = decimal(v.substring(1, p));
        Long part = decimal(v.substring(p + 1));
        if (disk == null || part == null || disk >= (1 << 20) || part >= 256) {
            return null;
        }
        return new int[] {disk.intValue(), part.intValue()};
    }

    // device_virtdisk_matches: prefix, letters as bijective base 26, optional partition without leading zero
    private static int[] parseLetters(String v, String prefix, int maxDisk, int maxPart) {
        if (!v.startsWith(prefix)) {
            return null;
        }
        int i = prefix.length();
        long disk = -1;
        while (i < v.length() && v.charAt(i) >= 'a' && v.charAt(i) <= 'z') {
            disk = (disk + 1) * 26 + (v.charAt(i) - 'a');
            if (disk > maxDisk) {
                return null;
            }
            i++;
        }
        if (i == v.length()) {
            // libxl accepts the bare prefix too, as disk -1; no real configuration uses it.
            return disk < 0 ? null : new int[] {(int) disk, 0};
        }
        if (disk < 0 || v.charAt(i) == '0') {
            return null;
        }
        Long part = decimal(v.substring(i));
        if (part == null || part > maxPart) {
            return null;
        }
        return new int[] {(int) disk, part.intValue()};
    }

    private static Long decimal(String s) {
        if (s.isEmpty() || s.length() > 10) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i)) || s.charAt(i) > '9') {
                return null;
            }
        }
        return Long.parseLong(s);
    }

    // strtoul(s, &end, 0) consuming the whole string, at most INT_MAX
    private static Long parseNumber(String s) {
        try {
            long value;
            if (s.startsWith("0x") || s.startsWith("0X")) {
                value = Long.parseLong(s.substring(2), 16);
            } else if (s.length() > 1 && s.startsWith("0")) {
                value = Long.parseLong(s.substring(1), 8);
            } else {
                Long d = decimal(s);
                if (d == null) {
                    return null;
                }
                value = d;
            }
            return value >= 0 && value <= Integer.MAX_VALUE ? value : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
