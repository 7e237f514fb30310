package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.LibxlLikeClient;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;

/**
 * A live merge shares the dom0 with libxl: while a throttled block-commit of 512 MiB runs for more than 20 s, a
 * libxl-like client (qmp-socket-lock, QMP query-status, unlock; userdata lock, read the config, unlock) gets through
 * every 2 s, and the merge still ends with the guest's data intact and every view naming the base image.
 */
class LiveMergeNeighbourTest {

    private static final int DOMID = 9;
    private static final DomainRef DOM = DomainRef.running(DOMID);
    private static final long MiB = 1024 * 1024;
    private static final long WRITTEN = 512 * MiB;
    /** About 22 s for the 512 MiB, over the 20 s the merge must last; short enough to keep the test modest. */
    private static final long SPEED = 23 * MiB;

    private Dom0 dom0;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        dom0.domain(DOMID, b -> b.formats(RealQemu.Format.QCOW2).virtualSize(768 * MiB).withData(0x41));
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    @Test
    void aLongMergeLetsALibxlLikeClientThroughEveryTwoSecondsAndEndsOnTheBaseImage() throws Exception {
        Path base = Path.of(dom0.rootFile(DOMID, "xvda"));
        dom0.engine().create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvda", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvda"));
        guestWrites(WRITTEN);
        String before = contentHash(overlay);
        SnapshotEngine engine = dom0.engine(EngineHooks.NONE, Duration.ofMinutes(2), SPEED);

        List<LibxlLikeClient.Round> rounds;
        long took;
        try (LibxlLikeClient xl = LibxlLikeClient.start(dom0.host, DOMID, Duration.ofSeconds(2),
                dom0.host.root())) {
            long t0 = System.nanoTime();
            engine.delete(DOM, "s1");
            took = System.nanoTime() - t0;
            rounds = xl.stop(Duration.ofSeconds(60));
        }

        System.out.printf("merge %d ms; libxl-like client rounds: %s%n", took / 1_000_000, rounds);
        assertThat(Duration.ofNanos(took)).as("the throttled merge").isGreaterThanOrEqualTo(Duration.ofSeconds(20));
        assertThat(rounds).as("a round every 2 s of the merge").hasSizeGreaterThanOrEqualTo(10);
        // A behavioural bound with large slack: each round takes milliseconds when nobody holds libxl's locks, while
        // a merge that kept them (as xensnap did before) held a round for the whole merge, 20 s and more.
        assertThat(rounds).as("every round of the libxl-like client").allSatisfy(r -> {
            assertThat(r.ok()).as("round %d: %s", r.n(), r.detail()).isTrue();
            assertThat(r.totalMillis()).as("round %d, ms", r.n()).isLessThanOrEqualTo(1000);
            // the harness's QEMU is started paused (-S): libxl's query-status then reads "prelaunch"
            assertThat(r.detail()).as("round %d: QEMU's status", r.n()).isEqualTo("prelaunch");
        });
        assertThat(dom0.rootFile(DOMID, "xvda")).as("QEMU").isEqualTo(base.toString());
        assertThat(dom0.libxlDisk(DOMID, "xvda").get("pdev_path").asText()).as("libxl's config")
                .isEqualTo(base.toString());
        assertThat(dom0.backendParams(DOMID, "xvda")).as("xenstore").endsWith(":" + base);
        assertThat(engine.list(DOM).snapshots()).as("the catalog's snapshots").isEmpty();
        assertThat(Faults.catalogDisks(dom0, DOMID)).as("the catalog's disks")
                .contains(new DiskImage("xvda", base, io.xensnap.api.DiskFormat.QCOW2));
        assertThat(overlay).doesNotExist();
        assertThat(contentHash(base)).as("the guest's data through the chain, before vs after").isEqualTo(before);
    }

    /**
     * xensnap dies while QEMU runs the merge (the process stops at the first progress reading): the restarted
     * reconcile finds the job by its id, waits for it without holding libxl's locks (the libxl-like client gets
     * through meanwhile), pivots, and settles libxl's config, xenstore and the catalog.
     */
    @Test
    void reconcileFinishesAMergeACrashLeftRunningWithoutBlockingLibxl() throws Exception {
        Path base = Path.of(dom0.rootFile(DOMID, "xvda"));
        dom0.engine().create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvda", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvda"));
        guestWrites(192 * MiB);
        String before = contentHash(overlay);
        SnapshotEngine dying = dom0.engine(Faults.crashAt(Faults.Point.MERGING), Duration.ofMinutes(2), SPEED);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dying.delete(DOM, "s1"))
                .isInstanceOf(Faults.SimulatedCrash.class);

        io.xensnap.internal.engine.reconcile.ReconcileReport report;
        List<LibxlLikeClient.Round> rounds;
        long took;
        try (LibxlLikeClient xl = LibxlLikeClient.start(dom0.host, DOMID, Duration.ofSeconds(1),
                dom0.host.root())) {
            long t0 = System.nanoTime();
            report = dom0.engine(EngineHooks.NONE, Duration.ofMinutes(2), SPEED).reconcile(DOM);
            took = System.nanoTime() - t0;
            rounds = xl.stop(Duration.ofSeconds(60));
        }

        System.out.printf("reconcile %d ms; libxl-like client rounds: %s%n", took / 1_000_000, rounds);
        assertThat(report.findings()).as(report.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(io.xensnap.internal.engine.reconcile.ReconcileReport.Code.DELETE_FINISHED);
            assertThat(f.detail()).contains("completed the merge job xensnap-merge-");
        });
        assertThat(Duration.ofNanos(took)).as("reconcile waited for the throttled merge")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(4));
        assertThat(rounds).as("a round every second of the wait").hasSizeGreaterThanOrEqualTo(4);
        // the same behavioural bound as above: milliseconds against the whole merge before
        assertThat(rounds).allSatisfy(r -> {
            assertThat(r.ok()).as("round %d: %s", r.n(), r.detail()).isTrue();
            assertThat(r.totalMillis()).as("round %d, ms", r.n()).isLessThanOrEqualTo(1000);
        });
        assertThat(dom0.rootFile(DOMID, "xvda")).isEqualTo(base.toString());
        assertThat(dom0.libxlDisk(DOMID, "xvda").get("pdev_path").asText()).isEqualTo(base.toString());
        assertThat(dom0.backendParams(DOMID, "xvda")).endsWith(":" + base);
        assertThat(dom0.engine().list(DOM).snapshots()).isEmpty();
        assertThat(overlay).doesNotExist();
        assertThat(dom0.engine().reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertThat(contentHash(base)).as("the guest's data, before vs after").isEqualTo(before);
    }

    /**
     * The merge a crash left behind runs at 1 MiB/s, which would take over three minutes; the operator has set the
     * speed to unlimited since. Reconcile gives the job the speed configured now, so it ends well within the job
     * timeout of one minute (at the old speed it would still run then, and reconcile would report it unfinished).
     */
    @Test
    void reconcileGivesTheMergeItFindsTheSpeedConfiguredNow() throws Exception {
        Path base = Path.of(dom0.rootFile(DOMID, "xvda"));
        dom0.engine().create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvda", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvda"));
        guestWrites(192 * MiB);
        String before = contentHash(overlay);
        SnapshotEngine dying = dom0.engine(Faults.crashAt(Faults.Point.MERGING), Duration.ofMinutes(2), MiB);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dying.delete(DOM, "s1"))
                .isInstanceOf(Faults.SimulatedCrash.class);

        io.xensnap.internal.engine.reconcile.ReconcileReport report = dom0.engine(EngineHooks.NONE,
                Duration.ofMinutes(1), 0).reconcile(DOM);

        assertThat(report.findings()).as(report.lines().toString()).singleElement().satisfies(f -> assertThat(f.code())
                .isEqualTo(io.xensnap.internal.engine.reconcile.ReconcileReport.Code.DELETE_FINISHED));
        assertThat(dom0.rootFile(DOMID, "xvda")).isEqualTo(base.toString());
        assertThat(dom0.libxlDisk(DOMID, "xvda").get("pdev_path").asText()).isEqualTo(base.toString());
        assertThat(overlay).doesNotExist();
        assertThat(contentHash(base)).as("the guest's data, before vs after").isEqualTo(before);
    }

    /** The guest writes {@code bytes} through QEMU, 64 MiB at a time, each with its own pattern, then flushes. */
    private void guestWrites(long bytes) throws Exception {
        String qdev = dom0.device(DOMID, "xvda").path("qdev").asText();
        for (long off = 64 * MiB, i = 0; off < 64 * MiB + bytes; off += 64 * MiB, i++) {
            hmp("qemu-io -d " + qdev + " \\\"write -P 0x" + Long.toHexString(0x50 + i) + " " + off + " 64M\\\"");
        }
        hmp("qemu-io -d " + qdev + " flush");
    }

    private void hmp(String line) throws Exception {
        String reply = RawQmp.execute(dom0.host.qmpSocketPath(DOMID), Duration.ofSeconds(60),
                "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"" + line + "\"}}");
        assertThat(reply).as(line).contains("\"return\": \"\"");
    }

    /** @return SHA-256 of what the guest sees through the chain whose top is {@code top} */
    private String contentHash(Path top) throws Exception {
        Path raw = dom0.host.root().resolve("content.raw");
        ShortCommand.run(Duration.ofSeconds(120), List.of("qemu-img", "convert", "-U", "-O", "raw", top.toString(),
                raw.toString())).orThrow();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(raw)) {
            byte[] buf = new byte[1 << 20];
            for (int n = in.read(buf); n > 0; n = in.read(buf)) {
                sha.update(buf, 0, n);
            }
        } finally {
            Files.deleteIfExists(raw);
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
