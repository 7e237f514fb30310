package io.xensnap.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The boot files of the agent guest ({@link AgentGuest}): Debian's cloud kernel and an initramfs holding busybox, the
 * real {@code qemu-ga} from Debian's {@code qemu-guest-agent} with the libraries it links, the kernel's virtio modules
 * and the init script {@code agent-guest-init}. The packages are fetched with {@code apt-get download} (nothing is
 * installed on this machine: an agent here could freeze this machine's own file systems) and everything is cached
 * below {@code ~/.cache/xensnap/agent-guest/}, keyed by the packages' versions and the init script.
 */
public final class AgentGuestImage {

    /** The kernel's meta package; the image package it depends on is resolved through apt-cache. */
    static final String KERNEL_META = "linux-image-cloud-amd64";
    static final List<String> MODULES = List.of("virtio_ring", "virtio", "virtio_pci_legacy_dev",
            "virtio_pci_modern_dev", "virtio_pci", "virtio_blk", "virtio_console");
    private static final Duration APT_TIMEOUT = Duration.ofMinutes(5);
    private static final Pattern LDD_PATH = Pattern.compile("(/\\S+)\\s+\\(0x");

    private final Path kernel;
    private final Path initramfs;
    private final Path debs;
    private final String agentVersion;

    private AgentGuestImage(Path kernel, Path initramfs, Path debs, String agentVersion) {
        this.kernel = kernel;
        this.initramfs = initramfs;
        this.debs = debs;
        this.agentVersion = agentVersion;
    }

    public Path kernel() {
        return kernel;
    }

    public Path initramfs() {
        return initramfs;
    }

    /**
     * Debian's {@code qemu-guest-agent} package this image's agent comes from, downloaded again when the cache lost
     * it: for guests whose initramfs is made elsewhere (the Xen host's PV guest takes {@code qemu-ga} from it and the
     * libraries from its own dom0).
     */
    public Path agentPackage() {
        try {
            return download(Files.createDirectories(debs), "qemu-guest-agent", agentVersion);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch qemu-guest-agent " + agentVersion + " into " + debs, e);
        }
    }

    /** The image under {@code ~/.cache/xensnap/agent-guest}, built first when the cache lacks it. */
    public static AgentGuestImage cached() {
        return in(Path.of(System.getProperty("user.home"), ".cache", "xensnap", "agent-guest"));
    }

    /** The image under {@code cache}, built first when the cache lacks it. */
    public static AgentGuestImage in(Path cache) {
        try {
            Files.createDirectories(cache);
            byte[] init = initScript();
            String kernelPackage = kernelPackage();
            Map<String, String> versions = new TreeMap<>();
            for (String p : List.of(kernelPackage, "qemu-guest-agent", "busybox-static")) {
                versions.put(p, candidateVersion(p));
            }
            Path dir = cache.resolve(key(versions, init));
            Path kernel = dir.resolve("vmlinuz");
            Path initramfs = dir.resolve("initramfs.cpio");
            if (!Files.isRegularFile(initramfs)) {
                // test JVMs run side by side: one builds, the others wait and find its result (their own
                // apt-get downloads of the same .deb into one directory could interleave)
                try (FileChannel lock = FileChannel.open(cache.resolve(".lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE)) {
                    // released when the channel closes
                    lock.lock();
                    if (!Files.isRegularFile(initramfs)) {
                        build(cache, dir, versions, init);
                    }
                }
            }
            return new AgentGuestImage(kernel, initramfs, cache.resolve("debs"),
                    versions.get("qemu-guest-agent"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the agent guest's boot files in " + cache, e);
        }
    }

    private static String kernelPackage() {
        String out = ShortCommand.run(APT_TIMEOUT, List.of(Prerequisite.APT_CACHE.require().toString(), "depends",
                "--important", KERNEL_META)).orThrow().output();
        Matcher m = Pattern.compile("Depends:\\s*(linux-image-\\S+)").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("apt-cache knows no kernel behind " + KERNEL_META
                    + " (run apt-get update): " + out);
        }
        return m.group(1);
    }

    private static String candidateVersion(String pkg) {
        String out = ShortCommand.run(APT_TIMEOUT, List.of(Prerequisite.APT_CACHE.require().toString(), "policy",
                pkg)).orThrow().output();
        Matcher m = Pattern.compile("Candidate:\\s*(\\S+)").matcher(out);
        if (!m.find() || m.group(1).equals("(none)")) {
            throw new IllegalStateException("apt-cache has no candidate for " + pkg + " (run apt-get update): " + out);
        }
        return m.group(1);
    }

    private static String key(Map<String, String> versions, byte[] init) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((versions + "|" + MODULES).getBytes(StandardCharsets.UTF_8));
            sha.update(init);
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] initScript() throws IOException {
        try (InputStream in = AgentGuestImage.class.getResourceAsStream("agent-guest-init")) {
            if (in == null) {
                throw new IllegalStateException("resource agent-guest-init missing from the harness");
            }
            return in.readAllBytes();
        }
    }

    private static void build(Path cache, Path dir, Map<String, String> versions, byte[] init) throws IOException {
        Path work = Files.createTempDirectory(cache, "build-");
        try {
            Path debs = Files.createDirectories(cache.resolve("debs"));
            Path tree = Files.createDirectories(work.resolve("tree"));
            for (Map.Entry<String, String> p : versions.entrySet()) {
                Path deb = download(debs, p.getKey(), p.getValue());
                ShortCommand.run(APT_TIMEOUT, List.of(Prerequisite.DPKG_DEB.require().toString(), "-x",
                        deb.toString(), tree.toString())).orThrow();
            }
            Cpio cpio = new Cpio();
            for (String d : List.of("bin", "dev", "proc", "sys", "lib", "lib/modules", "mnt", "mnt/data", "var",
                    "var/run", "tmp")) {
                cpio.directory(d);
            }
            cpio.charDevice("dev/console", 5, 1);
            cpio.file("init", init, true);
            cpio.file("bin/busybox", Files.readAllBytes(tree.resolve("bin/busybox")), true);
            Path qga = tree.resolve("usr/sbin/qemu-ga");
            cpio.file("bin/qemu-ga", Files.readAllBytes(qga), true);
            for (String lib : libraries(qga)) {
                cpio.parents(lib.substring(1));
                cpio.file(lib.substring(1), Files.readAllBytes(Path.of(lib).toRealPath()), true);
            }
            List<String> order = new ArrayList<>();
            for (Map.Entry<String, Path> m : modules(tree).entrySet()) {
                cpio.file("lib/modules/" + m.getKey() + ".ko", Files.readAllBytes(m.getValue()), false);
                order.add(m.getKey());
            }
            cpio.file("lib/modules/order", (String.join("\n", order) + "\n").getBytes(StandardCharsets.UTF_8), false);
            Path built = Files.createDirectories(work.resolve("out"));
            try (OutputStream out = Files.newOutputStream(built.resolve("initramfs.cpio"))) {
                cpio.finish(out);
            }
            try (Stream<Path> boot = Files.list(tree.resolve("boot"))) {
                Path vmlinuz = boot.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst()
                        .orElseThrow(() -> new IllegalStateException("no vmlinuz in the kernel package"));
                Files.copy(vmlinuz, built.resolve("vmlinuz"));
            }
            try {
                Files.move(built, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException | java.nio.file.FileAlreadyExistsException
                     | java.nio.file.DirectoryNotEmptyException e) {
                // another run built the same key meanwhile: its result is as good as ours
                if (!Files.isRegularFile(dir.resolve("initramfs.cpio"))) {
                    throw e;
                }
            }
        } finally {
            TempRoot.deleteTree(work);
        }
    }

    private static Path download(Path debs, String pkg, String version) throws IOException {
        // apt-get names the file <pkg>_<version with ':' as %3a>_<arch>.deb
        String prefix = pkg + "_" + version.replace(":", "%3a") + "_";
        Path found = findDeb(debs, prefix);
        if (found != null) {
            return found;
        }
        ShortCommand.Result r = new ShortCommandIn(debs).run(List.of(Prerequisite.APT_GET.require().toString(),
                "download", "-q", pkg + "=" + version));
        r.orThrow();
        found = findDeb(debs, prefix);
        if (found == null) {
            throw new IllegalStateException("apt-get download " + pkg + "=" + version + " left no " + prefix
                    + "*.deb in " + debs + ": " + r.output());
        }
        return found;
    }

    private static Path findDeb(Path debs, String prefix) throws IOException {
        try (Stream<Path> s = Files.list(debs)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix)
                    && p.getFileName().toString().endsWith(".deb")).findFirst().orElse(null);
        }
    }

    /** The libraries {@code ldd} resolves for {@code binary} on this machine, by the path the loader looks for. */
    private static Set<String> libraries(Path binary) {
        String out = ShortCommand.run(APT_TIMEOUT, List.of(Prerequisite.LDD.require().toString(), binary.toString()))
                .orThrow().output();
        if (out.contains("not found")) {
            throw new IllegalStateException("qemu-ga needs libraries this machine lacks (install them with apt-get;"
                    + " qemu-system-x86 brings the same ones): " + out);
        }
        Set<String> libs = new LinkedHashSet<>();
        Matcher m = LDD_PATH.matcher(out);
        while (m.find()) {
            libs.add(m.group(1));
        }
        return libs;
    }

    /** {@link #MODULES} in an order where each comes after those its {@code depends=} names. */
    private static Map<String, Path> modules(Path tree) throws IOException {
        Map<String, Path> byName = new TreeMap<>();
        try (Stream<Path> s = Files.walk(tree.resolve("lib/modules"))) {
            s.filter(p -> p.toString().endsWith(".ko")).forEach(p -> {
                String n = p.getFileName().toString();
                byName.putIfAbsent(n.substring(0, n.length() - 3).replace('-', '_'), p);
            });
        }
        Map<String, Path> ordered = new LinkedHashMap<>();
        for (String m : MODULES) {
            addWithDependencies(m, byName, ordered, new LinkedHashSet<>());
        }
        return ordered;
    }

    private static void addWithDependencies(String name, Map<String, Path> byName, Map<String, Path> ordered,
                                            Set<String> visiting) throws IOException {
        if (ordered.containsKey(name)) {
            return;
        }
        Path ko = byName.get(name);
        if (ko == null) {
            throw new IllegalStateException("the kernel package has no module " + name
                    + " (is it built in? then drop it from AgentGuestImage.MODULES)");
        }
        if (!visiting.add(name)) {
            throw new IllegalStateException("module dependency cycle at " + name);
        }
        String text = new String(Files.readAllBytes(ko), StandardCharsets.ISO_8859_1);
        Matcher m = Pattern.compile("depends=([a-z0-9_,-]*)").matcher(text);
        if (m.find() && !m.group(1).isEmpty()) {
            for (String dep : m.group(1).split(",")) {
                addWithDependencies(dep.replace('-', '_'), byName, ordered, visiting);
            }
        }
        ordered.put(name, ko);
    }

    /** Runs a command with a working directory (apt-get download writes into the current directory). */
    private record ShortCommandIn(Path dir) {
        ShortCommand.Result run(List<String> argv) {
            ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            try {
                Process p = pb.start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(APT_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(String.join(" ", argv) + " did not finish within " + APT_TIMEOUT);
                }
                return new ShortCommand.Result(List.copyOf(argv), p.exitValue(),
                        new String(out, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run " + argv, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while running " + argv, e);
            }
        }
    }

    /** An uncompressed cpio archive in the kernel's {@code newc} format. */
    private static final class Cpio {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final Set<String> directories = new LinkedHashSet<>();
        private int inode = 1;

        void directory(String path) {
            if (directories.add(path)) {
                entry(path, 0040755, 0, 0, new byte[0]);
            }
        }

        void parents(String path) {
            int slash = path.indexOf('/');
            while (slash > 0) {
                directory(path.substring(0, slash));
                slash = path.indexOf('/', slash + 1);
            }
        }

        void file(String path, byte[] data, boolean executable) {
            entry(path, executable ? 0100755 : 0100644, 0, 0, data);
        }

        void charDevice(String path, int major, int minor) {
            entry(path, 0020600, major, minor, new byte[0]);
        }

        void finish(OutputStream to) throws IOException {
            entry("TRAILER!!!", 0, 0, 0, new byte[0]);
            out.writeTo(to);
        }

        private void entry(String name, int mode, int rdevMajor, int rdevMinor, byte[] data) {
            byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
            String header = String.format("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
                    name.equals("TRAILER!!!") ? 0 : inode++, mode, 0, 0, (mode & 0170000) == 0040000 ? 2 : 1, 0,
                    data.length, 0, 0, rdevMajor, rdevMinor, n.length, 0);
            out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(n);
            pad();
            out.writeBytes(data);
            pad();
        }

        private void pad() {
            while (out.size() % 4 != 0) {
                out.write(0);
            }
        }
    }
}
