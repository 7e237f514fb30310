package io.xensnap.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs the benchmarks — xensnap against a raw QMP client, qemu-img alone and libvirt, and against its own targets for
 * concurrency, listing and heap — and writes the report. Started by {@code scripts/bench}; see there for the options.
 *
 * <pre>
 * java -cp ... io.xensnap.bench.Bench --out docs/benchmarks.md [--items 1,2,3,4,5,6,7,9] [--quick]
 *      [--libvirt-dir DIR | --libvirt-skip REASON] [--karaf distribution/target/assembly]
 * </pre>
 */
public final class Bench {

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        Path out = null;
        Set<String> items = new LinkedHashSet<>(List.of("1", "2", "3", "4", "5", "6", "7", "9"));
        boolean quick = false;
        String libvirtSkip = null;
        Path libvirtDir = null;
        Path karafAssembly = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--items" -> items = new LinkedHashSet<>(List.of(args[++i].split(",")));
                case "--quick" -> quick = true;
                case "--libvirt-skip" -> libvirtSkip = args[++i];
                case "--libvirt-dir" -> libvirtDir = Path.of(args[++i]);
                case "--karaf" -> karafAssembly = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Runs runs = quick ? new Runs(2, 5) : new Runs(5, 20);
        Instant started = Instant.now();
        System.out.println("load average at the start: " + Machine.START_LOAD);
        Report report = new Report();
        List<String> skipped = new ArrayList<>();

        try (BenchHost host = new BenchHost()) {
            if (items.contains("1")) {
                CreateBench create = new CreateBench(host, runs);
                create.run(1, 4, 16);
                create.report(report);
                Anatomy anatomy = new Anatomy(host, runs);
                anatomy.run(1, 16);
                anatomy.report(report);
            }
            if (items.contains("6")) {
                String why = libvirtSkip != null ? libvirtSkip : LibvirtBench.unavailable();
                if (why == null && libvirtDir == null) {
                    why = "no --libvirt-dir given (scripts/bench passes one)";
                }
                if (why != null) {
                    LibvirtBench.skipped(report, why);
                    skipped.add("6 (libvirt: " + why + ")");
                } else {
                    LibvirtBench libvirt = new LibvirtBench(host, libvirtDir, runs);
                    try {
                        libvirt.run(1, 4, 16);
                        libvirt.report(report);
                    } catch (Exception e) {
                        String reason = "libvirt failed here: " + e;
                        LibvirtBench.skipped(report, reason.replace('\n', ' '));
                        skipped.add("6 (" + reason + ")");
                    }
                }
            }
            if (items.contains("3")) {
                OfflineBench offline = new OfflineBench(host, runs);
                offline.run(1, 4, 16);
                offline.report(report);
            }
            if (items.contains("4")) {
                // a long warm-up: a provider runs for weeks, and until the JIT compiler has compiled the create's
                // path its CPU is in the round (the report's "of it JIT" column shows what was left)
                ConcurrentBench concurrent = new ConcurrentBench(host,
                        quick ? runs.scaled(0.5) : new Runs(100, runs.scaled(0.5).measured()), 32);
                concurrent.run();
                concurrent.report(report);
            }
            if (items.contains("7")) {
                MergeBench merge = new MergeBench(host, quick ? new Runs(0, 1) : new Runs(1, 5), 512L * 1024 * 1024);
                merge.run();
                merge.report(report);
            }
            if (items.contains("9")) {
                ScheduleBench schedule = new ScheduleBench(host, quick ? new Runs(1, 3) : new Runs(2, 8), 32);
                schedule.run();
                schedule.report(report);
            }
            if (items.contains("10")) {
                QuiesceBench quiesce = new QuiesceBench(host, quick ? new Runs(2, 5) : new Runs(3, 15));
                quiesce.run();
                quiesce.report(report);
            }
            if (items.contains("11")) {
                PauseBench pause = new PauseBench(quick ? new Runs(1, 3) : new Runs(2, 14));
                pause.run();
                pause.report(report);
            }
            if (items.contains("5")) {
                CatalogBench catalog = new CatalogBench(host, runs);
                catalog.run(1_000, 10_000);
                catalog.report(report);
            }
            boolean surfaces = items.contains("2");
            boolean bundleStart = items.contains("5");
            if (surfaces || bundleStart) {
                String why = karafAssembly == null ? "no --karaf given (scripts/bench passes the distribution's"
                        + " assembly)" : null;
                boolean surfacesDone = false;
                boolean bundleStartDone = false;
                if (why == null) {
                    try (KarafHost karaf = KarafHost.prepare(karafAssembly, host)) {
                        karaf.start(BundleStartBench.UUID);
                        System.out.printf("Karaf: launch to xensnap ready %s ms%n", karaf.launchToReady().cell());
                        if (surfaces) {
                            SurfaceBench surface = new SurfaceBench(host, karaf, quick ? new Runs(1, 4)
                                    : new Runs(2, 8), quick ? 4 : 5);
                            if (quick) {
                                surface.run(1, 4);
                            } else {
                                surface.run(1, 4, 16);
                            }
                            surface.report(report);
                            surfacesDone = true;
                        }
                        if (bundleStart) {
                            BundleStartBench start = new BundleStartBench(host, karaf, quick ? new Runs(1, 3)
                                    : new Runs(2, 8), 10_000);
                            start.run();
                            start.report(report);
                            bundleStartDone = true;
                        }
                    } catch (Exception e) {
                        why = "Karaf failed here: " + e;
                        System.err.println(why);
                        e.printStackTrace();
                    }
                }
                if (why != null) {
                    String line = "**Not measured in this run: " + why.replace('\n', ' ') + ".**";
                    if (surfaces && !surfacesDone) {
                        report.section("2. The same create through the MBean (JMX RMI) and the console");
                        report.para(line);
                        skipped.add("2 (MBean/console: " + why.replace('\n', ' ') + ")");
                    }
                    if (bundleStart && !bundleStartDone) {
                        report.section("5. A catalog of many snapshots on one domain");
                        report.para("**Bundle start in Karaf.** " + line);
                        skipped.add("5's bundle start time in Karaf (" + why.replace('\n', ' ') + ")");
                    }
                }
            }
        }
        Duration took = Duration.between(started, Instant.now()).truncatedTo(ChronoUnit.SECONDS);
        String previous = out != null && Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
        Path analysisFile = (out != null ? out.toAbsolutePath().getParent() : Path.of("docs"))
                .resolve(WhyMissed.ANALYSIS);
        String analysis = Files.exists(analysisFile) ? Files.readString(analysisFile, StandardCharsets.UTF_8) : "";
        String md = Markdown.document(report, took, skipped, quick, previous, analysis);
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, md, StandardCharsets.UTF_8);
            System.out.println("wrote " + out);
        } else {
            System.out.println(md);
        }
    }
}
