package io.xensnap.bench;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

import io.xensnap.harness.XenBed;

/**
 * Item 11 (run only when asked for: it boots the real Xen host, Xen 4.17 under QEMU/TCG): how long a snapshot with
 * memory keeps the domain paused, against {@code xl save -p} and {@code xl unpause} of the same domain alone — the
 * least any memory snapshot through libxl costs. A PV guest with one 64 MiB qcow2 qdisk and 128 MiB of memory; the
 * measuring runs in dom0 ({@link PauseProbe}, xensnap's engine in a plain JVM), so no network or console lies between
 * the clock and xl.
 */
final class PauseBench {

    /** The goal: the domain paused at most this much longer than for libxl's own save. */
    static final double GOAL = 1.1;
    private static final String DIR = "/opt/xensnap-bench";
    private static final String DOMU = "pause";

    private final Runs runs;
    private Stats xensnap;
    private Stats alone;
    /** xensnap's pause in its parts: the save, until the transaction, the transaction, the unpause */
    private final List<Stats> phases = new ArrayList<>();

    PauseBench(Runs runs) {
        this.runs = runs;
    }

    void run() throws Exception {
        try (XenBed bed = XenBed.boot(XenBed.Image.locate(), Duration.ofMinutes(6))) {
            startGuest(bed);
            classPath(bed);
            String domid = bed.run(Duration.ofMinutes(1), "xl", "domid", DOMU).orThrow().stdout().strip();
            XenBed.Result r = bed.run(Duration.ofMinutes(40), "java", "-XX:TieredStopAtLevel=1", "-cp",
                    DIR + "/lib/*:" + DIR + "/classes", PauseProbe.class.getName(), domid,
                    Integer.toString(runs.total())).orThrow();
            List<Long> ours = new ArrayList<>();
            List<Long> theirs = new ArrayList<>();
            List<List<Long>> parts = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                    new ArrayList<>());
            int round = 0;
            for (String line : r.stdout().split("\n")) {
                String[] w = line.strip().split(" ");
                if (w.length == 2 && w[0].equals("xensnap")) {
                    if (runs.counts(round)) {
                        ours.add(Long.parseLong(w[1]));
                    }
                } else if (w.length == 5 && w[0].equals("phases") && runs.counts(round)) {
                    for (int i = 0; i < 4; i++) {
                        parts.get(i).add(Long.parseLong(w[i + 1]));
                    }
                } else if (w.length == 2 && w[0].equals("alone")) {
                    if (runs.counts(round)) {
                        theirs.add(Long.parseLong(w[1]));
                    }
                    round++;
                }
            }
            if (ours.size() != runs.measured() || theirs.size() != runs.measured()) {
                throw new IllegalStateException("the probe in dom0 printed " + ours.size() + " and " + theirs.size()
                        + " measured rounds, not " + runs.measured() + ":\n" + r.stdout() + "\n" + r.stderr());
            }
            xensnap = Stats.ofNanos(ours);
            alone = Stats.ofNanos(theirs);
            for (List<Long> part : parts) {
                phases.add(Stats.ofNanos(part));
            }
        }
    }

    /** The bed's own PV guest kernel and initramfs, on one qcow2 qdisk. */
    private static void startGuest(XenBed bed) {
        bed.run(Duration.ofMinutes(1), "mkdir", "-p", "/images", "/var/lib/xensnap").orThrow();
        bed.run(Duration.ofMinutes(1), "qemu-img", "create", "-q", "-f", "qcow2", "/images/pause.qcow2", "64M")
                .orThrow();
        String cfg = String.join("\n", "name = \"" + DOMU + "\"", "type = \"pv\"",
                "kernel = \"/var/lib/xenbed/domu/vmlinuz\"", "ramdisk = \"/var/lib/xenbed/domu/initrd.gz\"",
                "extra = \"console=hvc0 quiet\"", "memory = 128", "vcpus = 1",
                "disk = [ \"format=qcow2,vdev=xvda,access=rw,backendtype=qdisk,target=/images/pause.qcow2\" ]", "");
        bed.put(cfg.getBytes(StandardCharsets.UTF_8), "/etc/xen/" + DOMU + ".cfg", "0644");
        bed.run(Duration.ofMinutes(4), "xl", "create", "/etc/xen/" + DOMU + ".cfg").orThrow();
    }

    /**
     * This JVM's jars the probe needs (the bundle, Jackson, JNA, SLF4J) and the probe's own classes, into dom0: the
     * jar the bench was built with is the one measured.
     */
    private static void classPath(XenBed bed) throws IOException, URISyntaxException, ClassNotFoundException {
        Set<Path> jars = new LinkedHashSet<>();
        for (String name : List.of("io.xensnap.internal.engine.SnapshotEngine",
                "com.fasterxml.jackson.databind.ObjectMapper", "com.fasterxml.jackson.core.JsonFactory",
                "com.fasterxml.jackson.annotation.JsonProperty", "com.sun.jna.Native", "org.slf4j.LoggerFactory",
                "org.slf4j.impl.SimpleLogger")) {
            jars.add(location(Class.forName(name)));
        }
        for (Path jar : jars) {
            bed.put(jar, DIR + "/lib/" + jar.getFileName(), "0644");
        }
        Path classes = location(PauseProbe.class);
        Path pkg = classes.resolve("io/xensnap/bench");
        try (Stream<Path> files = Files.list(pkg)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("PauseProbe")).toList()) {
                bed.put(f, DIR + "/classes/io/xensnap/bench/" + f.getFileName(), "0644");
            }
        }
    }

    private static Path location(Class<?> type) throws URISyntaxException {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    void report(Report report) {
        report.section("11. A snapshot with memory: how long the domain is paused");
        report.para(String.format(Locale.ROOT, "On the real Xen host (Xen 4.17 under QEMU/TCG, docs/xenbed.md): a PV"
                + " guest with 128 MiB of memory and one 64 MiB qcow2 qdisk. Per round, alternating: a snapshot with"
                + " memory and an internal snapshot of `xvda` through xensnap's engine (then deleted), and `xl save -p`"
                + " followed by `xl unpause` of the same domain alone. Both timed in dom0 from the start of `xl save"
                + " -p` to the return of `xl unpause`. %d warm-up rounds, %d measured. ms, median [p10–p90].",
                runs.warmup(), runs.measured()));
        report.table(List.of("", "ms"), List.of(
                List.of("xensnap: save, the disks' transaction, unpause", xensnap.cell()),
                List.of("of which `xl save -p`", phases.get(0).cell()),
                List.of("of which from the save's end to the transaction", phases.get(1).cell()),
                List.of("of which the QMP transaction (until the unpause starts)", phases.get(2).cell()),
                List.of("of which `xl unpause`", phases.get(3).cell()),
                List.of("xl save -p and xl unpause alone", alone.cell())));
        double ratio = xensnap.median() / alone.median();
        report.verdict("snapshot with memory: domain paused ≤ " + GOAL + "× xl save -p alone",
                String.format(Locale.ROOT, "%.2f×", ratio), ratio <= GOAL,
                "the disks' QMP transaction (and its QMP session) while the domain is paused");
    }
}
