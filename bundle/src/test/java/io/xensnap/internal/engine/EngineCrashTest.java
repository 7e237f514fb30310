package io.xensnap.internal.engine;

import static io.xensnap.internal.engine.Faults.assertData;
import static io.xensnap.internal.engine.Faults.assertOriginalData;
import static io.xensnap.internal.engine.Faults.assertViewsAgree;
import static io.xensnap.internal.engine.Faults.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.engine.Faults.Point;
import io.xensnap.internal.engine.Faults.SimulatedCrash;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;

/**
 * The process dies between two writes of an operation (a hook throws an {@link Error}: no undo runs). A new engine
 * over the same state directory reconciles; it must finish or take back exactly what the disks prove, end with every
 * view agreeing, and the guest's data must be what it was.
 */
class EngineCrashTest {

    private static final int DOMID = 7;
    private static final DomainRef DOM = DomainRef.running(DOMID);

    private Dom0 dom0;
    private RealQemu qemu;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        qemu = dom0.domain(DOMID);
        // an earlier snapshot, so the catalog exists before the operation under test
        dom0.engine().create(new SnapshotRequest(DOM, "s0", "", List.of(DiskSpec.internal("xvda"))));
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    private Path image(int disk) {
        return qemu.disk(disk).image();
    }

    @ParameterizedTest
    @EnumSource(value = Point.class, names = {"BEFORE_TRANSACTION", "AFTER_POINT_OF_NO_RETURN", "AFTER_LIBXL_CONFIG",
            "AFTER_XENSTORE"})
    void aCreateStoppedAtEachStepIsFinishedOrTakenBackByReconcile(Point step) throws Exception {
        String before = dom0.fingerprint();
        Path bOverlay = dom0.images.resolve("vm7/b-s1.qcow2");
        SnapshotRequest request = new SnapshotRequest(DOM, "s1", "crash test", List.of(DiskSpec.internal("xvda"),
                DiskSpec.external("xvdb", bOverlay), DiskSpec.external("xvdc", null)));

        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(step)).create(request))
                .isInstanceOf(SimulatedCrash.class);

        SnapshotEngine restarted = dom0.engine();
        assertThat(code(() -> restarted.create(SnapshotRequest.allDisks(DOM, "s2", ""))))
                .as("an unreconciled domain refuses new work").isEqualTo(SnapshotError.INVALID_STATE);
        ReconcileReport report = restarted.reconcile(DOM);

        Code expected = step == Point.BEFORE_TRANSACTION ? Code.CREATE_ROLLED_BACK : Code.CREATE_FINISHED;
        assertThat(report.findings()).as(report.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(expected))
                .satisfies(f -> assertThat(f.repaired()).isTrue());
        assertThat(restarted.reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertOriginalData(dom0, DOMID);
        if (step == Point.BEFORE_TRANSACTION) {
            assertThat(dom0.fingerprint()).as("taken back completely").isEqualTo(before);
            return;
        }
        SnapshotInfo s1 = restarted.get(DOM, "s1");
        assertThat(s1.description()).isEqualTo("crash test");
        assertThat(s1.parent()).isEqualTo("s0");
        assertThat(s1.disks()).extracting(d -> d.vdev() + ":" + d.kind())
                .containsExactly("xvda:INTERNAL", "xvdb:EXTERNAL", "xvdc:EXTERNAL");
        assertThat(restarted.list(DOM).current()).isEqualTo("s1");
        if (step != Point.AFTER_POINT_OF_NO_RETURN) {
            return;
        }
        // the snapshot finished from the most pending state is a real one: the guest writes on, and a revert brings
        // back the snapshot's data
        for (String vdev : List.of("xvda", "xvdb", "xvdc")) {
            dom0.guestWrites(DOMID, vdev, 0x99);
        }
        dom0.shutDown(DOMID, qemu);
        RevertResult r = restarted.revert(DomainRef.shutOff(Dom0.uuid(DOMID), List.of()), "s1");
        assertData(top(r, "xvda"), 0x41);
        assertData(top(r, "xvdb"), 0x42);
        assertData(top(r, "xvdc"), 0x43);
    }

    /**
     * A live create's result is appended without a flush; a power loss before the kernel writes it back loses that
     * record (cut off here), and the durable mark before it must bring back the same snapshot through reconcile.
     */
    @Test
    void aCreateWhoseUnflushedResultALossOfPowerTookIsFinishedByReconcile() throws Exception {
        SnapshotInfo made = dom0.engine().create(new SnapshotRequest(DOM, "s1", "lost result",
                List.of(DiskSpec.internal("xvda"), DiskSpec.external("xvdb", null))));
        Path journal = new io.xensnap.internal.catalog.CatalogStore(dom0.state).journalFile(Dom0.uuid(DOMID));
        byte[] whole = java.nio.file.Files.readAllBytes(journal);
        java.nio.file.Files.write(journal, java.util.Arrays.copyOf(whole, whole.length - 4096));

        SnapshotEngine restarted = dom0.engine();
        ReconcileReport report = restarted.reconcile(DOM);

        assertThat(report.findings()).as(report.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.CREATE_FINISHED))
                .satisfies(f -> assertThat(f.repaired()).isTrue());
        assertThat(restarted.reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertViewsAgree(dom0, DOMID);
        SnapshotInfo s1 = restarted.get(DOM, "s1");
        assertThat(s1.description()).isEqualTo(made.description());
        assertThat(s1.parent()).isEqualTo(made.parent());
        assertThat(s1.disks()).isEqualTo(made.disks());
        assertThat(restarted.list(DOM).current()).isEqualTo("s1");
    }

    @ParameterizedTest
    @EnumSource(value = Point.class, names = {"BEFORE_MERGE", "AFTER_MERGE", "BEFORE_DELETE_COMMIT"})
    void aLiveDeleteStoppedAtEachStepIsFinishedOrTakenBack(Point step) throws Exception {
        SnapshotEngine engine = dom0.engine();
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvdb"),
                DiskSpec.external("xvdc", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdb", 0x72);
        dom0.guestWrites(DOMID, "xvdc", 0x73);
        String before = dom0.fingerprint();

        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(step)).delete(DOM, "s1"))
                .isInstanceOf(SimulatedCrash.class);
        SnapshotEngine restarted = dom0.engine();
        ReconcileReport report = restarted.reconcile(DOM);

        Code expected = step == Point.BEFORE_MERGE ? Code.DELETE_ROLLED_BACK : Code.DELETE_FINISHED;
        assertThat(report.findings()).as(report.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(expected))
                .satisfies(f -> assertThat(f.repaired()).isTrue());
        assertThat(restarted.reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertData(Path.of(dom0.rootFile(DOMID, "xvdb")), 0x72);
        assertData(Path.of(dom0.rootFile(DOMID, "xvdc")), 0x73);
        if (step == Point.BEFORE_MERGE) {
            assertThat(dom0.fingerprint()).as("the snapshot is intact, the mark gone").isEqualTo(before);
            assertThat(restarted.get(DOM, "s1").disks()).hasSize(2);
            return;
        }
        assertThat(restarted.list(DOM).get("s1")).isEmpty();
        assertThat(dom0.rootFile(DOMID, "xvdc")).isEqualTo(image(2).toString());
        assertThat(overlay).doesNotExist();
        assertThat(dom0.internalSnapshots(DOMID, "xvdb")).isEmpty();
        assertData(image(2), 0x73);
    }

    @ParameterizedTest
    @EnumSource(value = Point.class, names = {"BEFORE_MERGE", "BEFORE_DELETE_COMMIT"})
    void anOfflineDeleteStoppedAtEachStepIsFinishedOrTakenBack(Point step) throws Exception {
        SnapshotEngine engine = dom0.engine();
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvdb"),
                DiskSpec.external("xvdc", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x73);
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());

        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(step)).delete(off, "s1"))
                .isInstanceOf(SimulatedCrash.class);
        SnapshotEngine restarted = dom0.engine();
        ReconcileReport report = restarted.reconcile(off);

        Code expected = step == Point.BEFORE_MERGE ? Code.DELETE_ROLLED_BACK : Code.DELETE_FINISHED;
        assertThat(report.findings()).as(report.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(expected))
                .satisfies(f -> assertThat(f.repaired()).isTrue());
        assertThat(restarted.reconcile(off).lines()).as("a second reconcile").isEmpty();
        assertData(image(1), 0x42);
        if (step == Point.BEFORE_MERGE) {
            assertThat(restarted.list(off).snapshots()).extracting(SnapshotInfo::name).containsExactly("s0", "s1");
            assertThat(Dom0.chain(overlay)).containsExactly(overlay.toString(), image(2).toString());
            assertData(overlay, 0x73);
            return;
        }
        assertThat(restarted.list(off).snapshots()).extracting(SnapshotInfo::name).containsExactly("s0");
        assertThat(overlay).doesNotExist();
        assertThat(Faults.catalogDisks(dom0, DOMID)).contains(
                new DiskImage("xvdc", image(2), DiskFormat.RAW));
        assertThat(Dom0.chain(image(1))).containsExactly(image(1).toString());
        assertData(image(2), 0x73);
        assertThat(ShortCommand.ok("qemu-img", "snapshot", "-l", image(1).toString()).output())
                .doesNotContain("s1");
    }

    /**
     * s1 and s2 external on xvdc, the guest writing 0x51 between them and 0x52 after: deleting s1 is the small merge
     * of s1's overlay down into the raw base.
     *
     * @return s1's overlay, s2's overlay
     */
    private List<Path> olderAndNewer() throws Exception {
        SnapshotEngine engine = dom0.engine();
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov1 = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x51);
        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov2 = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x52);
        return List.of(ov1, ov2);
    }

    /** The small merge finished: s1 gone, s2 freezing the base, ov2 on the base, the data of both instants kept. */
    private void assertMergedDown(SnapshotEngine engine, DomainRef ref, Path ov1, Path ov2) throws Exception {
        assertThat(engine.list(ref).snapshots()).extracting(SnapshotInfo::name).containsExactly("s0", "s2");
        assertThat(engine.get(ref, "s2").disks()).singleElement().satisfies(d -> {
            assertThat(d.image()).isEqualTo(image(2));
            assertThat(d.format()).isEqualTo(DiskFormat.RAW);
            assertThat(d.overlay()).isEqualTo(ov2);
        });
        assertThat(ov1).doesNotExist();
        assertThat(Dom0.chain(ov2)).containsExactly(ov2.toString(), image(2).toString());
        assertThat(RealQemu.hasPattern(image(2), RealQemu.Format.RAW, 0x51)).as("s2's instant").isTrue();
        assertData(ov2, 0x52);
    }

    @ParameterizedTest
    @EnumSource(value = Point.class, names = {"BEFORE_MERGE", "MERGING", "AFTER_MERGE", "BEFORE_DELETE_COMMIT"})
    void aLiveSmallMergeStoppedAtEachStepIsFinishedOrTakenBack(Point step) throws Exception {
        List<Path> ovs = olderAndNewer();
        String before = dom0.fingerprint();

        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(step)).delete(DOM, "s1"))
                .isInstanceOf(SimulatedCrash.class);
        SnapshotEngine restarted = dom0.engine();
        ReconcileReport report = restarted.reconcile(DOM);

        Code expected = step == Point.BEFORE_MERGE ? Code.DELETE_ROLLED_BACK : Code.DELETE_FINISHED;
        assertThat(report.findings()).as(report.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(expected))
                .satisfies(f -> assertThat(f.repaired()).isTrue());
        assertThat(restarted.reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertThat(jobs()).as("no job left in QEMU").isEmpty();
        assertViewsAgree(dom0, DOMID);
        if (step == Point.BEFORE_MERGE) {
            assertThat(dom0.fingerprint()).as("the snapshot is intact, the mark gone").isEqualTo(before);
            return;
        }
        assertThat(dom0.rootFile(DOMID, "xvdc")).as("the disk stays on its top").isEqualTo(ovs.get(1).toString());
        assertMergedDown(restarted, DOM, ovs.get(0), ovs.get(1));
    }

    /**
     * The process dies while the small merge's job runs in QEMU, held back by a merge speed of one byte a second:
     * reconcile adopts the job (gives it the speed configured now, unlimited), waits for it to end and finishes.
     */
    @Test
    void aSmallMergeJobACrashLeftRunningInQemuIsAdoptedAndTheDeleteFinished() throws Exception {
        SnapshotEngine engine = dom0.engine();
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov1 = Path.of(dom0.rootFile(DOMID, "xvdc"));
        // more than the one slice a job copies before its speed limit holds it back
        dom0.guestWrites(DOMID, "xvdc", 0x51, 0, 32L << 20);
        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov2 = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x52);
        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(Point.MERGING), java.time.Duration.ofSeconds(30), 1)
                .delete(DOM, "s1")).isInstanceOf(SimulatedCrash.class);
        assertThat(jobs()).as("the job the crash left").singleElement()
                .satisfies(j -> assertThat(j.path("status").asText()).isEqualTo("running"));

        SnapshotEngine restarted = dom0.engine();
        ReconcileReport report = restarted.reconcile(DOM);

        assertThat(report.findings()).as(report.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.DELETE_FINISHED);
            assertThat(f.detail()).contains("completed the merge job");
        });
        assertThat(jobs()).isEmpty();
        assertThat(restarted.reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertMergedDown(restarted, DOM, ov1, ov2);
    }

    /** The merge ran in QEMU, then the domain shut down before reconcile: QEMU had rebased ov2, ov1 is left over. */
    @ParameterizedTest
    @EnumSource(value = Point.class, names = {"MERGING", "AFTER_MERGE"})
    void aLiveSmallMergeCutShortByACrashAndAShutdownIsFinishedFromTheHeaders(Point step) throws Exception {
        List<Path> ovs = olderAndNewer();
        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(step)).delete(DOM, "s1"))
                .isInstanceOf(SimulatedCrash.class);
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());

        SnapshotEngine restarted = dom0.engine();
        ReconcileReport report = restarted.reconcile(off);

        assertThat(report.findings()).as(report.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.DELETE_FINISHED));
        assertThat(restarted.reconcile(off).lines()).as("a second reconcile").isEmpty();
        assertMergedDown(restarted, off, ovs.get(0), ovs.get(1));
    }

    @ParameterizedTest
    @EnumSource(value = Point.class, names = {"BEFORE_MERGE", "MERGING", "BEFORE_DELETE_COMMIT"})
    void anOfflineSmallMergeStoppedAtEachStepIsFinishedOrTakenBack(Point step) throws Exception {
        List<Path> ovs = olderAndNewer();
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());
        String before = dom0.fingerprint();

        // MERGING: the older overlay is committed into the base, the newer one not yet rebased onto it
        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(step)).delete(off, "s1"))
                .isInstanceOf(SimulatedCrash.class);
        SnapshotEngine restarted = dom0.engine();
        ReconcileReport report = restarted.reconcile(off);

        Code expected = step == Point.BEFORE_MERGE ? Code.DELETE_ROLLED_BACK : Code.DELETE_FINISHED;
        assertThat(report.findings()).as(report.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(expected))
                .satisfies(f -> assertThat(f.repaired()).isTrue());
        assertThat(restarted.reconcile(off).lines()).as("a second reconcile").isEmpty();
        if (step == Point.BEFORE_MERGE) {
            assertThat(dom0.fingerprint()).as("the snapshot is intact, the mark gone").isEqualTo(before);
            return;
        }
        assertThat(Faults.catalogDisks(dom0, DOMID)).contains(new DiskImage("xvdc", ovs.get(1), DiskFormat.QCOW2));
        assertMergedDown(restarted, off, ovs.get(0), ovs.get(1));
    }

    /**
     * The reported case: the process dies (kill -9) after the catalog marked xvdc's merge as begun, with QEMU holding
     * the merge job ready for the switch. Reconcile completes the job as the delete would have and finishes the
     * delete.
     */
    @Test
    void aMergeJobACrashLeftReadyInQemuIsCompletedAndTheDeleteFinished() throws Exception {
        SnapshotEngine engine = dom0.engine();
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvdb"),
                DiskSpec.external("xvdc", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x73);
        EngineHooks dieWhenReady = new EngineHooks() {
            @Override
            public void merging(String domainUuid, String snapshot, String vdev, String status) {
                if (status.equals("ready")) {
                    throw new SimulatedCrash("with the merge of " + vdev + " ready in QEMU");
                }
            }
        };
        assertThatThrownBy(() -> dom0.engine(dieWhenReady).delete(DOM, "s1")).isInstanceOf(SimulatedCrash.class);
        assertThat(jobs()).as("the job the crash left").singleElement().satisfies(j -> {
            assertThat(j.path("id").asText()).startsWith("xensnap-merge-").endsWith("-xvdc");
            assertThat(j.path("status").asText()).isEqualTo("ready");
        });

        SnapshotEngine restarted = dom0.engine();
        ReconcileReport report = restarted.reconcile(DOM);

        assertThat(report.findings()).as(report.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.DELETE_FINISHED);
            assertThat(f.repaired()).isTrue();
            assertThat(f.detail()).contains("completed the merge job");
        });
        assertThat(jobs()).as("no job left in QEMU").isEmpty();
        assertThat(restarted.reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertThat(restarted.list(DOM).get("s1")).isEmpty();
        assertThat(dom0.rootFile(DOMID, "xvdc")).isEqualTo(image(2).toString());
        assertThat(overlay).doesNotExist();
        assertThat(dom0.internalSnapshots(DOMID, "xvdb")).isEmpty();
        assertData(image(2), 0x73);
        assertData(Path.of(dom0.rootFile(DOMID, "xvda")), 0x41);
        assertData(Path.of(dom0.rootFile(DOMID, "xvdb")), 0x42);
    }

    /**
     * A merge job of ours still running, or paused, after a crash: reconcile waits for it within the job timeout;
     * one that stays running longer, or that someone paused, is reported and left as it is, and the delete is finished
     * once the job can be completed.
     */
    @Test
    void aMergeJobStillRunningOrPausedIsLeftAndReportedUntilItCanBeCompleted() throws Exception {
        SnapshotEngine engine = dom0.engine();
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        // more than the one slice a job copies before its speed limit holds it back
        String qdev = dom0.device(DOMID, "xvdc").path("qdev").asText();
        qmp("{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io -d " + qdev
                + " \\\"write -P 0x74 0 32M\\\"\"}}");
        qmp("{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io -d " + qdev
                + " flush\"}}");
        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(Point.MERGING)).delete(DOM, "s1"))
                .isInstanceOf(SimulatedCrash.class);
        // The engine's merge reaches ready within milliseconds, faster than anything can slow it from
        // outside. So it is replaced by the same job (same id, same arguments) started at one byte a second: what a
        // process that died right after starting a large merge leaves.
        String id = jobs().get(0).path("id").asText();
        qmp("{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"" + id + "\"}}");
        awaitStatus(id, "concluded");
        qmp("{\"execute\":\"job-dismiss\",\"arguments\":{\"id\":\"" + id + "\"}}");
        String node = dom0.device(DOMID, "xvdc").path("inserted").path("node-name").asText();
        qmp("{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"" + id + "\",\"device\":\"" + node
                + "\",\"speed\":1,\"auto-dismiss\":false}}");
        qmp("{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"" + id + "\"}}");
        awaitStatus(id, "paused");

        String before = dom0.fingerprint();
        ReconcileReport paused = dom0.engine().reconcile(DOM);
        assertThat(paused.findings()).as(paused.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.DELETE_AMBIGUOUS);
            assertThat(f.repaired()).isFalse();
            assertThat(f.detail()).contains(id).contains("paused");
        });
        assertThat(dom0.fingerprint()).as("nothing touched").isEqualTo(before);

        qmp("{\"execute\":\"job-resume\",\"arguments\":{\"id\":\"" + id + "\"}}");
        awaitStatus(id, "running");
        // reconcile gives a job it adopts the configured merge speed: configured as slow as the job, it stays running
        ReconcileReport running = dom0.engine(EngineHooks.NONE, java.time.Duration.ofSeconds(1), 1).reconcile(DOM);
        assertThat(running.findings()).as(running.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.DELETE_AMBIGUOUS);
            assertThat(f.detail()).contains(id).contains("still running").contains("left running");
        });
        assertThat(jobs()).singleElement().satisfies(j -> assertThat(j.path("status").asText()).isEqualTo("running"));
        assertThat(dom0.engine().get(DOM, "s1").disks()).hasSize(1);

        // at full speed it becomes ready while reconcile waits, and is completed
        qmp("{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"" + id + "\",\"speed\":0}}");
        ReconcileReport done = dom0.engine().reconcile(DOM);
        assertThat(done.findings()).as(done.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.DELETE_FINISHED));
        assertThat(jobs()).isEmpty();
        assertThat(dom0.engine().reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertThat(dom0.rootFile(DOMID, "xvdc")).isEqualTo(image(2).toString());
        assertData(image(2), 0x74);
    }

    /**
     * The merge a crash left was cancelled by hand (the frozen image already changed, the disk still on its overlay):
     * reconcile starts the merge again itself, waits for it outside libxl's locks and then finishes the delete.
     */
    @Test
    void aMergeCancelledAfterACrashIsStartedAgainByReconcileAndFinished() throws Exception {
        SnapshotEngine engine = dom0.engine();
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        dom0.guestWrites(DOMID, "xvdc", 0x75);
        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(Point.MERGING)).delete(DOM, "s1"))
                .isInstanceOf(SimulatedCrash.class);
        String id = jobs().get(0).path("id").asText();
        qmp("{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"" + id + "\"}}");
        awaitStatus(id, "concluded");

        ReconcileReport report = dom0.engine().reconcile(DOM);

        assertThat(report.findings()).as(report.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.DELETE_FINISHED);
            assertThat(f.repaired()).isTrue();
            assertThat(f.detail()).contains("completed the merge job " + id);
        });
        assertThat(jobs()).as("no job left in QEMU").isEmpty();
        assertThat(dom0.engine().reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertThat(dom0.rootFile(DOMID, "xvdc")).isEqualTo(image(2).toString());
        assertData(image(2), 0x75);
    }

    private void awaitStatus(String id, String status) throws Exception {
        long end = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
        String now = null;
        while (System.nanoTime() < end) {
            now = null;
            for (com.fasterxml.jackson.databind.JsonNode j : jobs()) {
                if (j.path("id").asText().equals(id)) {
                    now = j.path("status").asText();
                }
            }
            if (status.equals(now)) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("job " + id + " is " + now + ", not " + status);
    }

    private java.util.List<com.fasterxml.jackson.databind.JsonNode> jobs() throws Exception {
        java.util.List<com.fasterxml.jackson.databind.JsonNode> out = new java.util.ArrayList<>();
        Dom0.JSON.readTree(qmp("{\"execute\":\"query-jobs\"}")).get("return").forEach(out::add);
        return out;
    }

    private String qmp(String command) throws Exception {
        String reply = RawQmp.execute(dom0.host.qmpSocketPath(DOMID),
                java.time.Duration.ofSeconds(5), command);
        assertThat(reply).as(command).contains("\"return\"");
        return reply;
    }

    private static Path top(RevertResult r, String vdev) {
        return r.disks().stream().filter(d -> d.vdev().equals(vdev)).findFirst().orElseThrow().image();
    }
}
