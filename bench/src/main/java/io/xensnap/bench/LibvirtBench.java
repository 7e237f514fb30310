package io.xensnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.ManagedProcess;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.engine.SnapshotEngine;

/**
 * Item 6: libvirt's external disk-only snapshot ({@code virsh snapshot-create-as DOM NAME --disk-only --atomic
 * --no-metadata}, one virsh process per snapshot as a script would run it) on a paused q35 domain with the same disks
 * (64 MiB qcow2, 1 MiB written), against xensnap's external create of the same disks in the same loop. libvirtd and
 * virtlogd run in the foreground from a private config (docs/qemu.md#libvirt-recipe) and are stopped at the end;
 * libvirt keeps its own state in its standard directories under /var and /run (documented in the report).
 */
final class LibvirtBench {

    record Cell(int disks, Stats libvirt, Stats virshFloor, Stats ours) {
    }

    private final BenchHost host;
    private final Path dir;
    private final Runs runs;
    private final List<Cell> cells = new ArrayList<>();
    private final List<String> defined = new ArrayList<>();
    private String versions = "";
    private ManagedProcess virtlogd;
    private ManagedProcess libvirtd;
    private String uri;

    /** @param dir an empty directory of ours (scripts/bench makes it, and kills what runs from it if we crash) */
    LibvirtBench(BenchHost host, Path dir, Runs runs) {
        this.host = host;
        this.dir = dir;
        this.runs = runs;
    }

    /** @return why libvirt cannot run here, or null when it can */
    static String unavailable() {
        for (String tool : List.of("libvirtd", "virtlogd", "virsh")) {
            if (which(tool) == null) {
                return tool + " is missing (Debian packages libvirt-daemon-system, libvirt-daemon-driver-qemu,"
                        + " libvirt-clients; scripts/bench installs them when it runs as root)";
            }
        }
        return null;
    }

