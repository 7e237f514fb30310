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
 * Runs the benchmarks of issue 8 and writes the report. Started by {@code scripts/bench}; see there for the options.
 *
 * <pre>
 * java -cp ... io.xensnap.bench.Bench --out docs/benchmarks.md [--items 1,3,4,5,6] [--quick]
 *      [--libvirt-dir DIR | --libvirt-skip REASON]
 * </pre>
 */
public final class Bench {

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        Path out = null;
        Set<String> items = new LinkedHashSet<>(List.of("1", "3", "4", "5", "6"));
        boolean quick = false;
        String libvirtSkip = null;
        Path libvirtDir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--items" -> items = new LinkedHashSet<>(List.of(args[++i].split(",")));
                case "--quick" -> quick = true;
                case "--libvirt-skip" -> libvirtSkip = args[++i];
                case "--libvirt-dir" -> libvirtDir = Path.of(args[++i]);
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
                ConcurrentBench concurrent = new ConcurrentBench(host, runs.scaled(0.5), 32);
                concurrent.run();
                concurrent.report(report);
            }
            if (items.contains("5")) {
                CatalogBench catalog = new CatalogBench(host, runs);
                catalog.run(1_000, 10_000);
                catalog.report(report);
            }
            report.section("2. The same create through the MBean (JMX RMI) and the console");
            report.para("**Not measured in this run.** The MBean and the console commands exist, but this benchmark does"
                    + " not start Karaf yet; this section is their place. Add a `SurfaceBench`"
                    + " beside `CreateBench` that sends the same requests through a JMX RMI connector and through"
                    + " `bin/client`, and report each surface's median over the provider's.");
            skipped.add("2 (MBean/console: needs a Karaf in the bench, not built yet)");
            report.section("7. Bundle start time in Karaf");
            report.para("**Not measured in this run.** This bench starts no Karaf yet: measuring it needs the distribution build and a Karaf boot"
                    + " inside this run. Its place: unpack `distribution/target/xensnap-distribution-*.tar.gz` into"
                    + " `bench/target/karaf`, start it, and time `bundle:stop io.xensnap` / `bundle:start io.xensnap`"
                    + " through `bin/client` against a `bundle:list` call as the client's floor.");
            skipped.add("5's bundle start time in Karaf (needs a Karaf in the bench; see section 7)");
        }
        Duration took = Duration.between(started, Instant.now()).truncatedTo(ChronoUnit.SECONDS);
        String previous = out != null && Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
        String md = Markdown.document(report, took, skipped, quick, previous);
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, md, StandardCharsets.UTF_8);
            System.out.println("wrote " + out);
        } else {
            System.out.println(md);
        }
    }
}
