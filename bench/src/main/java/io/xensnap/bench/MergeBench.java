package io.xensnap.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.LibxlLikeClient;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.SnapshotEngine;

/**
 * Item 7: the delete of an external snapshot of a running domain (a live merge, unlimited speed) against
 * {@code qemu-img commit} of a copy of the same two images on the same file system, while a libxl-like client
 * ({@link LibxlLikeClient}) takes libxl's qmp-socket-lock and userdata lock every 200 ms. Measured: the merge's
 * throughput (bytes the guest wrote into the overlay per second, from the start of the jobs to QEMU running on the base
 * image again, timed at the engine's hook points; and of the whole delete) and the client's worst round.
 */
final class MergeBench {

    private static final long MiB = 1024 * 1024;
    private static final int DOMID = 700;

    private final BenchHost host;
    private final Runs runs;
    private final long bytes;
    private final List<Long> ours = new ArrayList<>();
    private final List<Long> merges = new ArrayList<>();
    private long merging;
    private long merged;
    private final List<Long> qemuImg = new ArrayList<>();
    private final List<Double> worstRounds = new ArrayList<>();
    private int rounds;

    /** @param bytes what the guest writes into the overlay before each merge */
    MergeBench(BenchHost host, Runs runs, long bytes) {
        this.host = host;
        this.runs = runs;
        this.bytes = bytes;
    }

    void run() throws Exception {
        RealQemu qemu = host.domain(DOMID, b -> b.formats(RealQemu.Format.QCOW2).virtualSize(bytes + 128 * MiB)
                .withData(0x41));
        try {
            SnapshotEngine engine = host.engineWith(new EngineHooks() {
                @Override
                public void beforeMerge(String domainUuid, String snapshot) {
                    merging = System.nanoTime();
                }

                @Override
                public void afterMerge(String domainUuid, String snapshot) {
                    merged = System.nanoTime();
                }
            }, 1, host.state());
            for (int i = 0; i < runs.total(); i++) {
                once(engine, i);
            }
        } finally {
            host.stop(qemu);
        }
    }

    private void once(SnapshotEngine engine, int i) throws Exception {
        DomainRef dom = DomainRef.running(DOMID);
        engine.create(new SnapshotRequest(dom, "m" + i, "", List.of(DiskSpec.external("xvda", null))));
        guestWrites(i);
        Path top = Path.of(root());
        Path base = Path.of(backing(top));
        Path side = Files.createDirectories(host.images().resolve("merge-copy"));
        Path baseCopy = side.resolve("base.qcow2");
        Path topCopy = side.resolve("top.qcow2");
        ShortCommand.ok("cp", "--sparse=always", base.toString(), baseCopy.toString());
        ShortCommand.ok("cp", "--sparse=always", top.toString(), topCopy.toString());
        String qemuImgPath = Prerequisite.QEMU_IMG.require().toString();
        ShortCommand.ok(qemuImgPath, "rebase", "-u", "-F", "qcow2", "-b", baseCopy.toString(), topCopy.toString());

        long t0 = System.nanoTime();
        ShortCommand.run(Duration.ofMinutes(5), List.of(qemuImgPath, "commit", "-q", topCopy.toString())).orThrow();
        long commit = System.nanoTime() - t0;
        ShortCommand.ok("rm", "-rf", side.toString());

        long merge;
        List<LibxlLikeClient.Round> seen;
        try (LibxlLikeClient xl = LibxlLikeClient.start(host.xenHost(), DOMID, Duration.ofMillis(200),
                host.images())) {
            long t1 = System.nanoTime();
            engine.delete(dom, "m" + i);
            merge = System.nanoTime() - t1;
            seen = xl.stop(Duration.ofSeconds(30));
        }
        double worst = seen.stream().mapToDouble(r -> r.ok() ? r.totalMillis() : Double.MAX_VALUE).max().orElse(0);
        if (runs.counts(i)) {
            ours.add(merge);
            merges.add(merged - merging);
            qemuImg.add(commit);
            rounds += seen.size();
            worstRounds.add(worst);
        }
        System.out.printf(Locale.ROOT, "merge %d MiB: delete %.2f s, merge %.2f s, qemu-img commit %.2f s, client %d rounds, worst"
                + " %.1f ms%n", bytes / MiB, merge / 1e9, (merged - merging) / 1e9, commit / 1e9, seen.size(), worst);
    }

