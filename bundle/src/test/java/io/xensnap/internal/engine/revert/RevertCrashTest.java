package io.xensnap.internal.engine.revert;

import static io.xensnap.internal.engine.Faults.assertData;
import static io.xensnap.internal.engine.Faults.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.Dom0;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.Faults;
import io.xensnap.internal.engine.Faults.SimulatedCrash;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;

/**
 * The process dies after each step of a revert of a shut-off domain (a hook throws an {@link Error}: no undo runs,
 * and with two threads the other disk's step of the same phase may still finish). A new engine reconciles: a revert
 * that had not committed is taken back to the state before it, one that had is finished; either way nothing temporary
 * is left, the catalog and the image headers agree, and the guest's data is checked by content. What reconcile cannot
 * prove is reported and not touched.
 */
class RevertCrashTest {

    private static final int DOMID = 7;
    private static final DomainRef OFF = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());

    /** The two reverts under test and the steps each one runs ({@link EngineHooks#revertStep}). */
    enum Scenario {
        /** xvda and xvdb hold internal snapshot s1: undo points, apply, cleanup of the undo points. */
        INTERNAL(List.of("marked", "undo xvda", "undo xvdb", "undo points marked", "applied xvda", "applied xvdb",
                "committed", "cleaned xvda", "cleaned xvdb")),
        /**
         * s1 is external on all three disks, and s2 an internal snapshot inside xvdb's overlay: xvda's and xvdc's
         * overlays are set aside and replaced at their paths, xvdb (its overlay frozen by s2) gets a new one.
         */
        EXTERNAL(List.of("marked", "set aside xvda", "applied xvda", "applied xvdb", "set aside xvdc", "applied xvdc",
                "committed", "cleaned xvda", "cleaned xvdc"));

        final List<String> steps;

        Scenario(List<String> steps) {
            this.steps = steps;
        }

        boolean committedAfter(String step) {
            return steps.indexOf(step) >= steps.indexOf("committed");
        }
    }

    private Dom0 dom0;

    /**
     * The domain is shut off from the start: its images are made here (xvda, xvdb qcow2, xvdc raw, holding 0x41,
     * 0x42, 0x43 over the first MiB, as a {@link Dom0} domain's) and its snapshots taken offline, which is all a
     * revert sees and much cheaper than a QEMU per case.
     */
    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        Files.createDirectories(image(0).getParent());
        for (int disk = 0; disk < 3; disk++) {
            String format = disk == 2 ? "raw" : "qcow2";
            ShortCommand.ok("qemu-img", "create", "-q", "-f", format, image(disk).toString(), "64M");
            write(image(disk), 0x41 + disk, "0 1M");
        }
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    static Stream<Arguments> everyStep() {
        List<Arguments> all = new ArrayList<>();
        for (Scenario s : Scenario.values()) {
            s.steps.forEach(step -> all.add(Arguments.of(s, step)));
        }
        return all.stream();
    }

    @ParameterizedTest
    @EnumSource(Scenario.class)
    void aRevertRunsExactlyTheseStepsAndLeavesNothingBehind(Scenario scenario) throws Exception {
        setUp(scenario);
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        EngineHooks recording = new EngineHooks() {
            @Override
            public void revertStep(String domainUuid, String snapshot, String step) {
                seen.add(step);
            }
        };

        dom0.engine(recording).revert(OFF, "s1");

        assertThat(seen).containsExactlyInAnyOrderElementsOf(scenario.steps);
        assertReverted(scenario);
    }

    @ParameterizedTest(name = "{0} revert stopped after {1}")
    @MethodSource("everyStep")
    void aRevertStoppedAfterEachStepIsTakenBackOrFinishedByReconcile(Scenario scenario, String step) throws Exception {
        setUp(scenario);
        boolean committed = scenario.committedAfter(step);
        String before = committed ? "" : dom0.fingerprint();
        String peers = peerState();

        assertThatThrownBy(() -> dom0.engine(crashAfter(step)).revert(OFF, "s1")).isInstanceOf(SimulatedCrash.class);
        SnapshotEngine restarted = dom0.engine();
        assertThat(code(() -> restarted.revert(OFF, "s1"))).as("an unreconciled domain refuses new work")
                .isEqualTo(SnapshotError.INVALID_STATE);
        ReconcileReport report = restarted.reconcile(OFF);

        assertThat(report.findings()).as(report.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code())
                        .isEqualTo(committed ? Code.REVERT_FINISHED : Code.REVERT_ROLLED_BACK))
                .satisfies(f -> assertThat(f.repaired()).isTrue());
        assertThat(restarted.reconcile(OFF).lines()).as("a second reconcile").isEmpty();
        assertThat(peerState()).as("xenstore and libxl's files are not a shut-off revert's business").isEqualTo(peers);
        if (committed) {
            assertReverted(scenario);
            return;
        }
        assertThat(dom0.fingerprint()).as("taken back completely").isEqualTo(before);
        assertNothingTemporary();
        assertHeadersAgree(restarted);
        assertBeforeRevert(scenario);
        if (scenario.steps.indexOf(step) == scenario.steps.indexOf("committed") - 1) {
            // taken back from the most changed state, the revert can be made again, to the end
            restarted.revert(OFF, "s1");
            assertReverted(scenario);
        }
    }

    @Test
    void aMissingUndoSnapshotIsReportedAndNothingIsTouched() throws Exception {
        setUp(Scenario.INTERNAL);
        crash(Scenario.INTERNAL, "applied xvdb");
        String tag = pending().undoTag();
        ShortCommand.ok("qemu-img", "snapshot", "-d", tag, image(0).toString());

        assertAmbiguous("the undo snapshot " + tag + " is missing from " + image(0));
    }

    @Test
    void anInternalDiskWrittenSinceTheCrashIsReportedAndNothingIsTouched() throws Exception {
        setUp(Scenario.INTERNAL);
        crash(Scenario.INTERNAL, "applied xvdb");
        // as the domain would, had it run: applying the undo snapshot would throw this write away
        write(image(0), 0x77, "4M 4k");

        assertAmbiguous(image(0) + " was written after the revert's last step on it");
    }

    @Test
    void aNewOverlayWrittenSinceTheCrashIsReportedAndNothingIsTouched() throws Exception {
        setUp(Scenario.EXTERNAL);
        crash(Scenario.EXTERNAL, "applied xvdb");
        Path fresh = image(1).resolveSibling("disk1.s1-revert.qcow2");
        write(fresh, 0x77, "4M 4k");

        assertAmbiguous(fresh + " is not the empty overlay on " + image(1));
    }

    @Test
    void aDomainRunningAgainSinceTheCrashIsReportedAndNothingIsTouched() throws Exception {
        setUp(Scenario.INTERNAL);
        crash(Scenario.INTERNAL, "applied xvda");
        dom0.restart(8, DOMID, List.of(image(0), image(1), image(2)),
                List.of(RealQemu.Format.QCOW2, RealQemu.Format.QCOW2, RealQemu.Format.RAW));
        String before = dom0.fingerprint();

        ReconcileReport report = dom0.engine().reconcile(DomainRef.running(8));

        assertThat(report.findings()).as(report.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.REVERT_AMBIGUOUS);
            assertThat(f.repaired()).isFalse();
            assertThat(f.detail()).contains("runs again as domid 8");
        });
        assertThat(dom0.fingerprint()).as("nothing touched").isEqualTo(before);
        assertThat(pending().kind()).isEqualTo(PendingOperation.Kind.REVERT);
    }

    /** Root ignores permission bits, so one image is made immutable: its undo point cannot be taken. */
    @Test
    void aRevertThatFailsOnOneDiskPutsTheOthersBackAndClearsItsMark() throws Exception {
        setUp(Scenario.INTERNAL);
        String before = dom0.fingerprint();
        String chattr = Prerequisite.CHATTR.require().toString();
        ShortCommand.ok(chattr, "+i", image(1).toString());
        try {
            assertThatThrownBy(() -> dom0.engine().revert(OFF, "s1")).isInstanceOf(SnapshotException.class)
                    .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.TOOL_FAILED))
                    .satisfies(e -> assertThat(e.getSuppressed()).isEmpty());
        } finally {
            ShortCommand.ok(chattr, "-i", image(1).toString());
        }
        assertThat(dom0.fingerprint()).isEqualTo(before);
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).pending()).isEmpty();
        assertBeforeRevert(Scenario.INTERNAL);
    }

    private void setUp(Scenario scenario) throws Exception {
        SnapshotEngine engine = dom0.engine();
        DomainRef first = DomainRef.shutOff(Dom0.uuid(DOMID), List.of(
                new DiskImage("xvda", image(0), DiskFormat.QCOW2), new DiskImage("xvdb", image(1), DiskFormat.QCOW2),
                new DiskImage("xvdc", image(2), DiskFormat.RAW)));
        List<Path> tops;
        if (scenario == Scenario.INTERNAL) {
            engine.create(new SnapshotRequest(first, "s1", "", List.of(DiskSpec.internal("xvda"),
                    DiskSpec.internal("xvdb"))));
            tops = List.of(image(0), image(1), image(2));
        } else {
            engine.create(new SnapshotRequest(first, "s1", "", List.of(DiskSpec.external("xvda", null),
                    DiskSpec.external("xvdb", null), DiskSpec.external("xvdc", null))));
            write(overlay(1), 0x55, "0 1M");
            engine.create(new SnapshotRequest(OFF, "s2", "", List.of(DiskSpec.internal("xvdb"))));
            tops = List.of(overlay(0), overlay(1), overlay(2));
        }
        for (int disk = 0; disk < 3; disk++) {
            write(tops.get(disk), 0x91 + disk, "0 1M");
        }
    }

    /** What the guest would write: {@code pattern} over {@code range} ("offset length") of the disk on top {@code top}. */
    private static void write(Path top, int pattern, String range) {
        ShortCommand.ok("qemu-io", "-f", top.toString().endsWith(".raw") ? "raw" : "qcow2", "-c",
                "write -P 0x" + Integer.toHexString(pattern) + " " + range, top.toString());
    }

    private void crash(Scenario scenario, String step) {
        assertThat(scenario.steps).contains(step);
        assertThatThrownBy(() -> dom0.engine(crashAfter(step)).revert(OFF, "s1")).isInstanceOf(SimulatedCrash.class);
    }

    private void assertAmbiguous(String detail) throws Exception {
        String before = dom0.fingerprint();
        ReconcileReport report = dom0.engine().reconcile(OFF);
        assertThat(report.findings()).as(report.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.REVERT_AMBIGUOUS);
            assertThat(f.repaired()).isFalse();
            assertThat(f.detail()).contains(detail).contains("nothing was touched");
        });
        assertThat(dom0.fingerprint()).as("nothing touched").isEqualTo(before);
        assertThat(pending().kind()).as("the mark stays").isEqualTo(PendingOperation.Kind.REVERT);
    }

    private static EngineHooks crashAfter(String step) {
        return new EngineHooks() {
            @Override
            public void revertStep(String domainUuid, String snapshot, String done) {
                if (done.equals(step)) {
                    throw new SimulatedCrash("after " + step);
                }
            }
        };
    }

    private Path image(int disk) {
        return dom0.images.resolve("vm" + DOMID).resolve(disk == 2 ? "disk2.raw" : "disk" + disk + ".qcow2");
    }

    private Path overlay(int disk) {
        return image(disk).resolveSibling("disk" + disk + ".s1.qcow2");
    }

    private PendingOperation pending() throws Exception {
        return new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).pending().orElseThrow();
    }

    /** The disks before the revert: the patterns the guest wrote last, on the tops it wrote them to. */
    private void assertBeforeRevert(Scenario scenario) throws Exception {
        List<Path> tops = scenario == Scenario.INTERNAL ? List.of(image(0), image(1), image(2))
                : List.of(overlay(0), overlay(1), overlay(2));
        assertThat(Faults.catalogDisks(dom0, DOMID)).extracting(DiskImage::image).containsExactlyElementsOf(tops);
        assertData(tops.get(0), 0x91);
        assertData(tops.get(1), 0x92);
        assertData(tops.get(2), 0x93);
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).current())
                .isEqualTo(scenario == Scenario.INTERNAL ? "s1" : "s2");
    }

    /** The disks after the revert: s1's data on the tops the revert gives, and everything consistent. */
    private void assertReverted(Scenario scenario) throws Exception {
        SnapshotEngine engine = dom0.engine();
        List<Path> tops = scenario == Scenario.INTERNAL ? List.of(image(0), image(1), image(2))
                : List.of(overlay(0), image(1).resolveSibling("disk1.s1-revert.qcow2"), overlay(2));
        assertThat(Faults.catalogDisks(dom0, DOMID)).extracting(DiskImage::image).containsExactlyElementsOf(tops);
        assertThat(engine.list(OFF).current()).isEqualTo("s1");
        assertData(tops.get(0), 0x41);
        assertData(tops.get(1), 0x42);
        assertData(tops.get(2), scenario == Scenario.INTERNAL ? 0x93 : 0x43);
        if (scenario == Scenario.EXTERNAL) {
            assertData(overlay(1), 0x92);
            assertThat(Dom0.chain(overlay(1))).as("s2's frozen overlay")
                    .containsExactly(overlay(1).toString(), image(1).toString());
        }
        assertNothingTemporary();
        assertHeadersAgree(engine);
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).pending()).isEmpty();
        assertThat(engine.reconcile(OFF).lines()).as("reconcile after the revert").isEmpty();
    }

    /** No undo snapshot in any image and no set-aside file anywhere below the images. */
    private void assertNothingTemporary() throws Exception {
        try (Stream<Path> files = Files.walk(dom0.images)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = f.getFileName().toString();
                assertThat(name).as("a temporary file").doesNotContain("xensnap");
                if (name.endsWith(".qcow2")) {
                    assertThat(ShortCommand.ok("qemu-img", "snapshot", "-U", "-l", f.toString()).output())
                            .as("snapshots of " + f).doesNotContain("xensnap-undo");
                }
            }
        }
    }

    /** Every image the catalog names exists, and its header's chain is the one the catalog's snapshots made. */
    private void assertHeadersAgree(SnapshotEngine engine) throws Exception {
        for (DiskImage d : Faults.catalogDisks(dom0, DOMID)) {
            assertThat(d.image()).exists();
            List<String> chain = Dom0.chain(d.image());
            int disk = d.vdev().charAt(3) - 'a';
            if (d.image().equals(image(disk))) {
                assertThat(chain).containsExactly(image(disk).toString());
            } else {
                assertThat(chain).as(d.vdev()).containsExactly(d.image().toString(), image(disk).toString());
            }
        }
    }

    /** xenstore's whole tree and every file of libxl's directory. */
    private String peerState() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> files = Files.list(dom0.host.libxlDir())) {
            for (Path f : files.sorted().toList()) {
                md.update(f.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                if (Files.isRegularFile(f)) {
                    md.update(Files.readAllBytes(f));
                }
            }
        }
        return dom0.host.cli().lsFullWithPerms("/") + HexFormat.of().formatHex(md.digest());
    }
}
