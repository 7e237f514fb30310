package io.xensnap.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A real {@code qemu-system-x86_64} as a QMP-driven disk backend (docs/qemu.md#test-backends), in one of two shapes:
 *
 * <ul>
 *   <li>{@link Profile#PLAIN}: {@code -machine none}, one {@code -drive if=none,id=drive<N>,node-name=disk<N>} per
 *       disk, so every disk has a named BlockBackend {@code drive<N>}.</li>
 *   <li>{@link Profile#XEN_QDISK}: what a Xen qdisk looks like. A paused {@code pc} machine (never {@code cont}: SeaBIOS
 *       would burn a core under TCG), per disk a {@code -blockdev} with node-name {@code <vdev>-<driver>} and
 *       {@code locking=off} attached to a {@code virtio-blk-pci} device with id {@code <vdev>} (so the BlockBackend is
 *       anonymous), and QMP on a {@code -chardev}/{@code -mon} pair exactly as libxl passes it.</li>
 * </ul>
 *
 * Ready means a real QMP round trip (greeting, {@code qmp_capabilities}, {@code query-block}) succeeded.
 */
public final class RealQemu implements AutoCloseable {

    public enum Profile { PLAIN, XEN_QDISK }

    public enum Format {
        QCOW2, RAW;

        /** @return the QEMU driver name, e.g. {@code qcow2} */
        public String driver() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One disk of the backend.
     *
     * @param id       PLAIN: the BlockBackend name {@code drive<N>}; XEN_QDISK: the vdev / device id {@code xvda}, …
     * @param nodeName the format node's name at start: {@code disk<N>} or {@code <vdev>-<driver>}
     * @param image    the image file
     * @param format   the image format
     * @param pattern  the byte written to the first MiB before start, if any
     */
    public record Disk(String id, String nodeName, Path image, Format format, OptionalInt pattern) {
        public Disk {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(nodeName, "nodeName");
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(pattern, "pattern");
        }
    }

    /** How many bytes of each disk {@link Builder#withData(int)} writes. */
    public static final int PATTERN_BYTES = 1024 * 1024;

    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);

    private final Profile profile;
    private final ManagedProcess process;
    private final Path qmpSocket;
    private final List<Disk> disks;
    private final TempRoot ownedDir;
    private final GuestFiles guest;
    private boolean closed;

    /** Where a booted agent guest's console, agent socket and control socket are; null for a paused machine. */
    record GuestFiles(Path console, Path agentSocket, Path controlSocket) {
    }

    private RealQemu(Profile profile, ManagedProcess process, Path qmpSocket, List<Disk> disks, TempRoot ownedDir,
                     GuestFiles guest) {
        this.profile = profile;
        this.process = process;
        this.qmpSocket = qmpSocket;
        this.disks = disks;
        this.ownedDir = ownedDir;
        this.guest = guest;
    }

    public static Builder builder(Profile profile) {
        return new Builder(profile);
    }

    /** @return where libxl puts the QMP socket of domain {@code domid} below a dom0 root: {@code <root>/var/run/xen/qmp-libxl-<domid>} */
    public static Path libxlQmpSocket(Path root, int domid) {
        return root.resolve("var/run/xen/qmp-libxl-" + domid);
    }

    /** @return {@code xvda}, {@code xvdb}, …, {@code xvdz}, {@code xvdaa}, … (Linux's vdev naming) */
    public static String vdev(int index) {
        StringBuilder suffix = new StringBuilder();
        int i = index;
        do {
            suffix.insert(0, (char) ('a' + i % 26));
            i = i / 26 - 1;
        } while (i >= 0);
        return "xvd" + suffix;
    }

    /**
     * Checks the first {@link #PATTERN_BYTES} of {@code image} (through its backing chain) with qemu-io, read-only and
     * sharing locks, so it also works while a QEMU holds the image.
     *
     * @return {@code true} when every byte equals {@code pattern}
     */
    public static boolean hasPattern(Path image, Format format, int pattern) {
        ShortCommand.Result r = ShortCommand.run(TOOL_TIMEOUT, List.of(Prerequisite.QEMU_IO.require().toString(),
                "-r", "-U", "-f", format.driver(), "-c", "read -P " + hex(pattern) + " 0 " + PATTERN_BYTES,
                image.toString()));
        if (r.output().contains("Pattern verification failed")) {
            return false;
        }
        r.orThrow();
        return true;
    }

    public Profile profile() {
        return profile;
    }

    public Path qmpSocket() {
        return qmpSocket;
    }

    public List<Disk> disks() {
        return disks;
    }

    /** @return the agent guest's files when this QEMU boots one ({@link Builder#agentGuest}), else null */
    GuestFiles guestFiles() {
        return guest;
    }

    public Disk disk(int index) {
        return disks.get(index);
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** @return what QEMU printed so far */
    public String log() {
        return process.logText();
    }

    /** SIGKILL, for fault tests. The temp directory stays until {@link #close()}. */
    public void kill() {
        process.kill();
    }

    /** {@code quit} over QMP, wait for the exit, then make sure the process is gone; removes an owned directory. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            RawQmp.quit(process, qmpSocket, Duration.ofSeconds(2));
        } finally {
            if (ownedDir != null) {
                ownedDir.close();
            }
        }
    }

    @Override
    public String toString() {
        return "qemu[" + profile + ", pid " + pid() + ", " + qmpSocket + "]";
    }

    private static String hex(int pattern) {
        return String.format("0x%02x", pattern & 0xff);
    }

    /** Configures and starts a {@link RealQemu}. */
    public static final class Builder {
        private final Profile profile;
        private List<Format> formats = List.of(Format.QCOW2);
        private long virtualSize = 64L * 1024 * 1024;
        private List<Path> images = List.of();
        private Integer basePattern;
        private Path directory;
        private Path qmpSocket;
        private Duration readyTimeout = Duration.ofSeconds(10);
        private AgentGuestImage guestImage;
        private Path agentSocket;

        private Builder(Profile profile) {
            this.profile = Objects.requireNonNull(profile, "profile");
        }

        /** {@code count} disks, all of the format set by {@link #format} (qcow2 by default). */
        public Builder disks(int count) {
            if (count < 1) {
                throw new IllegalArgumentException("at least one disk: " + count);
            }
            formats = Collections.nCopies(count, formats.get(0));
            return this;
        }

        /** The same format for all disks. */
        public Builder format(Format format) {
            formats = Collections.nCopies(formats.size(), Objects.requireNonNull(format));
            return this;
        }

        /** One disk per format given, in order. */
        public Builder formats(Format... perDisk) {
            if (perDisk.length < 1) {
                throw new IllegalArgumentException("at least one disk");
            }
            formats = List.of(perDisk);
            return this;
        }

        /** Virtual size of images the builder creates (64 MiB by default). */
        public Builder virtualSize(long bytes) {
            if (bytes < PATTERN_BYTES) {
                throw new IllegalArgumentException("virtual size below 1 MiB: " + bytes);
            }
            virtualSize = bytes;
            return this;
        }

        /** Use these existing images instead of creating new ones; one per disk, formats as configured. */
        public Builder images(Path... existing) {
            images = List.of(existing);
            return this;
        }

        /** Before start, write byte {@code (basePattern + i) & 0xff} over the first MiB of disk {@code i}. */
        public Builder withData(int basePattern) {
            this.basePattern = basePattern;
            return this;
        }

        /** Where created images and the log go; default: a private temp directory removed by {@link #close()}. */
        public Builder directory(Path dir) {
            this.directory = dir;
            return this;
        }

        /** The QMP socket path; default {@code <directory>/qmp.sock}. Parent directories are created. */
        public Builder qmpSocket(Path socket) {
            this.qmpSocket = socket;
            return this;
        }

        /** The QMP socket where libxl puts it for {@code domid} below the dom0 root {@code root}. */
        public Builder libxlQmpSocket(Path root, int domid) {
            return qmpSocket(RealQemu.libxlQmpSocket(root, domid));
        }

        public Builder readyTimeout(Duration timeout) {
            this.readyTimeout = timeout;
            return this;
        }

        /**
         * XEN_QDISK only: instead of a paused machine without a guest, boot the agent guest ({@link AgentGuest}) on
         * these disks (the first one is its data disk), with qemu-ga's virtio-serial port served on {@code socket}
         * as a domain's device model serves a libxl channel.
         */
        public Builder agentGuest(AgentGuestImage image, Path socket) {
            if (profile != Profile.XEN_QDISK) {
                throw new IllegalArgumentException("an agent guest needs the XEN_QDISK profile");
            }
            this.guestImage = Objects.requireNonNull(image, "image");
            this.agentSocket = Objects.requireNonNull(socket, "socket");
            return this;
        }

        public RealQemu start() {
            Path qemu = Prerequisite.QEMU_SYSTEM.require();
            if (!images.isEmpty() && images.size() != formats.size()) {
                if (formats.size() != 1) {
                    throw new IllegalArgumentException(images.size() + " images for " + formats.size() + " disks");
                }
                formats = Collections.nCopies(images.size(), formats.get(0));
            }
            TempRoot owned = directory == null ? TempRoot.create("xq") : null;
            Path dir = owned != null ? owned.path() : directory;
            ManagedProcess process = null;
            try {
                Files.createDirectories(dir);
                Path socket = qmpSocket != null ? qmpSocket : dir.resolve("qmp.sock");
                Files.createDirectories(socket.toAbsolutePath().getParent());
                List<Disk> disks = prepareDisks(dir);
                GuestFiles guest = null;
                if (guestImage != null) {
                    Files.createDirectories(agentSocket.toAbsolutePath().getParent());
                    guest = new GuestFiles(dir.resolve("console.log"), agentSocket, dir.resolve("control.sock"));
                }
                process = ManagedProcess.start("qemu", argv(qemu, socket, disks, guest), Map.of(),
                        dir.resolve("qemu.log"));
                RealQemu started = new RealQemu(profile, process, socket, List.copyOf(disks), owned, guest);
                awaitReady(started);
                return started;
            } catch (IOException | RuntimeException e) {
                if (process != null) {
                    process.kill();
                }
                if (owned != null) {
                    owned.close();
                }
                throw e instanceof RuntimeException re ? re : new IllegalStateException("cannot start QEMU", e);
            }
        }

        private List<Disk> prepareDisks(Path dir) {
            List<Path> paths = new ArrayList<>();
            Map<Format, Path> firstOfFormat = new EnumMap<>(Format.class);
            for (int i = 0; i < formats.size(); i++) {
                Format f = formats.get(i);
                if (!images.isEmpty()) {
                    paths.add(images.get(i).toAbsolutePath());
                    continue;
                }
                Path image = dir.resolve("disk" + i + "." + f.driver());
                Path template = firstOfFormat.putIfAbsent(f, image);
                if (template == null) {
                    ShortCommand.run(TOOL_TIMEOUT, List.of(Prerequisite.QEMU_IMG.require().toString(), "create",
                            "-q", "-f", f.driver(), image.toString(), Long.toString(virtualSize))).orThrow();
                } else {
                    // an empty image of the same format and size: a copy is several times faster than another
                    // qemu-img run, which syncs to disk
                    copy(template, image);
                }
                paths.add(image);
            }
            List<Disk> disks = new ArrayList<>();
            for (int i = 0; i < formats.size(); i++) {
                Format f = formats.get(i);
                Path image = paths.get(i);
                OptionalInt pattern = OptionalInt.empty();
                if (basePattern != null) {
                    int p = (basePattern + i) & 0xff;
                    ShortCommand.run(TOOL_TIMEOUT, List.of(Prerequisite.QEMU_IO.require().toString(), "-f", f.driver(),
                            "-c", "write -P " + hex(p) + " 0 " + PATTERN_BYTES, image.toString())).orThrow();
                    pattern = OptionalInt.of(p);
                }
                disks.add(profile == Profile.PLAIN
                        ? new Disk("drive" + i, "disk" + i, image, f, pattern)
                        : new Disk(vdev(i), vdev(i) + "-" + f.driver(), image, f, pattern));
            }
            return disks;
        }

        private static void copy(Path from, Path to) {
            try {
                Files.copy(from, to);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private List<String> argv(Path qemu, Path socket, List<Disk> disks, GuestFiles guest) {
            List<String> a = new ArrayList<>(List.of(qemu.toString()));
            if (profile == Profile.PLAIN) {
                a.addAll(List.of("-machine", "none", "-nodefaults", "-no-user-config", "-display", "none",
                        "-qmp", "unix:" + optionValue(socket) + ",server=on,wait=off"));
                for (Disk d : disks) {
                    a.addAll(List.of("-drive", "if=none,id=" + d.id() + ",node-name=" + d.nodeName() + ",format="
                            + d.format().driver() + ",file=" + optionValue(d.image())));
                }
            } else {
                if (guest == null) {
                    a.addAll(List.of("-machine", "pc", "-S", "-m", "16"));
                } else {
                    // TCG (no KVM on the test machines); the guest's console goes to a file the tests read
                    a.addAll(List.of("-machine", "pc", "-m", "256", "-no-reboot",
                            "-kernel", guestImage.kernel().toString(), "-initrd", guestImage.initramfs().toString(),
                            "-append", "console=ttyS0 quiet panic=-1",
                            "-serial", "file:" + optionValue(guest.console()),
                            "-device", "virtio-serial-pci",
                            "-chardev", "socket,id=qga,path=" + optionValue(guest.agentSocket()) + ",server=on,wait=off",
                            "-device", "virtserialport,chardev=qga,name=org.qemu.guest_agent.0",
                            "-chardev", "socket,id=control,path=" + optionValue(guest.controlSocket())
                                    + ",server=on,wait=off",
                            "-device", "virtserialport,chardev=control,name=org.xensnap.control.0"));
                }
                a.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none",
                        "-chardev", "socket,id=libxl-cmd,path=" + optionValue(socket) + ",server=on,wait=off",
                        "-mon", "chardev=libxl-cmd,mode=control"));
                for (Disk d : disks) {
                    a.addAll(List.of("-blockdev", "{\"driver\":\"" + d.format().driver() + "\",\"node-name\":\""
                                    + d.nodeName() + "\",\"file\":{\"driver\":\"file\",\"filename\":"
                                    + jsonString(d.image().toString()) + ",\"locking\":\"off\"}}",
                            "-device", "virtio-blk-pci,drive=" + d.nodeName() + ",id=" + d.id()));
                }
            }
            return a;
        }

        private void awaitReady(RealQemu q) {
            long deadline = System.nanoTime() + readyTimeout.toNanos();
            IOException last = null;
            while (System.nanoTime() < deadline) {
                if (!q.process.isAlive()) {
                    throw new IllegalStateException("QEMU exited with " + q.process.exitCode() + " before it was ready;"
                            + " log:\n" + q.log());
                }
                try {
                    long leftMs = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                    String reply = RawQmp.execute(q.qmpSocket, Duration.ofMillis(Math.min(leftMs, 2000)),
                            "{\"execute\":\"query-block\"}");
                    if (reply.startsWith("{\"return\"")) {
                        return;
                    }
                    throw new IllegalStateException("query-block failed: " + reply + "; log:\n" + q.log());
                } catch (IOException e) {
                    last = e;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for QEMU", e);
                }
            }
            IllegalStateException e = new IllegalStateException("QEMU not ready on " + q.qmpSocket + " within "
                    + readyTimeout + "; log:\n" + q.log());
            if (last != null) {
                e.addSuppressed(last);
            }
            throw e;
        }

        /** QEMU's option parser splits on commas; a literal comma is written twice. */
        private static String optionValue(Path p) {
            return p.toString().replace(",", ",,");
        }

        private static String jsonString(String s) {
            StringBuilder b = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            return b.append('"').toString();
        }
    }
}
