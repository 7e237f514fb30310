package io.xensnap.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.engine.SnapshotEngine;

/**
 * Item 3: revert and delete of an internal snapshot on a shut-off domain with N qcow2 disks, through the provider,
 * against {@code qemu-img snapshot -a}/{@code -d} alone on an identical set of images, one disk after another and
 * on {@code nproc} threads. The engine's revert runs with parallelism {@code nproc} too.
 */
final class OfflineBench {

    record Cell(String op, int disks, Stats ours, Stats sequential, Stats parallel) {
    }

    private final BenchHost host;
    private final Runs runs;
    private final int threads = Runtime.getRuntime().availableProcessors();
    private final List<Cell> cells = new ArrayList<>();
    private final String qemuImg = Prerequisite.QEMU_IMG.require().toString();

    OfflineBench(BenchHost host, Runs runs) {
        this.host = host;
        this.runs = runs;
    }

    void run(int... diskCounts) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int n : diskCounts) {
                measure(n, pool);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void measure(int n, ExecutorService pool) throws Exception {
        // process-bound, so little JIT warm-up is needed; 7 qemu-img runs per disk make a 16-disk revert slow
        Runs r = offlineRuns(n);
        String uuid = BenchHost.uuid(400 + n);
        List<DiskImage> ourDisks = host.offlineDisks("off-ours-" + n, n);
        List<Path> theirs = host.offlineDisks("off-raw-" + n, n).stream().map(DiskImage::image).toList();
        SnapshotEngine engine = host.engine(null, threads);
        engine.create(SnapshotRequest.allDisks(DomainRef.shutOff(uuid, ourDisks), "base", "bench"));
        DomainRef off = DomainRef.shutOff(uuid, List.of());
        for (Path p : theirs) {
            qemuImg("-c", "base", p);
        }

        List<Long> ours = new ArrayList<>();
        List<Long> seq = new ArrayList<>();
        List<Long> par = new ArrayList<>();
        for (int i = 0; i < r.total(); i++) {
            // rotate the order so that none of the three always runs right after another's fsyncs
            for (int k = 0; k < 3; k++) {
                int which = (i + k) % 3;
                long t0 = System.nanoTime();
                switch (which) {
                    case 0 -> engine.revert(off, "base");
                    case 1 -> sequential(theirs, "-a", "base");
                    default -> parallel(pool, theirs, "-a", "base");
                }
                long ns = System.nanoTime() - t0;
                if (r.counts(i)) {
                    (which == 0 ? ours : which == 1 ? seq : par).add(ns);
                }
            }
        }
        add(new Cell("revert", n, Stats.ofNanos(ours), Stats.ofNanos(seq), Stats.ofNanos(par)));

        ours.clear();
        seq.clear();
        par.clear();
        for (int i = 0; i < r.total(); i++) {
            String name = "d" + i;
            // untimed: the snapshot to delete, made the same way on both sides
            engine.create(SnapshotRequest.allDisks(off, name, "bench"));
            sequential(theirs, "-c", name);
            long t0 = System.nanoTime();
            engine.delete(off, name);
            long t1 = System.nanoTime();
            if (i % 2 == 0) {
                sequential(theirs, "-d", name);
            } else {
                parallel(pool, theirs, "-d", name);
            }
            long t2 = System.nanoTime();
            if (r.counts(i)) {
                ours.add(t1 - t0);
                (i % 2 == 0 ? seq : par).add(t2 - t1);
            }
        }
        add(new Cell("delete", n, Stats.ofNanos(ours), Stats.ofNanos(seq), Stats.ofNanos(par)));
    }

    private Runs offlineRuns(int disks) {
        return new Runs(1, Math.max(3, disks >= 16 ? runs.measured() / 5 : runs.measured() * 3 / 10));
    }

    private void add(Cell c) {
        cells.add(c);
        System.out.printf("%s N=%-2d ours %s  qemu-img seq %s  par %s%n", c.op(), c.disks(), c.ours().cell(),
                c.sequential().cell(), c.parallel().cell());
    }

    private void sequential(List<Path> images, String op, String name) {
        for (Path p : images) {
            qemuImg(op, name, p);
        }
    }

    private void parallel(ExecutorService pool, List<Path> images, String op, String name) throws Exception {
        List<Future<?>> fs = new ArrayList<>();
        for (Path p : images) {
            fs.add(pool.submit(() -> qemuImg(op, name, p)));
        }
        for (Future<?> f : fs) {
            f.get();
        }
    }

    private void qemuImg(String op, String name, Path image) {
        ShortCommand.run(Duration.ofSeconds(60), List.of(qemuImg, "snapshot", op, name, image.toString())).orThrow();
    }

    void report(Report out) {
        out.section("3. Offline revert and delete: xensnap vs qemu-img alone");
        out.para("A shut-off domain with N qcow2 disks (64 MiB, 1 MiB written) and an internal snapshot on every disk."
                + " *xensnap*: `revert` / `delete` through the provider (parallelism " + threads + " = nproc)."
                + " *qemu-img sequential*: `qemu-img snapshot -a|-d NAME IMG` for one disk after another;"
                + " *parallel*: the same on " + threads + " threads. Identical images on both sides, order rotated"
                + " per run; " + offlineRuns(1).warmup() + " warm-up run, " + offlineRuns(1).measured()
                + " measured (" + offlineRuns(16).measured() + " at 16 disks): process-bound, so little warm-up is"
                + " needed. For delete, sequential and parallel take turns, so each has half the runs.");
        List<List<String>> rows = new ArrayList<>();
        for (Cell c : cells) {
            rows.add(List.of(c.op(), Integer.toString(c.disks()), c.ours().cell(), c.sequential().cell(),
                    c.parallel().cell(), "**" + Stats.ratio(c.ours(), c.sequential()) + "**",
                    Stats.ratio(c.ours(), c.parallel())));
        }
        out.table(List.of("operation", "disks", "xensnap", "qemu-img sequential", "qemu-img parallel",
                "xensnap ÷ sequential", "xensnap ÷ parallel"), rows);
        for (Cell c : cells) {
            if (c.op().equals("revert") && c.disks() == 16) {
                double ratio = c.ours().median() / c.sequential().median();
                out.verdict("offline revert of 16 disks ≤ 0.6× sequential qemu-img",
                        String.format(Locale.ROOT, "%.2f×", ratio), ratio <= 0.6, null);
            }
        }
        out.para("What one revert runs per disk (bundle `Revert` and `QemuImg`): one `qemu-img info --backing-chain -U`"
                + " (every check: the snapshot in the image's own layer, once; the undo tag free), `snapshot -c"
                + " xensnap-undo-…` (the undo point), `snapshot -a`, and after the commit write `snapshot -d"
                + " xensnap-undo-…`: **4 qemu-img processes per disk, each phase on all disks in parallel**"
                + " (parallelism = nproc), against 1 for qemu-img alone; plus 4 catalog writes per revert (the"
                + " pending mark, the mark of the undo points, the commit with the cleanup mark, the clear). A delete"
                + " runs `info --backing-chain` + `snapshot -d` per disk, sequentially, plus two catalog writes.");
    }
}
