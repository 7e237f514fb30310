package io.xensnap.internal.engine;

import static io.xensnap.internal.engine.Faults.assertData;
import static io.xensnap.internal.engine.Faults.assertOriginalData;
import static io.xensnap.internal.engine.Faults.assertViewsAgree;
import static io.xensnap.internal.engine.Faults.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.ManagedProcess;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.engine.Faults.Point;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;

/**
 * The fault matrix of docs/reliability.md (QEMU killed at each step, an unwritable overlay directory, xenstored stopped
 * before and during an operation, libxl's lock held too long) on real peers. Every case ends with reconcile reporting
 * nothing left to do, the views agreeing and the guest's data unchanged (checked by content). Disk full is in
 * {@link DiskFullTest}, the engine dying between its writes in {@link EngineCrashTest}, a truncated catalog in
 * {@link io.xensnap.internal.engine.reconcile.ReconcileTest}.
 */
class FaultMatrixTest {

    private static final int DOMID = 7;
    private static final DomainRef DOM = DomainRef.running(DOMID);
    private static final DomainRef OFF = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());

    private Dom0 dom0;
    private RealQemu qemu;
    private SnapshotEngine engine;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        qemu = dom0.domain(DOMID);
        engine = dom0.engine();
        engine.create(new SnapshotRequest(DOM, "s0", "", List.of(DiskSpec.internal("xvdb"))));
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    private Path image(int disk) {
        return qemu.disk(disk).image();
    }

    private static SnapshotRequest threeDisks(String name) {
        return new SnapshotRequest(DOM, name, "", List.of(DiskSpec.internal("xvda"), DiskSpec.internal("xvdb"),
                DiskSpec.external("xvdc", null)));
    }

    /** The domain's QEMU is gone: libxl tears the domain down; then reconcile sees a shut-off domain. */
    private void domainDies() {
        dom0.shutDown(DOMID, qemu);
    }

    private void assertSettledOffline(int a, int b, int c) throws Exception {
        assertThat(engine.reconcile(OFF).lines()).as("nothing left to do").isEmpty();
        List<DiskImage> disks = Faults.catalogDisks(dom0, DOMID);
        assertData(top(disks, "xvda"), a);
        assertData(top(disks, "xvdb"), b);
        assertData(top(disks, "xvdc"), c);
    }

    private static Path top(List<DiskImage> disks, String vdev) {
        return disks.stream().filter(d -> d.vdev().equals(vdev)).findFirst().orElseThrow().image();
    }

    @Test
    void qemuKilledBeforeTheOperationRefusesItAndChangesNothing() throws Exception {
        qemu.kill();
        String before = dom0.fingerprint();

        assertThat(code(() -> engine.create(threeDisks("s1")))).isEqualTo(SnapshotError.HYPERVISOR_ERROR);

        assertThat(dom0.fingerprint()).isEqualTo(before);
        assertThat(engine.reconcile(DOM).findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.PEER_UNREACHABLE));
        domainDies();
        assertSettledOffline(0x41, 0x42, 0x43);
        assertThat(engine.list(OFF).snapshots()).hasSize(1);
    }

    @Test
    void qemuKilledJustBeforeTheTransactionIsTakenBackOnceTheDomainIsGone() throws Exception {
        SnapshotEngine faulty = dom0.engine(Faults.at(Point.BEFORE_TRANSACTION, qemu::kill));

        assertThatThrownBy(() -> faulty.create(threeDisks("s1"))).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("outcome of snapshot s1 is unknown");

        assertThat(engine.reconcile(DOM).findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.PEER_UNREACHABLE));
        domainDies();
        assertThat(engine.reconcile(OFF).findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.CREATE_ROLLED_BACK));
        assertSettledOffline(0x41, 0x42, 0x43);
        assertThat(engine.list(OFF).snapshots()).hasSize(1);
        assertThat(image(2).resolveSibling("disk2.s1.qcow2")).doesNotExist();
    }

    /** QEMU is stopped when the transaction is sent and killed before it can answer: the reply never comes. */
    @Test
    void qemuKilledWhileTheTransactionIsInFlightIsTakenBack() throws Exception {
        SnapshotEngine faulty = dom0.engine(Faults.at(Point.BEFORE_TRANSACTION, () -> {
            Faults.signal(qemu.pid(), "STOP");
            Thread killer = new Thread(() -> {
                sleep(300);
                qemu.kill();
            }, "qemu-killer");
            killer.setDaemon(true);
            killer.start();
        }));

        assertThatThrownBy(() -> faulty.create(threeDisks("s1"))).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("outcome of snapshot s1 is unknown");

        domainDies();
        assertThat(engine.reconcile(OFF).findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.CREATE_ROLLED_BACK));
        assertSettledOffline(0x41, 0x42, 0x43);
    }

    @Test
    void qemuKilledAfterTheTransactionKeepsTheSnapshot() throws Exception {
        SnapshotEngine faulty = dom0.engine(Faults.at(Point.AFTER_POINT_OF_NO_RETURN, qemu::kill));

        faulty.create(threeDisks("s1"));

        domainDies();
        assertSettledOffline(0x41, 0x42, 0x43);
        assertThat(top(Faults.catalogDisks(dom0, DOMID), "xvdc")).isEqualTo(image(2).resolveSibling("disk2.s1.qcow2"));
        assertThat(engine.get(OFF, "s1").disks()).hasSize(3);
        assertThat(ShortCommand.ok("qemu-img", "snapshot", "-l", image(0).toString()).output()).contains("s1");
    }

    @Test
    void qemuKilledBeforeAMergeBeganIsTakenBack() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        Path overlay = image(2).resolveSibling("disk2.s1.qcow2");
        dom0.guestWrites(DOMID, "xvdc", 0x77);
        SnapshotEngine faulty = dom0.engine(Faults.at(Point.BEFORE_MERGE, qemu::kill));

        assertThat(code(() -> faulty.delete(DOM, "s1"))).isEqualTo(SnapshotError.HYPERVISOR_ERROR);

        domainDies();
        assertThat(engine.reconcile(OFF).findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.DELETE_ROLLED_BACK));
        assertSettledOffline(0x41, 0x42, 0x77);
        assertThat(top(Faults.catalogDisks(dom0, DOMID), "xvdc")).isEqualTo(overlay);
        assertThat(engine.get(OFF, "s1").disks()).hasSize(1);
        assertData(image(2), 0x43);
    }

    /**
     * QEMU dies while block-commit writes into the frozen image: a watcher kills it as soon as the image's
     * modification time moves. Should the kill come only after the job ended, the delete simply completes; both
     * ways the guest's data ends up in the image and nothing is left pending.
     */
    @Test
    void qemuKilledWhileMergingIsFinishedWithQemuImg() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        dom0.guestWrites(DOMID, "xvdc", 0x77);
        // more data to merge, so that the merge takes a while
        String qdev = dom0.device(DOMID, "xvdc").path("qdev").asText();
        RawQmp.execute(dom0.host.qmpSocketPath(DOMID), Duration.ofSeconds(30),
                "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io -d " + qdev
                        + " \\\"write -P 0x78 1M 48M\\\"\"}}");
        Thread watcher = killWhenWritten(image(2));

        SnapshotError outcome;
        try {
            engine.delete(DOM, "s1");
            outcome = null;
        } catch (SnapshotException e) {
            outcome = e.code();
        }
        watcher.join(30_000);
        assertThat(qemu.isAlive()).isFalse();

        domainDies();
        ReconcileReport r = engine.reconcile(OFF);
        if (outcome != null) {
            assertThat(outcome).isEqualTo(SnapshotError.HYPERVISOR_ERROR);
            assertThat(r.findings()).as(r.lines().toString()).singleElement()
                    .satisfies(f -> assertThat(f.code()).isEqualTo(Code.DELETE_FINISHED));
        } else {
            assertThat(r.lines()).as("the merge ended before QEMU died").isEmpty();
        }
        assertSettledOffline(0x41, 0x42, 0x77);
        assertThat(top(Faults.catalogDisks(dom0, DOMID), "xvdc")).isEqualTo(image(2));
        assertThat(image(2).resolveSibling("disk2.s1.qcow2")).doesNotExist();
        assertThat(engine.list(OFF).get("s1")).isEmpty();
        assertThat(RealQemu.hasPattern(image(2), RealQemu.Format.RAW, 0x77)).isTrue();
        System.out.println("merge fault: the delete " + (outcome == null ? "completed before the kill"
                : "failed with " + outcome + " and reconcile finished it"));
    }

    /** @return a started watcher that kills QEMU as soon as {@code image}'s modification time moves (or after 20 s) */
    private Thread killWhenWritten(Path image) throws java.io.IOException {
        java.nio.file.attribute.FileTime untouched = Files.getLastModifiedTime(image);
        Thread watcher = new Thread(() -> {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            try {
                while (System.nanoTime() < deadline && Files.getLastModifiedTime(image).equals(untouched)) {
                    Thread.onSpinWait();
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            qemu.kill();
        }, "merge-watcher");
        watcher.start();
        return watcher;
    }

    /**
     * The small merge of an older snapshot's overlay into the base, QEMU killed while the intermediate commit writes
     * into the base: reconcile finishes it with qemu-img from the headers (commit again, rebase), or the merge ended
     * first; both ways the data of s2's instant is in the base, the newer overlay on it, the older one gone.
     */
    @Test
    void qemuKilledWhileMergingAnOlderSnapshotDownIsFinishedWithQemuImg() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov1 = image(2).resolveSibling("disk2.s1.qcow2");
        dom0.guestWrites(DOMID, "xvdc", 0x77);
        // more data to merge, so that the merge takes a while
        dom0.guestWrites(DOMID, "xvdc", 0x78, 1L << 20, 48L << 20);
        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov2 = image(2).resolveSibling("disk2.s2.qcow2");
        dom0.guestWrites(DOMID, "xvdc", 0x79);
        Thread watcher = killWhenWritten(image(2));

        SnapshotError outcome;
        try {
            engine.delete(DOM, "s1");
            outcome = null;
        } catch (SnapshotException e) {
            outcome = e.code();
        }
        watcher.join(30_000);
        assertThat(qemu.isAlive()).isFalse();

        domainDies();
        ReconcileReport r = engine.reconcile(OFF);
        if (outcome != null) {
            assertThat(outcome).isEqualTo(SnapshotError.HYPERVISOR_ERROR);
            assertThat(r.findings()).as(r.lines().toString()).singleElement()
                    .satisfies(f -> assertThat(f.code()).isEqualTo(Code.DELETE_FINISHED));
        } else {
            assertThat(r.lines()).as("the merge ended before QEMU died").isEmpty();
        }
        assertSettledOffline(0x41, 0x42, 0x79);
        assertThat(top(Faults.catalogDisks(dom0, DOMID), "xvdc")).isEqualTo(ov2);
        assertThat(ov1).doesNotExist();
        assertThat(Dom0.chain(ov2)).containsExactly(ov2.toString(), image(2).toString());
        assertThat(engine.get(OFF, "s2").disks()).singleElement()
                .satisfies(d -> assertThat(d.image()).isEqualTo(image(2)));
        assertThat(RealQemu.hasPattern(image(2), RealQemu.Format.RAW, 0x77)).isTrue();
        System.out.println("small merge fault: the delete " + (outcome == null ? "completed before the kill"
                : "failed with " + outcome + " and reconcile finished it"));
    }

    /** Root ignores file permissions, so the directory is made immutable ({@code chattr +i}) instead. */
    @Test
    void anUnwritableOverlayDirectoryRefusesTheSnapshotAndChangesNothing() throws Exception {
        Path ro = Files.createDirectories(dom0.images.resolve("vm7/ro"));
        String chattr = Prerequisite.CHATTR.require().toString();
        ShortCommand.ok(chattr, "+i", ro.toString());
        try {
            String before = dom0.fingerprint();
            SnapshotRequest live = new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"),
                    DiskSpec.external("xvdb", dom0.images.resolve("vm7/b-ok.qcow2")),
                    DiskSpec.external("xvdc", ro.resolve("c.qcow2"))));
            // xensnap creates the overlay itself, in the directory as checked, before QEMU is asked
            assertThatThrownBy(() -> engine.create(live)).isInstanceOf(SnapshotException.class)
                    .hasMessageContaining("Operation not permitted")
                    .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.INTERNAL));
            assertThat(dom0.fingerprint()).isEqualTo(before);
            assertThat(engine.reconcile(DOM).lines()).isEmpty();
            assertViewsAgree(dom0, DOMID);
            assertOriginalData(dom0, DOMID);

            domainDies();
            String off = dom0.fingerprint();
            DomainRef named = DomainRef.shutOff(Dom0.uuid(DOMID), List.of(
                    new DiskImage("xvda", image(0), DiskFormat.QCOW2), new DiskImage("xvdc", image(2), DiskFormat.RAW)));
            assertThatThrownBy(() -> engine.create(new SnapshotRequest(named, "s2", "", List.of(
                    DiskSpec.internal("xvda"), DiskSpec.external("xvdc", ro.resolve("c2.qcow2"))))))
                    .isInstanceOf(SnapshotException.class).hasMessageContaining("Operation not permitted")
                    .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.INTERNAL));
            assertThat(dom0.fingerprint()).as("offline: the internal snapshot on xvda was taken back").isEqualTo(off);
            assertSettledOffline(0x41, 0x42, 0x43);
        } finally {
            ShortCommand.ok(chattr, "-i", ro.toString());
        }
    }

    @Test
    void xenstoredStoppedBeforeAnOperationTimesOutAndChangesNothing() throws Exception {
        String before = dom0.fingerprint();
        SnapshotEngine impatient = dom0.engine(EngineHooks.NONE, Duration.ofSeconds(20), Duration.ofSeconds(1));
        Faults.signal(dom0.xenstored.pid(), "STOP");
        try {
            assertThat(code(() -> impatient.create(threeDisks("s1")))).isEqualTo(SnapshotError.TIMEOUT);
        } finally {
            Faults.signal(dom0.xenstored.pid(), "CONT");
        }
        assertThat(dom0.fingerprint()).isEqualTo(before);
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
    }

    @Test
    void xenstoredStoppedMidOperationLeavesTheCreatePendingAndReconcileFinishesIt() throws Exception {
        SnapshotEngine impatient = dom0.engine(Faults.at(Point.AFTER_LIBXL_CONFIG,
                () -> Faults.signal(dom0.xenstored.pid(), "STOP")), Duration.ofSeconds(20), Duration.ofSeconds(1));
        try {
            assertThatThrownBy(() -> impatient.create(threeDisks("s1"))).isInstanceOf(SnapshotException.class)
                    .hasMessageContaining("was taken and QEMU uses it")
                    .hasMessageContaining("xenstore backend still names the old images")
                    .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.INTERNAL));
        } finally {
            Faults.signal(dom0.xenstored.pid(), "CONT");
        }

        ReconcileReport r = dom0.engine().reconcile(DOM);

        assertThat(r.findings()).as(r.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.CREATE_FINISHED);
            assertThat(f.detail()).contains("xenstore's xvdc").doesNotContain("libxl");
        });
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertOriginalData(dom0, DOMID);
        assertThat(engine.list(DOM).current()).isEqualTo("s1");
    }

    @Test
    void libxlsLockHeldPastTheTimeoutRefusesWithLockTimeoutAndChangesNothing() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        Path lock = dom0.host.userdataLockPath(DOMID);
        SnapshotEngine waiting = dom0.engine(EngineHooks.NONE, Duration.ofSeconds(20), Duration.ofSeconds(5),
                Duration.ofMillis(500));
        try (Holder holder = Holder.hold(lock, dom0.host.root().resolve("flock.log"))) {
            String before = dom0.fingerprint();
            assertThat(code(() -> waiting.create(new SnapshotRequest(DOM, "s2", "",
                    List.of(DiskSpec.external("xvdb", null)))))).isEqualTo(SnapshotError.LOCK_TIMEOUT);
            assertThat(code(() -> waiting.delete(DOM, "s1"))).as("a merge waits for the lock before it starts")
                    .isEqualTo(SnapshotError.LOCK_TIMEOUT);
            assertThat(waiting.reconcile(DOM).findings()).singleElement()
                    .satisfies(f -> assertThat(f.code()).isEqualTo(Code.PEER_UNREACHABLE));
            assertThat(dom0.fingerprint()).isEqualTo(before);
        }
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertOriginalData(dom0, DOMID);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * flock(1) holding libxl's domain-userdata lock as another toolstack would. {@code -o}: flock(1) itself keeps the
     * descriptor, its command does not, so stopping flock(1) releases the lock.
     */
    static final class Holder implements AutoCloseable {
        private final ManagedProcess process;

        private Holder(ManagedProcess process) {
            this.process = process;
        }

        static Holder hold(Path file, Path log) throws Exception {
            String flock = Prerequisite.FLOCK.require().toString();
            ManagedProcess p = ManagedProcess.start("flock", List.of(flock, "-o", "-x", file.toString(), "sleep", "30"),
                    Map.of(), log);
            Holder h = new Holder(p);
            Instant deadline = Instant.now().plusSeconds(5);
            // held once a non-blocking attempt fails with the conflict exit code
            while (ShortCommand.run(Duration.ofSeconds(5), List.of(flock, "-n", "-E", "99", file.toString(), "true"))
                    .exitCode() != 99) {
                if (!p.isAlive() || Instant.now().isAfter(deadline)) {
                    h.close();
                    throw new IllegalStateException("flock(1) did not take " + file + ": " + p.logText());
                }
                sleep(10);
            }
            return h;
        }

        /** @return the pid of flock(1), which holds the lock itself ({@code -o}: its command does not) */
        long pid() {
            return process.pid();
        }

        @Override
        public void close() {
            ProcessHandle.of(process.pid()).ifPresent(h -> h.descendants().forEach(ProcessHandle::destroyForcibly));
            process.kill();
        }
    }
}
