package io.xensnap.harness;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A program the tests need, and the Debian package that brings it. A missing one fails loudly with the package name:
 * tests never skip themselves.
 */
public enum Prerequisite {
    QEMU_SYSTEM("qemu-system-x86_64", "qemu-system-x86"),
    QEMU_IMG("qemu-img", "qemu-utils"),
    QEMU_IO("qemu-io", "qemu-utils"),
    XENSTORED("/usr/lib/xen-4.17/bin/xenstored", "xen-utils-4.17"),
    OXENSTORED("/usr/lib/xen-4.17/bin/oxenstored", "xen-utils-4.17"),
    XL("/usr/lib/xen-4.17/bin/xl", "xen-utils-4.17"),
    XENSTORE_CLI("xenstore-read", "xenstore-utils"),
    GCC("gcc", "gcc"),
    /** Lists the Xen calls a xenstored binary imports (ABI drift check); gcc depends on binutils anyway. */
    NM("nm", "binutils"),
    SETPRIV("setpriv", "util-linux"),
    FLOCK("flock", "util-linux"),
    /** A private mount namespace for file systems a test fills up. */
    UNSHARE("unshare", "util-linux"),
    /** An immutable directory: root ignores permission bits, so a read-only directory needs chattr +i. */
    CHATTR("chattr", "e2fsprogs"),
    /** libxenlight's headers and link library, for the libxl oracle (LibxlOracle) the tests compare configs with. */
    LIBXL_DEV("/usr/include/libxl.h", "libxen-dev"),
    /** Fetches the agent guest's Debian packages (kernel, qemu-guest-agent, busybox-static) without installing them. */
    APT_GET("apt-get", "apt"),
    APT_CACHE("apt-cache", "apt"),
    DPKG_DEB("dpkg-deb", "dpkg"),
    /** Lists the libraries the agent guest's qemu-ga needs (this machine's, the same Debian release). */
    LDD("ldd", "libc-bin"),
    /** Reads a file from an ext2/3/4 image without mounting it: what a snapshot of the agent guest's disk holds. */
    DEBUGFS("debugfs", "e2fsprogs");

    private final String program;
    private final String debianPackage;

    Prerequisite(String program, String debianPackage) {
        this.program = program;
        this.debianPackage = debianPackage;
    }

    /** @return the Debian package that provides the program */
    public String debianPackage() {
        return debianPackage;
    }

    /**
     * @return the absolute path of the program
     * @throws IllegalStateException naming the package to install when the program is missing
     */
    public Path require() {
        Path found = find();
        if (found == null) {
            throw new IllegalStateException(program + " is missing: install the Debian package " + debianPackage
                    + " (scripts/prereqs installs everything the tests need)");
        }
        return found;
    }

    private Path find() {
        if (program.startsWith("/")) {
            Path p = Path.of(program);
            // a header is a file to read, not a program to run
            boolean present = program.endsWith(".h") ? Files.isRegularFile(p) : Files.isExecutable(p);
            return present ? p : null;
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