    private static Path which(String tool) {
        for (String d : (System.getenv().getOrDefault("PATH", "/usr/bin") + ":/usr/sbin:/sbin").split(":")) {
            Path p = Path.of(d, tool);
            if (!d.isEmpty() && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** How long the section waits for an idle machine before it measures anyway. */
    private static final java.time.Duration IDLE_WAIT = java.time.Duration.ofMinutes(4);

    /** The load average when this section began: its target holds only on an idle machine. */
    private String loadAtStart = "unknown";

    void run(int... diskCounts) throws Exception {
        try {
            start();
            // the target is judged on an idle machine: the sections before this one (and libvirtd's start) leave
            // the 1-minute load well above 0.5, which takes a minute or two of quiet to decay
            long deadline = System.nanoTime() + IDLE_WAIT.toNanos();
            while (!idle(Machine.loadAverage()) && System.nanoTime() < deadline) {
                Thread.sleep(5000);
            }
            loadAtStart = Machine.loadAverage();
            System.out.println("libvirt: load average at the section's start " + loadAtStart);
            for (int n : diskCounts) {
                measure(n);
            }
        } finally {
            stop();
        }
    }

    private void start() throws IOException {
        // libvirt's QEMU runs as libvirt-qemu and must reach the images below our private directory
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path run = Files.createDirectories(dir.resolve("run"));
        Path conf = dir.resolve("libvirtd.conf");
        Files.writeString(conf, String.join("\n",
                "unix_sock_dir = \"" + run + "\"",
                "unix_sock_rw_perms = \"0700\"",
                "auth_unix_rw = \"none\"",
                "log_outputs = \"2:file:" + dir.resolve("libvirtd.log") + "\"", ""));
        virtlogd = ManagedProcess.start("virtlogd", List.of(which("virtlogd").toString(), "-p",
                dir.resolve("virtlogd.pid").toString()), Map.of(), dir.resolve("virtlogd.out"));
        libvirtd = ManagedProcess.start("libvirtd", List.of(which("libvirtd").toString(), "-f", conf.toString(), "-p",
                dir.resolve("libvirtd.pid").toString()), Map.of(), dir.resolve("libvirtd.out"));
        uri = "qemu:///system?socket=" + run.resolve("libvirt-sock");
        // the first call probes QEMU's capabilities (about 8 s, then cached under /var/cache/libvirt)
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        ShortCommand.Result r;
        do {
            if (!libvirtd.isAlive()) {
                throw new IllegalStateException("libvirtd exited with " + libvirtd.exitCode() + ": "
                        + libvirtd.logText());
            }
            r = ShortCommand.run(Duration.ofSeconds(60), List.of("virsh", "-c", uri, "version"));
            if (r.exitCode() == 0) {
                break;
            }
            sleep(200);
        } while (System.nanoTime() < deadline);
        versions = r.orThrow().output().strip().replaceAll("\\s*\n\\s*", "; ");
    }

    private void measure(int n) throws Exception {
        String name = "xsbench" + n;
        Path img = Files.createDirectories(dir.resolve("img" + n));
        Files.setPosixFilePermissions(img, PosixFilePermissions.fromString("rwxr-xr-x"));
        String qemuImg = Prerequisite.QEMU_IMG.require().toString();
        Path template = img.resolve("template.qcow2");
        ShortCommand.ok(qemuImg, "create", "-q", "-f", "qcow2", template.toString(), "64M");
        ShortCommand.ok(Prerequisite.QEMU_IO.require().toString(), "-f", "qcow2", "-c", "write -P 0x41 0 1M",
                template.toString());
        StringBuilder disks = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Path d = img.resolve("d" + i + ".qcow2");
            Files.copy(template, d);
            disks.append("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='")
                    .append(d).append("'/><target dev='vd").append((char) ('a' + i))
                    .append("' bus='virtio'/></disk>\n");
        }
        Files.delete(template);
        Path xml = dir.resolve(name + ".xml");
        Files.writeString(xml, "<domain type='qemu'><name>" + name + "</name><memory unit='MiB'>64</memory>"
                + "<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
                + "<emulator>" + Prerequisite.QEMU_SYSTEM.require() + "</emulator>\n" + disks
                + "<memballoon model='none'/></devices></domain>\n");
        // transient (create, not define + start): nothing lands in /etc/libvirt, and destroy removes it entirely
        virsh("create", xml.toString(), "--paused");
        defined.add(name);
        Runs r = n >= 16 ? runs.scaled(0.5) : runs;
        List<Long> snap = new ArrayList<>();
        List<Long> floor = new ArrayList<>();
        List<Long> ours = new ArrayList<>();
        // xensnap's side in the same loop, alternating, so that both see the same machine load
        RealQemu oursQemu = host.domain(800 + n, n);
        try {
            SnapshotEngine engine = host.engine(null, 2);
            DomainRef dom = DomainRef.running(800 + n);
            for (int i = 0; i < r.total(); i++) {
                long tv = 0;
                long to = 0;
                for (int side = 0; side < 2; side++) {
                    if ((side == 0) == (i % 2 == 0)) {
                        long t0 = System.nanoTime();
                        virsh("snapshot-create-as", name, "e" + i, "--disk-only", "--atomic", "--no-metadata");
                        tv = System.nanoTime() - t0;
                    } else {
                        List<DiskSpec> specs = new ArrayList<>();
                        for (RealQemu.Disk d : oursQemu.disks()) {
                            specs.add(DiskSpec.external(d.id(), null));
                        }
                        long t0 = System.nanoTime();
                        engine.create(new SnapshotRequest(dom, "e" + i, "", specs));
                        to = System.nanoTime() - t0;
                    }
                }
                long t1 = System.nanoTime();
                virsh("domstate", name);
                long t2 = System.nanoTime();
                // untimed: ours back to one layer (libvirt's chain grows, as a script's would)
                engine.delete(dom, "e" + i);
                if (r.counts(i)) {
                    snap.add(tv);
                    ours.add(to);
                    floor.add(t2 - t1);
                }
            }
        } finally {
            host.stop(oursQemu);
        }
        Cell c = new Cell(n, Stats.ofNanos(snap), Stats.ofNanos(floor), Stats.ofNanos(ours));
        cells.add(c);
        System.out.printf("libvirt N=%-2d snapshot-create-as --disk-only %s  (virsh domstate %s)  xensnap %s%n", n,
                c.libvirt().cell(), c.virshFloor().cell(), c.ours().cell());
        virsh("destroy", name);
        defined.remove(name);
    }

    private String virsh(String... args) {
        List<String> argv = new ArrayList<>(List.of("virsh", "-q", "-c", uri));
        argv.addAll(List.of(args));
        return ShortCommand.run(Duration.ofSeconds(60), argv).orThrow().output();
    }

    private void stop() {
        for (String d : new ArrayList<>(defined)) {
            ShortCommand.run(Duration.ofSeconds(30), List.of("virsh", "-q", "-c", uri, "destroy", d));
        }
        if (libvirtd != null) {
            libvirtd.stop(Duration.ofSeconds(10));
        }
        if (virtlogd != null) {
            virtlogd.stop(Duration.ofSeconds(5));
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    void report(Report out) {
        out.section("6. libvirt as the peer: external disk-only snapshot");
        out.para("libvirt (" + versions + ") set up as in [qemu.md](qemu.md#libvirt-recipe): a paused q35 domain (TCG)"
                + " with N virtio qcow2 disks like the ones above; `virsh -c qemu:///system?socket=…"
                + " snapshot-create-as DOM NAME"
                + " --disk-only --atomic --no-metadata`, one virsh process per snapshot as a script runs it (the"
                + " chain grows by one per run). *virsh floor*: `virsh domstate` (process start + connect), what any"
                + " virsh call costs. *xensnap*: the external create of the same disks on a Xen-like domain (default"
                + " overlay beside each image), in the same loop, alternating with libvirt, its overlay merged back"
                + " untimed after each run. "
                + runs.warmup() + " warm-up runs, " + runs.measured() + " measured (half at 16 disks).");
        Map<Integer, Stats> ours = new HashMap<>();
        List<List<String>> rows = new ArrayList<>();
        for (Cell c : cells) {
            Stats o = c.ours();
            ours.put(c.disks(), o);
            rows.add(List.of(Integer.toString(c.disks()), c.libvirt().cell(), c.virshFloor().cell(), o.cell(),
                    "**" + speedup(c.libvirt(), o) + "**", String.format(Locale.ROOT, "%.1f×",
                            (c.libvirt().median() - c.virshFloor().median()) / o.median())));
        }
        out.table(List.of("disks", "libvirt snapshot-create-as", "virsh floor", "xensnap external create",
                "libvirt ÷ xensnap", "(libvirt − virsh floor) ÷ xensnap"), rows);
        boolean idle = idle(loadAtStart);
        out.para("Load average (1/5/15 min) when this section began: **" + loadAtStart + "**"
                + (idle ? " — an idle machine (1 min < 0.5), so the target applies." : " — not an idle machine"
                + " (1 min ≥ 0.5): the target is judged only on an idle one, so it is not met in this run.")
                + " A loaded machine makes every virsh process and libvirtd's thread hand-offs slower, which favours"
                + " xensnap (in-process, no daemon); on an idle one both spend most of the time in the same QEMU"
                + " work. The last column takes the virsh process and connect out.");
        for (Cell c : cells) {
            Stats o = ours.get(c.disks());
            if (o != null && c.disks() <= 4) {
                double x = c.libvirt().median() / o.median();
                out.verdict("create ≥ 2× faster than libvirt on an idle machine, N=" + c.disks(),
                        speedup(c.libvirt(), o) + " faster (load " + loadAtStart + ")", x >= 2 && idle, null);
            }
        }
        out.para("libvirt writes its own state while it runs: `/var/lib/libvirt/qemu`, `/run/libvirt`,"
                + " `/var/log/libvirt/qemu/xsbench*.log` and the capabilities cache `/var/cache/libvirt`. The domains"
                + " are transient (`virsh create`, nothing written to /etc/libvirt) and destroyed, and libvirtd and virtlogd stopped at the end; the logs and the cache"
                + " stay, as libvirt leaves them.");
    }

    /** @return whether the 1-minute load average in {@code load} ("1 / 5 / 15") is below 0.5 */
    static boolean idle(String load) {
        try {
            return Double.parseDouble(load.split(" ")[0]) < 0.5;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String speedup(Stats libvirt, Stats ours) {
        return String.format(Locale.ROOT, "%.1f×", libvirt.median() / ours.median());
    }

    static void skipped(Report out, String reason) {
        out.section("6. libvirt as the peer: external disk-only snapshot");
        out.para("**Skipped: " + reason + ".** The ≥ 2× target against libvirt was therefore not measured in this"
                + " run.");
        out.verdict("create ≥ 2× faster than libvirt on an idle machine", "not measured: " + reason, false, reason);
        System.out.println("libvirt: SKIPPED: " + reason);
    }
}
