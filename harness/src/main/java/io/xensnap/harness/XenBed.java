package io.xensnap.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * A real Xen 4.17 host for tests: the hypervisor, a Debian 12 PV dom0 with the real toolstack ({@code xl}, libxl,
 * oxenstored, xenconsoled, the qdisk QEMU), all inside {@code qemu-system-x86_64} with TCG (docs/xenbed.md).
 *
 * <p>Each boot runs on a throw-away qcow2 overlay of the cached image that {@code scripts/xenbed-image} builds, so
 * every test starts from the same dom0. The host QEMU runs under {@code nice -n 19} and, like every peer, under
 * {@code setpriv --pdeathsig KILL} ({@link ManagedProcess}): it dies with the test JVM.
 *
 * <p>Commands reach dom0 through a 9p share and an agent in dom0 ({@code scripts/xenbed/xenbed-agent}): the host drops
 * a request directory with the argv, dom0 runs it and writes stdout, stderr and the exit code back as files. No
 * network, no ports, no ssh handshake under TCG, and a command that leaves a daemon behind (as {@code xl create}
 * does) cannot hold its caller up, because nobody waits for a pipe to close.
 *
 * <p>The serial log holds both consoles: Xen's lines start with {@code (XEN)}, everything else is dom0's. Failures of
 * the bed itself (no dom0, QEMU died, the agent did not answer) carry the tails of both in their message.
 */
public final class XenBed implements AutoCloseable {

    /** Where dom0 sees {@link #share()}. */
    public static final String DOM0_SHARE = "/mnt/host";

    private static final int TAIL_LINES = 40;
    /** What the agent may take beyond a command's own timeout to notice, start and report it. */
    private static final Duration AGENT_SLACK = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(50);
    private static final Pattern ANSI = Pattern.compile("\u001b(\\[[0-9;]*[A-Za-z]|[A-Z])|\r");
    private static final Pattern SPINNER = Pattern.compile("^\\[[ *]+\\] .*Job .* running \\(");

    /**
     * The image a bed boots: the directory {@code scripts/xenbed-image} prints.
     *
     * @param dir holds {@code xen}, {@code vmlinuz}, {@code initrd.img}, {@code dom0.img} and {@code manifest.txt}
     */
    public record Image(Path dir) {
        public Image {
            Objects.requireNonNull(dir, "dir");
            for (String f : List.of("xen", "vmlinuz", "initrd.img", "dom0.img", "manifest.txt")) {
                if (!Files.isRegularFile(dir.resolve(f))) {
                    throw new IllegalArgumentException("not a xenbed image (no " + f + "): " + dir);
                }
            }
            // QEMU's -initrd takes "path args,path args": a comma or space in the path cannot be passed
            if (dir.toString().matches(".*[, ].*")) {
                throw new IllegalArgumentException("a xenbed image path must not contain a comma or space: " + dir);
            }
        }