    /** 64 MiB at a time through QEMU (HMP qemu-io on the guest's device), each with its own pattern, then a flush. */
    private void guestWrites(int run) throws Exception {
        String qdev = null;
        for (var b : BenchHost.JSON.readTree(qmp("{\"execute\":\"query-block\"}")).get("return")) {
            if (b.path("qdev").asText().contains("/xvda/")) {
                qdev = b.path("qdev").asText();
            }
        }
        for (long off = 64 * MiB; off < 64 * MiB + bytes; off += 64 * MiB) {
            hmp("qemu-io -d " + qdev + " \\\"write -P 0x" + Integer.toHexString(0x50 + run) + " " + off + " 64M\\\"");
        }
        hmp("qemu-io -d " + qdev + " flush");
    }

    private String root() throws Exception {
        for (var b : BenchHost.JSON.readTree(qmp("{\"execute\":\"query-block\"}")).get("return")) {
            if (b.path("qdev").asText().contains("/xvda/")) {
                return b.path("inserted").path("file").asText();
            }
        }
        throw new IllegalStateException("no xvda");
    }

    private static String backing(Path top) throws Exception {
        String out = ShortCommand.ok(Prerequisite.QEMU_IMG.require().toString(), "info", "-U", "--output=json",
                top.toString()).output();
        return BenchHost.JSON.readTree(out).get("full-backing-filename").asText();
    }

    private void hmp(String line) throws Exception {
        String reply = qmp("{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"" + line + "\"}}");
        if (!reply.contains("\"return\": \"\"")) {
            throw new IllegalStateException(line + ": " + reply);
        }
    }

    private String qmp(String command) throws Exception {
        return RawQmp.execute(host.qmpSocket(DOMID), Duration.ofSeconds(60), command);
    }

    void report(Report out) {
        Stats delete = Stats.ofNanos(ours);
        Stats merge = Stats.ofNanos(merges);
        Stats commit = Stats.ofNanos(qemuImg);
        double mib = bytes / (double) MiB;
        double ratio = commit.median() / merge.median();
        double worst = worstRounds.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        out.section("7. A live merge beside libxl");
        out.para("The delete of an external snapshot of a running domain whose overlay holds " + (long) mib
                + " MiB the guest wrote (one qcow2 disk, `merge.speed` 0: unlimited), against `qemu-img commit` of a"
                + " copy of the same two images on the same file system. *merge*: from the pending mark to QEMU"
                + " running on the base image again (the jobs started, watched in short sessions, completed and gone;"
                + " the engine's hook points `beforeMerge` and `afterMerge`); *delete*: the whole operation, with"
                + " libxl's config, xenstore, the overlay's removal and the catalog (each write fsync'd). Meanwhile a"
                + " libxl-like client (a small C program: libxl's qmp-socket-lock, connect, `query-status`, close,"
                + " unlock; the userdata lock, read the config, unlock) makes a round every 200 ms. Times in ms:"
                + " median [p10–p90] of " + ours.size() + " runs.");
        out.table(List.of("data", "merge", "delete", "qemu-img commit", "throughput merge / qemu-img",
                        "client rounds", "client worst round"),
                List.of(List.of((long) mib + " MiB", merge.cell() + " (" + mibPerSecond(mib, merge) + ")",
                        delete.cell() + " (" + mibPerSecond(mib, delete) + ")",
                        commit.cell() + " (" + mibPerSecond(mib, commit) + ")",
                        String.format(Locale.ROOT, "%.2f×", ratio), String.valueOf(rounds),
                        String.format(Locale.ROOT, "%.1f ms", worst))));
        out.verdict("live merge throughput ≥ 0.9× qemu-img commit", String.format(Locale.ROOT, "%.2f×", ratio),
                ratio >= 0.9, "QEMU's active commit mirrors the overlay into the base while the guest runs, and"
                        + " the merge includes its start and its pivot");
        out.verdict("libxl-like client's worst round during a merge ≤ 1 s", String.format(Locale.ROOT, "%.1f ms",
                worst), worst <= 1000, "a round waits for xensnap's short critical sections only");
    }

    private static String mibPerSecond(double mib, Stats s) {
        return String.format(Locale.ROOT, "%.0f MiB/s", mib / (s.median() / 1000));
    }
}
