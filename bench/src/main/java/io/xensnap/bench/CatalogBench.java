package io.xensnap.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.SnapshotEngine;

/**
 * Item 5: a domain with a big catalog (written directly with {@link CatalogStore}: a chain of snapshots over two
 * internal disks), then {@code list} and {@code get} through the provider of a shut-off domain (no xenstore read on
 * that path), and the heap the loaded tree keeps alive.
 */
final class CatalogBench {

    record Cell(int snapshots, long fileBytes, Stats coldList, Stats list, Stats get, long retainedBytes,
                long allocatedPerList) {
    }

    private final BenchHost host;
    private final Runs runs;
    private final List<Cell> cells = new ArrayList<>();

    CatalogBench(BenchHost host, Runs runs) {
        this.host = host;
        this.runs = runs;
    }

    void run(int... sizes) throws Exception {
        for (int size : sizes) {
            cells.add(measure(size));
        }
    }

    private Cell measure(int size) throws Exception {
        String uuid = BenchHost.uuid(600 + size % 1000);
        Path dir = Files.createDirectories(host.state().resolve("catalog-" + size));
        CatalogStore store = new CatalogStore(dir);
        Path images = host.images().resolve("vm-catalog");
        Path a = images.resolve("disk0.qcow2");
        Path b = images.resolve("disk1.qcow2");
        List<SnapshotInfo> snaps = new ArrayList<>(size);
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        String parent = null;
        for (int i = 0; i < size; i++) {
            String name = String.format(Locale.ROOT, "nightly-%05d", i);
            snaps.add(new SnapshotInfo(uuid, name, "nightly backup " + i, t.plusSeconds(3600L * i), parent, List.of(
                    new DiskSnapshot("xvda", SnapshotKind.INTERNAL, a, DiskFormat.QCOW2, null),
                    new DiskSnapshot("xvdb", SnapshotKind.INTERNAL, b, DiskFormat.QCOW2, null))));
            parent = name;
        }
        store.save(new DomainCatalog(uuid, "vm-catalog", parent, List.of(new DiskImage("xvda", a, DiskFormat.QCOW2),
                new DiskImage("xvdb", b, DiskFormat.QCOW2)), Optional.empty(), snaps));
        snaps = null;
        long fileBytes = Files.size(store.file(uuid));

        DomainRef dom = DomainRef.shutOff(uuid, List.of());
        String middle = String.format(Locale.ROOT, "nightly-%05d", size / 2);
        // the big catalog is CPU-bound and slow to parse: fewer runs, enough for a median
        Runs r = size > 5000 ? new Runs(Math.min(2, runs.warmup()), Math.max(3, runs.measured() * 3 / 10)) : runs;
        List<Long> cold = new ArrayList<>();
        List<Long> list = new ArrayList<>();
        List<Long> get = new ArrayList<>();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocated = 0;
        for (int i = 0; i < r.total(); i++) {
            // a new engine has an empty catalog cache: its first list parses the file (after a restart, or after
            // another process rewrote the catalog); the next ones find it unchanged
            SnapshotEngine engine = host.engine(null, 2, dir);
            long c0 = System.nanoTime();
            SnapshotTree first = engine.list(dom);
            long c1 = System.nanoTime();
            long a0 = threads.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            SnapshotTree tree = engine.list(dom);
            long t1 = System.nanoTime();
            long a1 = threads.getCurrentThreadAllocatedBytes();
            engine.get(dom, middle);
            long t2 = System.nanoTime();
            if (tree.snapshots().size() != size || first.snapshots().size() != size) {
                throw new IllegalStateException("listed " + tree.snapshots().size() + " of " + size);
            }
            if (r.counts(i)) {
                cold.add(c1 - c0);
                list.add(t1 - t0);
                get.add(t2 - t1);
                allocated = a1 - a0;
            }
        }

        // what one engine keeps for this domain: its catalog cache plus the tree a caller holds
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        settle();
        long before = mem.getHeapMemoryUsage().getUsed();
        SnapshotEngine engine = host.engine(null, 2, dir);
        SnapshotTree kept = engine.list(dom);
        settle();
        long after = mem.getHeapMemoryUsage().getUsed();
        java.lang.ref.Reference.reachabilityFence(engine);
        if (kept.snapshots().size() != size) {
            throw new IllegalStateException("lost the tree");
        }
        Cell c = new Cell(size, fileBytes, Stats.ofNanos(cold), Stats.ofNanos(list), Stats.ofNanos(get), after - before, allocated);
        System.out.printf("catalog %d: file %d KiB, first list %s, list %s, get %s, retained %d KiB,"
                + " allocated/list %d KiB%n", size, fileBytes / 1024, c.coldList().cell(), c.list().cell(), c.get().cell(), c.retainedBytes() / 1024,
                c.allocatedPerList() / 1024);
        return c;
    }

    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
    }

    void report(Report out) {
        out.section("5. A catalog of many snapshots on one domain");
        out.para("The catalog file is written directly with `CatalogStore` (a chain of snapshots, each over two"
                + " internal disks, with a description), then read through the provider: `list` and `get` of a"
                + " shut-off domain by uuid (no xenstore on that path: the time is the catalog's). *First list*: the"
                + " first `list` of a new engine, which parses the file (after a restart, or after another process"
                + " rewrote it); *list*: the next ones, which find the file unchanged (same inode, size and time) and"
                + " use the catalog read before. *Retained heap*: used heap after full GCs with a new engine that"
                + " has listed the domain once (its catalog cache) and the listed `SnapshotTree` alive, minus before"
                + " the engine was made. *Allocated*: bytes the listing thread allocated during one warm `list`. " + runs.warmup() + " warm-up runs, "
                + runs.measured() + " measured (above 5,000 snapshots: " + Math.min(2, runs.warmup()) + " and "
                + Math.max(3, runs.measured() * 3 / 10) + ").");
        List<List<String>> rows = new ArrayList<>();
        for (Cell c : cells) {
            rows.add(List.of(String.format(Locale.ROOT, "%,d", c.snapshots()), kib(c.fileBytes()),
                    c.coldList().cell(), c.list().cell(),
                    c.get().cell(), mib(c.retainedBytes()), mib(c.allocatedPerList())));
        }
        out.table(List.of("snapshots", "catalog file", "first list", "list", "get (one snapshot)", "retained heap",
                "allocated per list"), rows);
        for (Cell c : cells) {
            if (c.snapshots() == 10_000) {
                out.verdict("list of 10,000 snapshots < 20 ms", c.list().cell() + " ms", c.list().median() < 20, null);
                out.verdict("heap < 16 MiB for 10,000 snapshots", mib(c.retainedBytes()) + " retained",
                        c.retainedBytes() < 16L * 1024 * 1024, null);
            }
        }
    }

    private static String kib(long bytes) {
        return String.format(Locale.ROOT, "%,d KiB", bytes / 1024);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1024.0 / 1024.0);
    }
}
