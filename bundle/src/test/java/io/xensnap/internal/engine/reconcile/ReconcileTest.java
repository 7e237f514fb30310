package io.xensnap.internal.engine.reconcile;

import static io.xensnap.internal.engine.Faults.assertViewsAgree;
import static io.xensnap.internal.engine.Faults.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.Devid;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.Dom0;
import io.xensnap.internal.engine.Faults;
import io.xensnap.internal.engine.Faults.Point;
import io.xensnap.internal.engine.Faults.SimulatedCrash;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;

/** Reconcile repairs what it can prove and reports, without touching, what it cannot. */
class ReconcileTest {

    private static final int DOMID = 7;
    private static final DomainRef DOM = DomainRef.running(DOMID);

    private Dom0 dom0;
    private RealQemu qemu;
    private SnapshotEngine engine;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        qemu = dom0.domain(DOMID);
        engine = dom0.engine();
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    private Path image(int disk) {
        return qemu.disk(disk).image();
    }

    @Test
    void afterOrdinaryOperationsEveryViewAgrees() throws Exception {
        assertThat(engine.reconcile(DOM).lines()).as("never snapshotted").isEmpty();
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvda", null),
                DiskSpec.internal("xvdb"))));
        engine.create(SnapshotRequest.allDisks(DOM, "s2", ""));
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
        engine.delete(DOM, "s2");
        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.external("xvdc", null))));
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
        engine.delete(DOM, "s2");
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertThat(engine.reconcileAll()).singleElement().satisfies(r -> assertThat(r.clean()).isTrue());

        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());
        assertThat(engine.reconcile(off).lines()).as("shut off").isEmpty();
        engine.revert(off, "s1");
        assertThat(engine.reconcile(off).lines()).as("after a revert").isEmpty();
    }

    @Test
    void anEmptyOverlayOfOursThatNothingReferencesIsRemovedAndOneWithDataIsKept() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"))));
        Path dir = image(0).getParent();
        Path empty = dir.resolve("disk0.lost.qcow2");
        Path withData = dir.resolve("disk1.lost.qcow2");
        Path notOurName = dir.resolve("someones-overlay.qcow2");
        Path underAnother = dir.resolve("disk2.chained.qcow2");
        Path another = dir.resolve("user-top.qcow2");
        overlay(empty, image(0), "qcow2");
        overlay(withData, image(1), "qcow2");
        ShortCommand.ok("qemu-io", "-f", "qcow2", "-c", "write -P 0x66 0 64k", withData.toString());
        overlay(notOurName, image(0), "qcow2");
        overlay(underAnother, image(2), "raw");
        overlay(another, underAnother, "qcow2");
        // as an interrupted operation leaves them: the catalog records the two overlays as made by xensnap
        CatalogStore store = new CatalogStore(dom0.state);
        store.save(store.load(Dom0.uuid(DOMID)).withMade(List.of(empty, withData)));
        Path tmp = store.tempFile(Dom0.uuid(DOMID));
        Files.writeString(tmp, "{\"half\":");

        ReconcileReport r = engine.reconcile(DOM);

        assertThat(r.lines()).as(r.lines().toString()).hasSize(3);
        assertThat(r.findings()).anySatisfy(f -> {
            assertThat(f.code()).isEqualTo(Code.ORPHAN_REMOVED);
            assertThat(f.subject()).isEqualTo(empty.toString());
        }).anySatisfy(f -> {
            assertThat(f.code()).isEqualTo(Code.ORPHAN_KEPT);
            assertThat(f.subject()).isEqualTo(withData.toString());
            assertThat(f.repaired()).isFalse();
        }).anySatisfy(f -> assertThat(f.code()).isEqualTo(Code.CATALOG_TEMP_REMOVED));
        assertThat(empty).doesNotExist();
        assertThat(tmp).doesNotExist();
        assertThat(withData).exists();
        assertThat(notOurName).as("not named as xensnap names overlays").exists();
        assertThat(underAnother).as("another image's backing file").exists();
        assertThat(engine.reconcile(DOM).findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.ORPHAN_KEPT));
        assertThat(store.load(Dom0.uuid(DOMID)).made()).as("the removed file left the record")
                .doesNotContain(empty).contains(withData);
    }

    /**
     * The reported case: an operator's own overlay beside the image, named as xensnap names its overlays and with
     * nothing in its top layer. No catalog records xensnap making it, so it is reported and stays, at every reconcile.
     */
    @Test
    void anOperatorsOverlayNamedLikeOursIsReportedAndNeverRemoved() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"))));
        Path clone = image(0).resolveSibling("disk0.clone-for-vm2.qcow2");
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", image(0).toString(), "-F", "qcow2",
                clone.toString());
        String before = dom0.fingerprint();

        for (int i = 0; i < 2; i++) {
            ReconcileReport r = engine.reconcile(DOM);
            assertThat(r.findings()).as(r.lines().toString()).singleElement().satisfies(f -> {
                assertThat(f.code()).isEqualTo(Code.UNKNOWN_FILE);
                assertThat(f.repaired()).isFalse();
                assertThat(f.subject()).isEqualTo(clone.toString());
            });
        }
        assertThat(engine.reconcileAll()).singleElement().satisfies(r -> assertThat(r.findings())
                .extracting(ReconcileReport.Finding::code).containsExactly(Code.UNKNOWN_FILE));
        assertThat(clone).exists();
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    /** The catalog records a file before xensnap makes it, and keeps it recorded while it exists. */
    @Test
    void anOverlayIsRecordedBeforeItIsMadeAndAKeptOneStaysRecorded() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s0", "", List.of(DiskSpec.internal("xvda"))));
        Path planned = image(2).resolveSibling("disk2.s1.qcow2");
        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(Point.BEFORE_TRANSACTION)).create(new SnapshotRequest(
                DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))))).isInstanceOf(SimulatedCrash.class);
        CatalogStore store = new CatalogStore(dom0.state);
        // xensnap makes the overlay before the transaction, and records it before making it
        assertThat(planned).as("made before the transaction").isRegularFile();
        assertThat(store.load(Dom0.uuid(DOMID)).made()).as("recorded").contains(planned);

        // the overlay holds data (someone wrote into it since): the rollback keeps it, and its record too
        ShortCommand.ok("qemu-io", "-f", "qcow2", "-c", "write -P 0x66 0 64k", planned.toString());
        ReconcileReport r = engine.reconcile(DOM);
        assertThat(r.findings()).extracting(ReconcileReport.Finding::code)
                .containsExactly(Code.ORPHAN_KEPT, Code.CREATE_ROLLED_BACK, Code.ORPHAN_KEPT);
        assertThat(store.load(Dom0.uuid(DOMID)).pending()).isEmpty();
        assertThat(store.load(Dom0.uuid(DOMID)).made()).contains(planned);

        // once someone emptied it, it is provably nobody's: removed, and it leaves the record
        Files.delete(planned);
        overlay(planned, image(2), "raw");
        assertThat(engine.reconcile(DOM).findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.ORPHAN_REMOVED));
        assertThat(planned).doesNotExist();
        assertThat(store.load(Dom0.uuid(DOMID)).made()).doesNotContain(planned);
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
    }

    /** Snapshots and overlays no catalog records are reported, never removed; a lost catalog is not "clean". */
    @Test
    void snapshotsAndOverlaysNoCatalogKnowsAreReported() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"),
                DiskSpec.external("xvdc", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());
        assertThat(engine.reconcile(off).lines()).isEmpty();

        // an internal snapshot made by hand, and a revert's undo snapshot that outlived its revert
        ShortCommand.ok("qemu-img", "snapshot", "-c", "by-hand", image(1).toString());
        ShortCommand.ok("qemu-img", "snapshot", "-c", "xensnap-undo-1764999999999", image(0).toString());
        String before = dom0.fingerprint();
        ReconcileReport r = engine.reconcile(off);
        assertThat(r.findings()).as(r.lines().toString()).hasSize(2).allSatisfy(f -> {
            assertThat(f.code()).isEqualTo(Code.UNKNOWN_SNAPSHOT);
            assertThat(f.repaired()).isFalse();
        });
        assertThat(r.findings()).anySatisfy(f -> assertThat(f.subject()).contains("by-hand"))
                .anySatisfy(f -> {
                    assertThat(f.subject()).contains("xensnap-undo-1764999999999");
                    assertThat(f.detail()).contains("undo snapshot of a revert");
                });
        assertThat(dom0.fingerprint()).isEqualTo(before);
        ShortCommand.ok("qemu-img", "snapshot", "-d", "by-hand", image(1).toString());
        ShortCommand.ok("qemu-img", "snapshot", "-d", "xensnap-undo-1764999999999", image(0).toString());

        // the catalog file is lost: what it described is reported, with the loss
        Path file = new CatalogStore(dom0.state).file(Dom0.uuid(DOMID));
        Files.move(file, file.resolveSibling("saved"));
        List<DiskImage> disks = List.of(
                new DiskImage("xvda", image(0), DiskFormat.QCOW2),
                new DiskImage("xvdb", image(1), DiskFormat.QCOW2),
                new DiskImage("xvdc", overlay, DiskFormat.QCOW2));
        before = dom0.fingerprint();
        ReconcileReport lost = engine.reconcile(DomainRef.shutOff(Dom0.uuid(DOMID), disks));
        assertThat(lost.clean()).isFalse();
        assertThat(lost.findings()).as(lost.lines().toString()).extracting(ReconcileReport.Finding::code)
                .containsExactly(Code.UNKNOWN_SNAPSHOT, Code.UNKNOWN_OVERLAY, Code.CATALOG_MISSING);
        assertThat(lost.findings().get(0).subject()).contains(image(0).toString()).endsWith("s1");
        assertThat(lost.findings().get(1).subject()).contains(overlay.toString());
        assertThat(dom0.fingerprint()).isEqualTo(before);
        Files.move(file.resolveSibling("saved"), file);
        assertThat(engine.reconcile(off).lines()).isEmpty();
    }

    /** A running domain whose catalog is gone: QEMU's chains and snapshots are reported. */
    @Test
    void aRunningDomainWhoseCatalogIsGoneIsReportedNotClean() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvdb"),
                DiskSpec.external("xvdc", null))));
        Files.delete(new CatalogStore(dom0.state).file(Dom0.uuid(DOMID)));
        String before = dom0.fingerprint();

        ReconcileReport r = engine.reconcile(DOM);

        assertThat(r.findings()).as(r.lines().toString()).extracting(ReconcileReport.Finding::code)
                .containsExactly(Code.UNKNOWN_SNAPSHOT, Code.UNKNOWN_OVERLAY, Code.CATALOG_MISSING);
        assertThat(r.findings()).allSatisfy(f -> assertThat(f.repaired()).isFalse());
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    @Test
    void anImageChangedBehindXensnapsBackIsReportedAndNothingIsTouched() throws Exception {
        engine.create(SnapshotRequest.allDisks(DOM, "s1", ""));
        Path elsewhere = image(1).resolveSibling("other.qcow2");
        overlay(elsewhere, image(1), "qcow2");
        // someone puts an overlay of their own under xvdb's guest in QEMU, without telling xenstore, libxl or xensnap
        String xvdb = dom0.device(DOMID, "xvdb").path("inserted").path("node-name").asText();
        qmp("{\"execute\":"
                + "\"blockdev-snapshot-sync\",\"arguments\":{\"node-name\":\"" + xvdb + "\",\"snapshot-file\":\""
                + elsewhere + "\",\"snapshot-node-name\":\"by-hand\",\"format\":\"qcow2\",\"mode\":\"existing\"}}");
        // and deletes an internal snapshot the catalog lists
        String node = dom0.device(DOMID, "xvda").path("inserted").path("node-name").asText();
        RawQmp.execute(dom0.host.qmpSocketPath(DOMID), Duration.ofSeconds(5), "{\"execute\":"
                + "\"blockdev-snapshot-delete-internal-sync\",\"arguments\":{\"device\":\"" + node
                + "\",\"name\":\"s1\"}}");
        String before = dom0.fingerprint();

        ReconcileReport r = engine.reconcile(DOM);

        assertThat(r.findings()).as(r.lines().toString()).hasSize(3).allSatisfy(f -> assertThat(f.repaired()).isFalse());
        assertThat(r.findings()).anySatisfy(f -> {
            assertThat(f.code()).isEqualTo(Code.VIEWS_DISAGREE);
            assertThat(f.subject()).isEqualTo("xvdb");
            assertThat(f.detail()).contains(elsewhere.toString()).contains(image(1).toString());
        }).anySatisfy(f -> {
            assertThat(f.code()).isEqualTo(Code.UNKNOWN_OVERLAY);
            assertThat(f.subject()).isEqualTo("xvdb " + elsewhere);
        }).anySatisfy(f -> {
            assertThat(f.code()).isEqualTo(Code.SNAPSHOT_MISSING);
            assertThat(f.subject()).isEqualTo("snapshot s1 xvda");
        });
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    /**
     * xenstore's backend names the old image while QEMU, libxl's config and the catalog name the overlay: every
     * create and delete refuses such a disk (they read its image from xenstore). QEMU's chain is the authority, so
     * reconcile writes xenstore (and libxl's copy) to match it, and the domain is usable again.
     */
    @Test
    void aBackendThatLagsBehindQemuIsWrittenToMatchItAndTheDomainIsUsableAgain() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x73);
        dom0.host.cli().write("/local/domain/0/backend/qdisk/7/" + Devid.XVDC + "/params", "raw:" + image(2));
        dom0.host.cli().write("/libxl/7/device/vbd/" + Devid.XVDC + "/params", "raw:" + image(2));
        assertThat(code(() -> engine.delete(DOM, "s1"))).as("stuck before").isEqualTo(SnapshotError.INVALID_STATE);

        ReconcileReport r = engine.reconcile(DOM);

        assertThat(r.findings()).as(r.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.VIEWS_ALIGNED);
            assertThat(f.repaired()).isTrue();
            assertThat(f.subject()).isEqualTo("xvdc");
            assertThat(f.detail()).contains(overlay.toString()).contains("xenstore named " + image(2));
        });
        assertThat(engine.reconcile(DOM).lines()).as("a second reconcile").isEmpty();
        assertViewsAgree(dom0, DOMID);
        engine.delete(DOM, "s1");
        assertViewsAgree(dom0, DOMID);
        Faults.assertData(image(2), 0x73);
    }

    @Test
    void aPendingCreateThatTheDisksContradictIsReportedNotGuessed() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s0", "", List.of(DiskSpec.internal("xvda"))));
        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(Point.BEFORE_TRANSACTION)).create(new SnapshotRequest(
                DOM, "s1", "", List.of(DiskSpec.internal("xvda"), DiskSpec.internal("xvdb")))))
                .isInstanceOf(SimulatedCrash.class);
        // one disk holds s1, the other does not: no transaction leaves that
        String node = dom0.device(DOMID, "xvda").path("inserted").path("node-name").asText();
        RawQmp.execute(dom0.host.qmpSocketPath(DOMID), Duration.ofSeconds(5), "{\"execute\":"
                + "\"blockdev-snapshot-internal-sync\",\"arguments\":{\"device\":\"" + node + "\",\"name\":\"s1\"}}");
        String before = dom0.fingerprint();

        ReconcileReport r = dom0.engine().reconcile(DOM);

        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.CREATE_AMBIGUOUS);
            assertThat(f.repaired()).isFalse();
            assertThat(f.detail()).contains("xvda taken").contains("xvdb not taken");
        });
        assertThat(dom0.fingerprint()).isEqualTo(before);
        assertThat(code(() -> engine.create(SnapshotRequest.allDisks(DOM, "s2", ""))))
                .isEqualTo(SnapshotError.INVALID_STATE);
    }

    /**
     * QEMU makes every internal snapshot and overlay of a transaction before it switches any disk; a QEMU killed in
     * between leaves some of them. These on-disk states are made here with qemu-img (killing QEMU between two steps of
     * one transaction cannot be timed), on a domain whose QEMU really died with the create pending.
     */
    @Test
    void aDeviceModelThatDiedMidTransactionIsSettledFromTheImageHeaders() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s0", "", List.of(DiskSpec.internal("xvdb"))));
        Path ovC = image(2).resolveSibling("disk2.s1.qcow2");
        SnapshotRequest request = new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"),
                DiskSpec.internal("xvdb"), DiskSpec.external("xvdc", null)));
        assertThatThrownBy(() -> dom0.engine(Faults.at(Point.BEFORE_TRANSACTION, () -> qemu.kill())).create(request))
                .isInstanceOf(SnapshotException.class).hasMessageContaining("outcome");
        assertThat(engine.reconcile(DOM).findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.PEER_UNREACHABLE));
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());

        // died after preparing xvda only: the switch never happened → taken back
        ShortCommand.ok("qemu-img", "snapshot", "-c", "s1", image(0).toString());
        ReconcileReport partial = engine.reconcile(off);
        assertThat(partial.findings()).as(partial.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.CREATE_ROLLED_BACK));
        assertThat(ShortCommand.ok("qemu-img", "snapshot", "-l", image(0).toString()).output()).doesNotContain("s1");
        assertThat(ovC).doesNotExist();
        assertThat(engine.list(off).snapshots()).extracting(s -> s.name()).containsExactly("s0");
        assertThat(engine.reconcile(off).lines()).isEmpty();

        // died after preparing every disk: the snapshot is complete on disk → finished
        markPending(request);
        ShortCommand.ok("qemu-img", "snapshot", "-c", "s1", image(0).toString());
        ShortCommand.ok("qemu-img", "snapshot", "-c", "s1", image(1).toString());
        overlay(ovC, image(2), "raw");
        ReconcileReport all = engine.reconcile(off);
        assertThat(all.findings()).as(all.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.CREATE_FINISHED));
        assertThat(engine.reconcile(off).lines()).isEmpty();
        assertThat(engine.get(off, "s1").parent()).isEqualTo("s0");
        assertThat(Faults.catalogDisks(dom0, DOMID)).extracting(d -> d.image().getFileName().toString())
                .containsExactly("disk0.qcow2", "disk1.qcow2", "disk2.s1.qcow2");
        Faults.assertData(ovC, 0x43);
        Faults.assertData(image(0), 0x41);
    }

    @Test
    void aJobXensnapCannotProveItsOwnIsLeftAloneThenTheDeleteIsFinishedFromTheChains() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvdb"),
                DiskSpec.external("xvdc", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x73);
        assertThatThrownBy(() -> dom0.engine(Faults.crashAt(Point.BEFORE_MERGE)).delete(DOM, "s1"))
                .isInstanceOf(SimulatedCrash.class);
        // a merge job in QEMU whose id xensnap's scheme does not give (someone else's, or an earlier release's):
        // it runs on, very slowly
        String node = dom0.device(DOMID, "xvdc").path("inserted").path("node-name").asText();
        qmp("{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"xs-commit-xvdc\",\"device\":\"" + node
                + "\",\"speed\":1}}");
        String before = dom0.fingerprint();

        ReconcileReport r = dom0.engine().reconcile(DOM);

        assertThat(r.findings()).as(r.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.DELETE_AMBIGUOUS);
            assertThat(f.repaired()).isFalse();
            assertThat(f.detail()).contains("did not start").contains("xs-commit-xvdc");
        });
        assertThat(dom0.fingerprint()).as("the job it cannot prove its own is left alone").isEqualTo(before);
        assertThat(engine.get(DOM, "s1").disks()).hasSize(2);
        assertThat(dom0.internalSnapshots(DOMID, "xvdb")).containsExactly("s1");

        // the job is let run and completes: xvdc is merged, so the delete can only go forward
        qmp("{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"xs-commit-xvdc\",\"speed\":0}}");
        awaitJob("ready");
        qmp("{\"execute\":\"block-job-complete\",\"arguments\":{\"device\":\"xs-commit-xvdc\"}}");
        awaitJob(null);
        ReconcileReport finished = dom0.engine().reconcile(DOM);
        assertThat(finished.findings()).as(finished.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.DELETE_FINISHED));
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertThat(engine.list(DOM).snapshots()).isEmpty();
        assertThat(dom0.internalSnapshots(DOMID, "xvdb")).isEmpty();
        assertThat(overlay).doesNotExist();
        Faults.assertData(image(2), 0x73);
    }

    @Test
    void whatCannotBeProvenIsReportedAndLeftAlone() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        Path other = image(2).resolveSibling("other.raw");
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "raw", other.toString(), "64M");

        // xvda's header gains a backing file that QEMU does not run (a qdisk image is opened with locking=off, so
        // qemu-img can write the header under QEMU's feet; the overlays QEMU made itself are locked)
        ShortCommand.ok("qemu-img", "rebase", "-u", "-b", other.toString(), "-F", "raw", image(0).toString());
        String before = dom0.fingerprint();
        assertThat(engine.reconcile(DOM).findings()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.HEADER_MISMATCH);
            assertThat(f.subject()).isEqualTo("xvda");
            assertThat(f.detail()).contains(other.toString());
        });
        assertThat(dom0.fingerprint()).isEqualTo(before);
        ShortCommand.ok("qemu-img", "rebase", "-u", "-b", "", image(0).toString());
        assertThat(engine.reconcile(DOM).lines()).isEmpty();

        // a revert that never finished, and the domain runs again: its disks may hold new writes
        CatalogStore store = new CatalogStore(dom0.state);
        DomainCatalog c = store.load(Dom0.uuid(DOMID));
        store.save(c.withPending(java.util.Optional.of(new PendingOperation(PendingOperation.Kind.REVERT, "s1",
                java.time.Instant.now()))));
        before = dom0.fingerprint();
        assertThat(engine.reconcile(DOM).findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.REVERT_AMBIGUOUS));
        assertThat(dom0.fingerprint()).isEqualTo(before);
        store.save(c);

        // an image the catalog lists is gone
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());
        Path moved = overlay.resolveSibling("moved-away");
        Files.move(overlay, moved);
        before = dom0.fingerprint();
        assertThat(engine.reconcile(off).findings()).hasSize(2)
                .allSatisfy(f -> assertThat(f.code()).isEqualTo(Code.IMAGE_MISSING))
                .extracting(ReconcileReport.Finding::subject).containsExactly("xvdc", "snapshot s1 xvdc");
        assertThat(dom0.fingerprint()).isEqualTo(before);
        Files.move(moved, overlay);
        assertThat(engine.reconcile(off).lines()).isEmpty();
    }

    private String qmp(String command) throws Exception {
        String reply = RawQmp.execute(dom0.host.qmpSocketPath(DOMID), Duration.ofSeconds(5), command);
        assertThat(reply).as(command).contains("\"return\"");
        return reply;
    }

    /** Waits until the job xs-commit-xvdc has {@code status}, or is gone when {@code status} is null. */
    private void awaitJob(String status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            com.fasterxml.jackson.databind.JsonNode jobs = Dom0.JSON.readTree(qmp("{\"execute\":\"query-jobs\"}"))
                    .get("return");
            String now = null;
            for (com.fasterxml.jackson.databind.JsonNode j : jobs) {
                if (j.path("id").asText().equals("xs-commit-xvdc")) {
                    now = j.path("status").asText();
                }
            }
            if (java.util.Objects.equals(now, status)) {
                return;
            }
            assertThat(System.nanoTime()).as("job status " + now + ", waiting for " + status).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void aTruncatedCatalogIsReportedAndLeftAsItIs() throws Exception {
        engine.create(SnapshotRequest.allDisks(DOM, "s1", ""));
        Path file = new CatalogStore(dom0.state).file(Dom0.uuid(DOMID));
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(whole, whole.length / 2));
        String before = dom0.fingerprint();

        ReconcileReport r = engine.reconcile(DOM);

        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.CATALOG_CORRUPT);
            assertThat(f.repaired()).isFalse();
            assertThat(f.subject()).isEqualTo(file.toString());
        });
        assertThat(engine.reconcileAll()).singleElement().satisfies(x -> assertThat(x.findings()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.CATALOG_CORRUPT)));
        assertThat(code(() -> engine.list(DOM))).isEqualTo(SnapshotError.INTERNAL);
        assertThat(code(() -> engine.create(SnapshotRequest.allDisks(DOM, "s2", "")))).isEqualTo(SnapshotError.INTERNAL);
        assertThat(code(() -> engine.delete(DOM, "s1"))).isEqualTo(SnapshotError.INTERNAL);
        assertThat(dom0.fingerprint()).as("the half file and everything else untouched").isEqualTo(before);

        Files.write(file, whole);
        assertThat(engine.reconcile(DOM).lines()).as("once a person put the file back").isEmpty();
    }

    @Test
    void anUnknownDomainIsNoSuchDomain() {
        assertThat(code(() -> engine.reconcile(DomainRef.running(99)))).isEqualTo(SnapshotError.NO_SUCH_DOMAIN);
        assertThat(code(() -> engine.reconcile(DomainRef.shutOff("00000000-0000-4000-8000-000000000000",
                List.of())))).isEqualTo(SnapshotError.NO_SUCH_DOMAIN);
    }

    /** A create request's pending mark, as the engine writes it, for a domain whose QEMU is gone. */
    private void markPending(SnapshotRequest request) throws Exception {
        CatalogStore store = new CatalogStore(dom0.state);
        DomainCatalog c = store.load(Dom0.uuid(DOMID));
        List<DiskSnapshot> planned = List.of(
                new DiskSnapshot("xvda", SnapshotKind.INTERNAL, image(0),
                        DiskFormat.QCOW2, null),
                new DiskSnapshot("xvdb", SnapshotKind.INTERNAL, image(1),
                        DiskFormat.QCOW2, null),
                new DiskSnapshot("xvdc", SnapshotKind.EXTERNAL, image(2),
                        DiskFormat.RAW, image(2).resolveSibling("disk2.s1.qcow2")));
        store.save(c.withPending(java.util.Optional.of(new PendingOperation(PendingOperation.Kind.CREATE,
                request.name(), java.time.Instant.now(), request.description(), planned))));
    }

    private static void overlay(Path overlay, Path backing, String backingFormat) {
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", backing.toString(), "-F", backingFormat,
                overlay.toString());
    }
}
