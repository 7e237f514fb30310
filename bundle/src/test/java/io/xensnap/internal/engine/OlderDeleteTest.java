package io.xensnap.internal.engine;

import static io.xensnap.internal.engine.Faults.assertData;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;

/**
 * The delete of an external snapshot a newer snapshot depends on: the small merge. On the chain
 * {@code base ← ov1 ← ov2}, s1 froze base and s2 froze ov1; deleting s1 commits ov1 (what changed between s1 and s2)
 * down into base, ov2 then backs onto base and ov1 goes; s2 now freezes base. Against real QEMU and qemu-img, with
 * the domain running (QMP intermediate {@code block-commit}) and shut off ({@code qemu-img commit} and
 * {@code rebase -u}); and the cases where the small merge would be wrong are refused with nothing changed.
 */
class OlderDeleteTest {

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
    void aRunningDomainsOlderSnapshotIsMergedDownWhileTheDiskStaysOnItsTop() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdb", null),
                DiskSpec.external("xvdc", null))));
        Path ov1b = Path.of(dom0.rootFile(DOMID, "xvdb"));
        Path ov1c = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdb", 0x61);
        dom0.guestWrites(DOMID, "xvdc", 0x51);
        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov2c = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x52);

        engine.delete(DOM, "s1");

        // xvdb: s1 was its newest, the active commit switched the disk to its base
        assertThat(dom0.rootFile(DOMID, "xvdb")).isEqualTo(image(1).toString());
        assertThat(ov1b).doesNotExist();
        assertData(image(1), 0x61);
        // xvdc: the small merge; the disk stays on ov2c, which now backs onto the base
        assertThat(dom0.rootFile(DOMID, "xvdc")).isEqualTo(ov2c.toString());
        assertThat(Dom0.chain(ov2c)).containsExactly(ov2c.toString(), image(2).toString());
        assertThat(ov1c).doesNotExist();
        assertThat(RealQemu.hasPattern(image(2), RealQemu.Format.RAW, 0x51)).as("s2's instant, in the base").isTrue();
        assertData(ov2c, 0x52);
        assertThat(dom0.backendParams(DOMID, "xvdc")).endsWith(":" + ov2c);
        assertThat(dom0.libxlDisk(DOMID, "xvdc").get("pdev_path").asText()).isEqualTo(ov2c.toString());
        assertNewerFreezesTheBase(DOM, ov2c);
        assertThat(jobs()).as("no job left in QEMU").isEmpty();
        Faults.assertViewsAgree(dom0, DOMID);
        assertThat(engine.reconcile(DOM).lines()).isEmpty();

        // s2 still brings back its instant: the revert stacks a fresh overlay on the base
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());
        RevertResult r = engine.revert(off, "s2");
        Path back = r.disks().stream().filter(d -> d.vdev().equals("xvdc")).findFirst().orElseThrow().image();
        assertThat(Dom0.chain(back)).containsExactly(back.toString(), image(2).toString());
        assertData(back, 0x51);
    }

    @Test
    void aShutOffDomainsOlderSnapshotIsMergedDownWithQemuImg() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov1c = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x51);
        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov2c = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x52);
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());

        engine.delete(off, "s1");

        assertThat(Dom0.chain(ov2c)).containsExactly(ov2c.toString(), image(2).toString());
        assertThat(ov1c).doesNotExist();
        assertThat(RealQemu.hasPattern(image(2), RealQemu.Format.RAW, 0x51)).isTrue();
        assertData(ov2c, 0x52);
        assertThat(Faults.catalogDisks(dom0, DOMID)).contains(new DiskImage("xvdc", ov2c, DiskFormat.QCOW2));
        assertNewerFreezesTheBase(off, ov2c);
        assertThat(engine.reconcile(off).lines()).isEmpty();
        // and the newer one can go the same way: the chain is back to the base alone
        engine.delete(off, "s2");
        assertThat(engine.list(off).snapshots()).isEmpty();
        assertThat(Faults.catalogDisks(dom0, DOMID)).contains(new DiskImage("xvdc", image(2), DiskFormat.RAW));
        assertThat(RealQemu.hasPattern(image(2), RealQemu.Format.RAW, 0x52)).isTrue();
    }

    private void assertNewerFreezesTheBase(DomainRef ref, Path ov2c) throws Exception {
        SnapshotInfo s2 = engine.get(ref, "s2");
        assertThat(engine.list(ref).snapshots()).extracting(SnapshotInfo::name).containsExactly("s2");
        assertThat(s2.parent()).isNull();
        assertThat(s2.disks()).containsExactly(new DiskSnapshot("xvdc", SnapshotKind.EXTERNAL, image(2),
                DiskFormat.RAW, ov2c));
    }

    /** After a revert to s1 a fresh overlay branches off the base: two images stack on it, the merge would be wrong. */
    @Test
    void anOlderSnapshotWhoseBaseABranchStacksOnIsRefusedWithNothingChanged() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        dom0.guestWrites(DOMID, "xvdc", 0x51);
        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.external("xvdc", null))));
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());
        engine.revert(off, "s1");
        String before = dom0.fingerprint();

        assertThatThrownBy(() -> engine.delete(off, "s1")).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("cannot be merged down").hasMessageContaining("after a revert")
                .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.INVALID_STATE));
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    /** An internal snapshot made in the overlay outside xensnap would be lost with it: refused, nothing changed. */
    @Test
    void anOlderSnapshotWhoseOverlayHoldsAnInternalSnapshotIsRefusedWithNothingChanged() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        Path ov1c = Path.of(dom0.rootFile(DOMID, "xvdc"));
        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.external("xvdc", null))));
        dom0.shutDown(DOMID, qemu);
        ShortCommand.ok("qemu-img", "snapshot", "-c", "by-hand", ov1c.toString());
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());
        String before = dom0.fingerprint();

        assertThatThrownBy(() -> engine.delete(off, "s1")).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("by-hand").hasMessageContaining("would lose")
                .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.INVALID_STATE));
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    /** The catalog's own internal snapshot in the overlay: refused by name, before any image is read. */
    @Test
    void anOlderSnapshotWithAnInternalSnapshotOfXensnapsInItsOverlayIsRefused() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.internal("xvdc"))));
        String before = dom0.fingerprint();

        assertThatThrownBy(() -> engine.delete(DOM, "s1")).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("lives in the overlay").hasMessageContaining("delete s2 first")
                .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.INVALID_STATE));
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    private List<com.fasterxml.jackson.databind.JsonNode> jobs() throws Exception {
        List<com.fasterxml.jackson.databind.JsonNode> out = new java.util.ArrayList<>();
        String reply = RawQmp.execute(dom0.host.qmpSocketPath(DOMID), java.time.Duration.ofSeconds(5),
                "{\"execute\":\"query-jobs\"}");
        Dom0.JSON.readTree(reply).get("return").forEach(out::add);
        return out;
    }
}
