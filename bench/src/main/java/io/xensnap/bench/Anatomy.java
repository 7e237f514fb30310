package io.xensnap.bench;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.xensnap.harness.RealQemu;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.DomainWatchView;
import io.xensnap.internal.qmp.BlockDevices;
import io.xensnap.internal.qmp.QmpClient;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.qmp.VmControl;
import io.xensnap.internal.xenstore.DomainDisks;
import io.xensnap.internal.xenstore.XenstoreClient;

/**
 * The profile behind item 1: each step a live create takes before its transaction, timed alone with the product's own
 * classes in the order {@code SnapshotEngine.create} and {@code LiveCreate.run} call them, warm. Shows which steps make
 * the "prepare" phase, so a missed create target points at a line of code rather than at "the engine".
 */
final class Anatomy {

    record Step(String what, String where, Stats stats) {
    }

    private final BenchHost host;
    private final Runs runs;
    private final Map<Integer, List<Step>> steps = new LinkedHashMap<>();

    Anatomy(BenchHost host, Runs runs) {
        this.host = host;
        this.runs = runs;
    }

    void run(int... diskCounts) throws Exception {
        for (int n : diskCounts) {
            int domid = 300 + n;
            RealQemu qemu = host.domain(domid, n);
            try {
                steps.put(n, measure(domid, qemu));
            } finally {
                host.stop(qemu);
            }
        }
    }

    private List<Step> measure(int domid, RealQemu qemu) throws Exception {
        List<Step> out = new ArrayList<>();
        var socket = host.xenstoredSocket();
        out.add(step("xenstore without the domain view: connect + domain (uuid), then its disks on the same"
                + " connection", "DomainResolver.Lookup, xenstore.domain.view = false", () -> {
                    try (XenstoreClient xs = XenstoreClient.connect(socket, "anatomy", Duration.ofSeconds(5))) {
                        DomainDisks dd = new DomainDisks(xs);
                        dd.domain(domid);
                        dd.domain(domid);
                        dd.disks(domid);
                    }
                }));
        try (DomainWatchView view = new DomainWatchView(
                () -> XenstoreClient.connect(socket, "anatomy-view", Duration.ofSeconds(5)))) {
            view.facts(domid).orElseThrow();
            out.add(step("xenstore with the domain view: the uuid's and the disks' barrier reads on the kept"
                    + " connection", "SnapshotEngine.create → DomainResolver.Lookup → DomainWatchView.facts", () -> {
                        view.facts(domid).orElseThrow();
                        view.facts(domid).orElseThrow();
                    }));
        }
        CatalogStore store = new CatalogStore(Files.createDirectories(host.state().resolve("anatomy")));
        DomainCatalog small = DomainCatalog.empty(BenchHost.uuid(domid)).withName("vm" + domid);
        store.save(small);
        out.add(step("catalog: load", "SnapshotEngine.load", () -> store.load(small.uuid())));
        QmpClient qmp = new QmpClient(qemu.qmpSocket(), "anatomy", QmpTimeouts.defaults(), BenchHost.JSON);
        out.add(step("QMP: connect + greeting + qmp_capabilities + close", "LiveCreate.run: peers.qmp().connect",
                () -> qmp.connect().close()));
        try (QmpConnection c = qmp.connect()) {
            out.add(step("QMP: query-status alone (one round trip, for scale)", "VmControl.status",
                    () -> new VmControl(c).status()));
            BlockDevices devices = new BlockDevices(c);
            List<String> vdevs = qemu.disks().stream().map(RealQemu.Disk::id).toList();
            out.add(step("QMP: query-status + query-block + query-blockstats sent together, then every disk"
                    + " resolved from that list", "LiveCreate.run: `qmp.executeAll(queries)`", () -> {
                        List<String> queries = new java.util.ArrayList<>(List.of(VmControl.STATUS_QUERY));
                        queries.addAll(BlockDevices.QUERIES);
                        var answers = c.executeAll(queries);
                        VmControl.status(answers.get(0));
                        var all = BlockDevices.of(answers.get(1), answers.get(2));
                        for (String v : vdevs) {
                            devices.resolve(v, all);
                        }
                    }));
        }
        DomainCatalog[] turns = {small.withName("vm" + domid + "-a"), small.withName("vm" + domid + "-b")};
        int[] turn = {0};
        out.add(step("catalog: durable save (pending mark: one journal record, one fdatasync)",
                "LiveCreate.run: peers.catalogs().save(marked)", () -> store.save(turns[turn[0]++ % 2])));
        out.add(step("raw: connect + greeting + qmp_capabilities + close", "RawClient (baseline)", () -> {
            try (RawClient c = RawClient.connect(qemu.qmpSocket())) {
                c.ok("{\"execute\":\"query-status\"}");
            }
        }));
        return out;
    }

    @FunctionalInterface
    private interface Body {
        void run() throws Exception;
    }

    private Step step(String what, String where, Body body) throws Exception {
        List<Long> ns = new ArrayList<>();
        for (int i = 0; i < runs.total(); i++) {
            long t0 = System.nanoTime();
            body.run();
            if (runs.counts(i)) {
                ns.add(System.nanoTime() - t0);
            }
        }
        return new Step(what, where, Stats.ofNanos(ns));
    }

    void report(Report out) {
        out.para("**Where the prepare phase goes** (each step timed alone, warm, with the product's classes, in the"
                + " order a live create runs them; ms median [p10–p90]):");
        List<String> header = new ArrayList<>(List.of("step", "called from"));
        steps.keySet().forEach(n -> header.add(n + (n == 1 ? " disk" : " disks")));
        List<List<String>> rows = new ArrayList<>();
        List<Step> first = steps.values().iterator().next();
        for (int i = 0; i < first.size(); i++) {
            List<String> row = new ArrayList<>(List.of(first.get(i).what(), first.get(i).where()));
            for (List<Step> s : steps.values()) {
                row.add(s.get(i).stats().cell());
            }
            rows.add(row);
        }
        out.table(header, rows);
    }
}
