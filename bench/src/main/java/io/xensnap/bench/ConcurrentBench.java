package io.xensnap.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealQemu;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.qmp.BlockDevices;
import io.xensnap.internal.qmp.QmpClient;
import io.xensnap.internal.qmp.QmpTimeouts;

/**
 * Item 4: {@code domains} running domains (one Xen-like QEMU and one qcow2 disk each) snapshotted at the same moment,
 * one thread per domain: through one provider, and by as many raw QMP clients. Throughput is domains ÷ wall time of
 * the round. The same QEMUs serve both sides (internal snapshots do not move a disk's image, so the engine's checks
 * are not disturbed); rounds alternate and each round's snapshots are removed again, untimed.
 */
final class ConcurrentBench {

    private final BenchHost host;
    private final Runs runs;
    private final int domains;
    private Stats ours;
    private Stats raw;
    private long rssKb;
    /** CPU ticks spent in the measured rounds of each side, and how many creates they made. */
    private CpuTicks oursCpu = new CpuTicks(0, 0, 0, 0);
    private CpuTicks rawCpu = new CpuTicks(0, 0, 0, 0);
    private int measuredCreates;
    private final java.util.Map<String, Stats> stepsDefault = new java.util.LinkedHashMap<>();
    private java.util.Map<String, Stats> steps = stepsDefault;

    ConcurrentBench(BenchHost host, Runs runs, int domains) {
        this.host = host;
        this.runs = runs;
        this.domains = domains;
    }

    void run() throws Exception {
        List<RealQemu> qemus = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(domains);
        try {
            for (int d = 0; d < domains; d++) {
                qemus.add(host.domain(500 + d, 1));
            }
            rssKb = qemus.stream().mapToLong(q -> rss(q.pid())).sum();
            SnapshotEngine engine = host.engine(null, 2);
            List<RawDomain> raws = qemus.stream().map(RawDomain::new).toList();
            List<Long> pids = qemus.stream().map(RealQemu::pid).toList();
            List<Long> oursNs = new ArrayList<>();
            List<Long> rawNs = new ArrayList<>();
            for (int i = 0; i < runs.total(); i++) {
                String name = "c" + i;
                for (int side = 0; side < 2; side++) {
                    boolean oursNow = (side == 0) == (i % 2 == 0);
                    List<Callable<Void>> jobs = new ArrayList<>();
                    for (int d = 0; d < domains; d++) {
                        int domid = 500 + d;
                        RawDomain raw = raws.get(d);
                        jobs.add(oursNow ? () -> {
                            engine.create(new SnapshotRequest(DomainRef.running(domid), name, "",
                                    List.of(DiskSpec.internal("xvda"))));
                            return null;
                        } : () -> {
                            try (RawClient c = RawClient.connect(raw.socket())) {
                                raw.internal(c, "raw-" + name);
                            }
                            return null;
                        });
                    }
                    CpuTicks before = CpuTicks.now(pids);
                    long ns = runAll(pool, jobs);
                    CpuTicks spent = CpuTicks.now(pids).minus(before);
                    if (runs.counts(i)) {
                        (oursNow ? oursNs : rawNs).add(ns);
                        if (oursNow) {
                            oursCpu = oursCpu.plus(spent);
                            measuredCreates += domains;
                        } else {
                            rawCpu = rawCpu.plus(spent);
                        }
                    }
                }
                List<Callable<Void>> cleanup = new ArrayList<>();
                for (int d = 0; d < domains; d++) {
                    int domid = 500 + d;
                    RawDomain raw = raws.get(d);
                    cleanup.add(() -> {
                        engine.delete(DomainRef.running(domid), name);
                        raw.deleteInternal("raw-" + name);
                        return null;
                    });
                }
                runAll(pool, cleanup);
            }
            steps = anatomy(pool);
            ours = Stats.ofNanos(oursNs);
            raw = Stats.ofNanos(rawNs);
            System.out.printf("%d domains: ours %s  raw %s%n", domains, ours.cell(), raw.cell());
        } finally {
            pool.shutdownNow();
            for (RealQemu q : qemus) {
                host.stop(q);
            }
        }
    }

    /**
     * The steps of a live create, each run by all domains at once (wall time of the round), to show which shared
     * resource makes the provider's round slower than the raw clients'.
     */
    private java.util.Map<String, Stats> anatomy(ExecutorService pool) throws Exception {
        java.util.Map<String, Stats> out = new java.util.LinkedHashMap<>();
        CatalogStore store = new CatalogStore(
                java.nio.file.Files.createDirectories(host.state().resolve("concurrent-anatomy")));
        out.put("QMP: connect + query-status, query-block, query-blockstats sent together (LiveCreate before the transaction)",
                round(pool, d -> {
                    try (var c = new QmpClient(host.qmpSocket(500 + d), "a",
                            QmpTimeouts.defaults(), BenchHost.JSON).connect()) {
                        var answers = c.executeAll(List.of("query-status", "query-block", "query-blockstats"));
                        new BlockDevices(c).resolve("xvda",
                                BlockDevices.of(answers.get(1), answers.get(2)));
                    }
                }));
        out.put("catalog: two flushed saves per domain (a create flushes one, the pending mark), one file per domain, one directory",
                round(pool, d -> {
                    var c = DomainCatalog.empty(BenchHost.uuid(700 + d));
                    store.save(c);
                    store.save(c.withName("vm"));
                }));
        out.put("raw client: connect + qmp_capabilities only", round(pool, d -> {
            try (RawClient c = RawClient.connect(host.qmpSocket(500 + d))) {
                c.ok("{\"execute\":\"query-status\"}");
            }
        }));
        return out;
    }