        /**
         * The image named by the system property {@code xenbed.image}, else the one {@code scripts/xenbed-image}
         * prints, building it first when the recipe changed (several minutes; needs root and Debian's archive).
         */
        public static Image locate() {
            String given = System.getProperty("xenbed.image", "");
            if (!given.isBlank()) {
                return new Image(Path.of(given));
            }
            Path script = findScript();
            // a cold build prints thousands of lines: they go to a file, never to a pipe nobody reads
            Path log = Path.of(System.getProperty("java.io.tmpdir"),
                    "xenbed-image-" + ProcessHandle.current().pid() + ".log");
            Path out = Path.of(log + ".out");
            try {
                Process p = new ProcessBuilder(script.toString())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .redirectOutput(out.toFile()).redirectError(log.toFile()).start();
                if (!p.waitFor(40, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(script + " did not finish within 40 min; its log: " + log);
                }
                if (p.exitValue() != 0) {
                    throw new IllegalStateException(script + " exited with " + p.exitValue() + ":\n"
                            + Files.readString(log, StandardCharsets.UTF_8));
                }
                String[] lines = Files.readString(out, StandardCharsets.UTF_8).strip().split("\n");
                Files.deleteIfExists(log);
                Files.deleteIfExists(out);
                return new Image(Path.of(lines[lines.length - 1].strip()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while building the xenbed image", e);
            }
        }

        private static Path findScript() {
            for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
                Path s = d.resolve("scripts/xenbed-image");
                if (Files.isExecutable(s)) {
                    return s;
                }
            }
            throw new IllegalStateException("scripts/xenbed-image not found above " + Path.of("").toAbsolutePath()
                    + ": run from the repository or pass -Dxenbed.image=<dir it prints>");
        }
    }

    /**
     * Which xenstored serves dom0 in a boot. Chosen on dom0's kernel command line ({@code xenbed.xenstored=...}),
     * which the image's {@code /etc/default/xen} reads before Debian's init script starts xenstored: the daemon
     * cannot be replaced under a running dom0, so a test that wants the other one boots a bed of its own.
     */
    public enum Xenstored {
        /** Debian's default, the OCaml one ({@code /usr/sbin/oxenstored}). */
        OXENSTORED("oxenstored"),
        /** The C one ({@code /usr/sbin/xenstored}). */
        CXENSTORED("cxenstored");

        private final String word;

        Xenstored(String word) {
            this.word = word;
        }

        /** @return the word on dom0's kernel command line that selects it */
        public String kernelArgument() {
            return "xenbed.xenstored=" + word;
        }

        /** @return the program dom0's init script starts for it */
        public String program() {
            return this == CXENSTORED ? "/usr/sbin/xenstored" : "/usr/sbin/oxenstored";
        }
    }

    /** What a command in dom0 did. */
    public record Result(List<String> argv, int exitCode, String stdout, String stderr) {
        public Result {
            argv = List.copyOf(argv);
            Objects.requireNonNull(stdout, "stdout");
            Objects.requireNonNull(stderr, "stderr");
        }

        /** @return this result; throws naming the command and its output when it exited non-zero */
        public Result orThrow() {
            if (exitCode != 0) {
                throw new IllegalStateException("dom0: " + String.join(" ", argv) + " exited with " + exitCode
                        + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr);
            }
            return this;
        }
    }

    private final ManagedProcess qemu;
    private final TempRoot dir;
    private final Path share;
    private final Path serialLog;
    private final Path monitor;
    private final Duration bootTime;
    private final String readyInfo;
    private final AtomicInteger requests = new AtomicInteger();
    private boolean closed;

    private XenBed(ManagedProcess qemu, TempRoot dir, Duration bootTime, String readyInfo) {
        this.qemu = qemu;
        this.dir = dir;
        this.share = dir.path().resolve("share");
        this.serialLog = dir.path().resolve("serial.log");
        this.monitor = dir.path().resolve("qmp.sock");
        this.bootTime = bootTime;
        this.readyInfo = readyInfo;
    }

    /**
     * Boots {@code image} with Debian's default xenstored (oxenstored) and waits until dom0's agent reports that
     * {@code xl} answers.
     *
     * @param readyTimeout how long to wait for dom0; about a minute on an idle 2-core machine, twice that when busy
     */
    public static XenBed boot(Image image, Duration readyTimeout) {
        return boot(image, readyTimeout, Xenstored.OXENSTORED);
    }

    /**
     * Boots {@code image} with {@code xenstored} serving dom0 and waits until dom0's agent reports that {@code xl}
     * answers.
     *
     * @param readyTimeout how long to wait for dom0; about a minute on an idle 2-core machine, twice that when busy
     */
    public static XenBed boot(Image image, Duration readyTimeout, Xenstored xenstored) {
        Objects.requireNonNull(xenstored, "xenstored");
        TempRoot dir = TempRoot.create("xenbed-");
        ManagedProcess qemu = null;
        try {
            Path overlay = dir.path().resolve("dom0.qcow2");
            ShortCommand.ok(Prerequisite.QEMU_IMG.require().toString(), "create", "-q", "-f", "qcow2",
                    "-b", image.dir().resolve("dom0.img").toString(), "-F", "raw", overlay.toString());
            Path share = dir.path().resolve("share");
            Files.createDirectories(share.resolve("req"));
            Files.createDirectories(share.resolve("run"));
            long start = System.nanoTime();
            qemu = ManagedProcess.start("xenbed-qemu", argv(image, dir.path(), xenstored), Map.of(),
                    dir.path().resolve("qemu.log"));
            Path ready = share.resolve("ready");
            long deadline = start + readyTimeout.toNanos();
            while (!Files.exists(ready)) {
                if (!qemu.isAlive()) {
                    throw new IllegalStateException("the xenbed QEMU exited with " + qemu.exitCode()
                            + " before dom0 was ready:\n" + qemu.logText() + tails(dir.path().resolve("serial.log")));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("dom0 was not ready within " + readyTimeout
                            + tails(dir.path().resolve("serial.log")));
                }
                sleep(Duration.ofMillis(200));
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            return new XenBed(qemu, dir, took, Files.readString(ready, StandardCharsets.UTF_8));
        } catch (IOException e) {
            stopQuietly(qemu, dir);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            stopQuietly(qemu, dir);
            throw e;
        }
    }

    private static List<String> argv(Image image, Path run, Xenstored xenstored) {
        Path img = image.dir();
        List<String> a = new ArrayList<>(List.of(
                "nice", "-n", "19", Prerequisite.QEMU_SYSTEM.require().toString(),
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-machine", "pc", "-accel", "tcg,thread=multi",
                // svm+npt: Xen then reports hap, which PVH and HVM guests need (Debian's Xen has no shadow paging)
                "-cpu", "qemu64,+svm,+npt", "-m", "2G", "-smp", "2",
                "-kernel", img.resolve("xen").toString(),
                // bootscrub=0: scrubbing all RAM under TCG costs seconds and makes QEMU touch every page
                "-append", "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 bootscrub=0"
                        + " loglvl=all guest_loglvl=all console_timestamps=boot noreboot",
                // loglevel=4, not quiet: quiet would keep dom0's whole boot out of the serial log
                // the xenstored word is read by the image's /etc/default/xen before xen.service starts xenstored
                "-initrd", img.resolve("vmlinuz") + " console=hvc0 root=/dev/vda rw loglevel=4 "
                        + xenstored.kernelArgument() + ","
                        + img.resolve("initrd.img"),
                // cache=unsafe: the overlay is thrown away after the boot, so flushes need not reach the disk
                "-drive", "file=" + run.resolve("dom0.qcow2") + ",if=virtio,format=qcow2,cache=unsafe",
                "-virtfs", "local,path=" + run.resolve("share") + ",mount_tag=host0,security_model=none,id=host0",
                "-chardev", "file,id=ser0,path=" + run.resolve("serial.log"), "-serial", "chardev:ser0",
                "-qmp", "unix:" + run.resolve("qmp.sock") + ",server=on,wait=off"));
        return a;
    }

    /** @return how long QEMU took from its start until dom0's agent was ready */
    public Duration bootTime() {
        return bootTime;
    }

    /** @return what the agent wrote when it became ready: dom0's uptime and a few {@code xl info} lines */
    public String readyInfo() {
        return readyInfo;
    }

    /** @return the host directory dom0 sees as {@link #DOM0_SHARE} */
    public Path share() {
        return share;
    }

    /** @return the serial log: Xen's and dom0's console */
    public Path serialLog() {
        return serialLog;
    }

    public long qemuPid() {
        return qemu.pid();
    }

    public boolean isAlive() {
        return qemu.isAlive();
    }

    /** Runs {@code argv} as root in dom0 (no shell), at most {@code timeout}. */
    public Result run(Duration timeout, String... argv) {
        return run(timeout, List.of(argv), null);
    }

    /**
     * Runs {@code argv} as root in dom0's {@code /root}, with {@code stdin} (or /dev/null), killed after
     * {@code timeout} (exit code 124, as {@code timeout(1)} reports it).
     *
     * @throws IllegalStateException with the console tails when dom0 did not report back in time
     */
    public Result run(Duration timeout, List<String> argv, byte[] stdin) {
        if (argv.isEmpty() || argv.stream().anyMatch(s -> s.indexOf('\0') >= 0)) {
            throw new IllegalArgumentException("argv must be non-empty and free of NUL: " + argv);
        }
        long seconds = Math.max(1, (timeout.toMillis() + 999) / 1000);
        String id = ProcessHandle.current().pid() + "-" + requests.incrementAndGet();
        Path staged = share.resolve("req/." + id);
        Path done = share.resolve("run/" + id);
        try {
            Files.createDirectories(staged);
            Files.write(staged.resolve("argv"), (String.join("\0", argv) + "\0").getBytes(StandardCharsets.UTF_8));
            Files.writeString(staged.resolve("timeout"), Long.toString(seconds));
            if (stdin != null) {
                Files.write(staged.resolve("stdin"), stdin);
            }
            // one rename: the agent never sees half a request
            Files.move(staged, share.resolve("req/" + id), StandardCopyOption.ATOMIC_MOVE);
            long deadline = System.nanoTime() + timeout.plus(AGENT_SLACK).toNanos();
            Path rc = done.resolve("rc");
            while (!Files.exists(rc)) {
                if (!qemu.isAlive()) {
                    throw new IllegalStateException("the xenbed QEMU exited with " + qemu.exitCode()
                            + " while dom0 ran " + argv + diagnostics());
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("dom0 did not report on " + argv + " within " + timeout + " + "
                            + AGENT_SLACK + diagnostics());
                }
                sleep(POLL);
            }
            Result r = new Result(argv, Integer.parseInt(Files.readString(rc).strip()),
                    Files.readString(done.resolve("stdout"), StandardCharsets.UTF_8),
                    Files.readString(done.resolve("stderr"), StandardCharsets.UTF_8));
            TempRoot.deleteTree(done);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies {@code source} from the host to {@code dom0Path} (parents created) with {@code mode}, e.g. "0644". */
    public void put(Path source, String dom0Path, String mode) {
        String name = "put-" + ProcessHandle.current().pid() + "-" + requests.incrementAndGet();
        Path staged = share.resolve(name);
        try {
            Files.copy(source, staged);
            run(Duration.ofSeconds(60), "install", "-D", "-m", mode, DOM0_SHARE + "/" + name, dom0Path).orThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            TempRoot.deleteTree(staged);
        }
    }

    /** Writes {@code content} to {@code dom0Path} (parents created) with mode {@code mode}. */
    public void put(byte[] content, String dom0Path, String mode) {
        Path staged = dir.path().resolve("put-" + requests.incrementAndGet());
        try {
            Files.write(staged, content);
            put(staged, dom0Path, mode);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            TempRoot.deleteTree(staged);
        }
    }

    /** @return the last lines of Xen's console and of dom0's console, for a failure message */
    public String diagnostics() {
        return tails(serialLog);
    }

    /** Ends the host QEMU ({@code quit} on its monitor, then the process), and removes the overlay and the share. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            // the overlay is thrown away, so there is nothing for a clean dom0 shutdown to save
            RawQmp.quit(qemu, monitor, Duration.ofSeconds(5));
        } finally {
            dir.close();
        }
    }

    @Override
    public String toString() {
        return "xenbed[qemu pid " + qemu.pid() + ", " + dir.path() + "]";
    }

    private static void stopQuietly(ManagedProcess qemu, TempRoot dir) {
        try {
            if (qemu != null) {
                qemu.kill();
            }
        } finally {
            dir.close();
        }
    }

    static String tails(Path serialLog) {
        List<String> lines;
        try {
            lines = Files.exists(serialLog)
                    ? List.of(new String(Files.readAllBytes(serialLog), StandardCharsets.UTF_8).split("\r?\n"))
                    : List.of();
        } catch (IOException e) {
            return "\n(serial log unreadable: " + e + ")";
        }
        List<String> xen = new ArrayList<>();
        List<String> dom0 = new ArrayList<>();
        for (String raw : lines) {
            // systemd colours its status and redraws a spinner while a unit is slow: keep the words only
            String l = ANSI.matcher(raw).replaceAll("");
            if (SPINNER.matcher(l).find()) {
                continue;
            }
            (l.startsWith("(XEN)") ? xen : dom0).add(l);
        }
        return "\n--- Xen console, last " + TAIL_LINES + " lines (" + serialLog + ")\n" + tail(xen)
                + "\n--- dom0 console, last " + TAIL_LINES + " lines\n" + tail(dom0);
    }

    private static String tail(List<String> lines) {
        return String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