    @FunctionalInterface
    private interface PerDomain {
        void run(int d) throws Exception;
    }

    private Stats round(ExecutorService pool, PerDomain body) throws Exception {
        List<Long> ns = new ArrayList<>();
        for (int i = 0; i < runs.total(); i++) {
            List<Callable<Void>> jobs = new ArrayList<>();
            for (int d = 0; d < domains; d++) {
                int dd = d;
                jobs.add(() -> {
                    body.run(dd);
                    return null;
                });
            }
            long t = runAll(pool, jobs);
            if (runs.counts(i)) {
                ns.add(t);
            }
        }
        return Stats.ofNanos(ns);
    }

    /** Starts every job at once and returns the wall time until the last one is done; any failure is thrown. */
    private static long runAll(ExecutorService pool, List<Callable<Void>> jobs) throws Exception {
        long t0 = System.nanoTime();
        List<Future<Void>> fs = new ArrayList<>();
        for (Callable<Void> j : jobs) {
            fs.add(pool.submit(j));
        }
        for (Future<Void> f : fs) {
            f.get();
        }
        return System.nanoTime() - t0;
    }

    private List<String> cpuRow(String side, CpuTicks t) {
        return List.of(side, perCreate(t.qemus()), perCreate(t.jvm()),
                String.format(Locale.ROOT, "%.2f", (double) t.jitMs() / Math.max(1, measuredCreates)),
                perCreate(t.machine()));
    }

    private String perCreate(long ticks) {
        return String.format(Locale.ROOT, "%.2f", ticks * CpuTicks.MS_PER_TICK / Math.max(1, measuredCreates));
    }

    private static long rss(long pid) {
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (java.io.IOException e) {
            return 0;
        }
        return 0;
    }

    void report(Report out) {
        out.section("4. " + domains + " domains snapshotted at once: one provider vs " + domains + " raw clients");
        double oursTput = domains / (ours.median() / 1000);
        double rawTput = domains / (raw.median() / 1000);
        out.para(domains + " Xen-like QEMUs with one qcow2 disk each (together " + rssKb / 1024 + " MiB RSS), one"
                + " internal snapshot per domain per round, all " + domains + " started together on " + domains
                + " threads. *xensnap*: `create` on one shared provider; *raw*: " + domains + " raw QMP clients,"
                + " one per QEMU. Rounds alternate; " + runs.warmup() + " warm-up rounds, " + runs.measured()
                + " measured. Wall time of a round in ms, median [p10–p90]; throughput = domains ÷ median.");
        out.table(List.of("", "round wall time", "snapshots/s"), List.of(
                List.of("xensnap (one provider)", ours.cell(), String.format(Locale.ROOT, "%.0f", oursTput)),
                List.of("raw QMP clients", raw.cell(), String.format(Locale.ROOT, "%.0f", rawTput)),
                List.of("xensnap ÷ raw throughput", "",
                        "**" + String.format(Locale.ROOT, "%.2f×", oursTput / rawTput) + "**")));
        out.para("CPU time per snapshot in the measured rounds (ms; from /proc, in 10 ms ticks summed over "
                + measuredCreates + " snapshots a side): the QEMUs, this benchmark's JVM (the provider, or the raw"
                + " clients), of that the JIT compiler's time, and the whole machine ("
                + Runtime.getRuntime().availableProcessors() + " cores). When the machine's CPU per snapshot times "
                + domains + " ÷ cores is about the round's wall time, the round is bound by CPU, and the throughput"
                + " ratio is the ratio of these CPU times:");
        out.table(List.of("", "QEMUs", "JVM", "of it JIT", "machine"), List.of(
                cpuRow("xensnap (one provider)", oursCpu), cpuRow("raw QMP clients", rawCpu)));
        out.para("The steps of a create, each run by all " + domains + " domains at once (round wall time, ms):");
        List<List<String>> rows = new ArrayList<>();
        steps.forEach((k, v) -> rows.add(List.of(k, v.cell())));
        out.table(List.of("step, " + domains + " at once", "round wall time"), rows);
        out.verdict(domains + " concurrent domains ≥ 0.6× raw throughput",
                String.format(Locale.ROOT, "%.2f×", oursTput / rawTput), oursTput / rawTput >= 0.6, null);
    }
}
