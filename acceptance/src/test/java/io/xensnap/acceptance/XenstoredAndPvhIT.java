package io.xensnap.acceptance;

import static io.xensnap.acceptance.Acceptance.log;
import static io.xensnap.acceptance.Acceptance.minutes;
import static io.xensnap.acceptance.Acceptance.secs;
import static io.xensnap.acceptance.Acceptance.sh;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.xensnap.harness.XenBed;

/**
 * The other xenstored, and a PVH guest, on a real Xen 4.17 host (docs/acceptance.md). {@link XenAcceptanceIT} runs on
 * Debian's default oxenstored; this class boots a bed of its own with the C xenstored (cxenstored), chosen on dom0's
 * kernel command line before Xen's services start (docs/xenbed.md), and proves live create (internal and external)
 * and delete (live merge) against it, for a PV guest and for a PVH guest. Each step is checked from the sides
 * {@link XenAcceptanceIT} checks: xenstore, libxl ({@code xl list -l}), the image chain, the catalog and the guest's
 * own records.
 *
 * <p>xensnap runs without Karaf here ({@link Dom0Provider}): the service the bundle registers, built with {@code new}
 * in one JVM started with {@code java -cp} in dom0. A stock Karaf's start costs minutes under TCG, and what
 * this class proves is about Xen's side, not Karaf's; {@link XenAcceptanceIT} covers the install into Karaf.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
// first: its bed is closed when it ends, before the one the other classes share (Dom0Host) boots
@Order(0)
class XenstoredAndPvhIT {

    private static final String PV = "cx";
    private static final String PVH = "pvh";
    private static final String A = "/images/cx-a.qcow2";
    private static final String B = "/images/cx-b.raw";
    private static final String B_S1 = "/images/cx-b.s1.qcow2";
    private static final String H = "/images/pvh-a.qcow2";
    private static final String H_P1 = "/images/pvh-a.p1.qcow2";
    private static final int XVDA = 51712;
    private static final int XVDB = 51728;

    private XenBed bed;
    private Dom0View view;
    private Dom0Provider xensnap;
    private Guest pv;
    private Guest pvh;

    @RegisterExtension
    final FailureReport report = new FailureReport(() -> bed, () -> null);

    @BeforeAll
    void bootWithCxenstoredAndStartBothGuests() {
        long t0 = System.nanoTime();
        bed = XenBed.boot(XenBed.Image.locate(), minutes(8), XenBed.Xenstored.CXENSTORED);
        log("dom0 ready with cxenstored in " + bed.bootTime().toSeconds() + " s");
        view = new Dom0View(bed);
        Guest.prepareInitramfs(bed);
        sh(bed, minutes(2), "set -e; qemu-img create -q -f qcow2 " + A + " 64M; qemu-img create -q -f raw " + B
                + " 64M; qemu-img create -q -f qcow2 " + H + " 64M");
        // xensnap's JVM starts while the guests are created and boot: each takes minutes under TCG on a busy machine
        xensnap = Dom0Provider.start(bed);
        pv = new Guest(bed, PV, UUID.randomUUID().toString());
        pvh = new Guest(bed, PVH, UUID.randomUUID().toString(), "pvh");
        // both xl create side by side: each waits mostly for its device model's start in dom0
        CompletableFuture<Void> pvhCreated = Acceptance.background("xl-create-" + PVH, () -> {
            pvh.create(pvh.writeConfig(List.of(qdisk("qcow2", "xvda", H)), List.of("xvda")));
            return null;
        });
        pv.create(pv.writeConfig(List.of(qdisk("qcow2", "xvda", A), qdisk("raw", "xvdb", B)),
                List.of("xvda", "xvdb")));
        Acceptance.join(pvhCreated);
        log("both guests created after " + secs(t0));
        pv.awaitReady(1, minutes(4));
        log("the PV guest writing after " + secs(t0));
        xensnap.awaitReady(minutes(8));
        log("xensnap's service up in dom0 after " + secs(t0));
    }

    @AfterAll
    void stop() {
        try {
            if (xensnap != null) {
                xensnap.close();
            }
        } finally {
            if (bed != null) {
                bed.close();
            }
        }
    }

    @Test
    @Order(1)
    void theCXenstoredServesThisDom0() {
        // every xenstored of either kind that runs, by the program it runs
        String running = sh(bed, minutes(1), "for p in $(pidof xenstored oxenstored); do readlink /proc/$p/exe; done");
        assertThat(running.strip()).as("the xenstored processes").isEqualTo("/usr/lib/xen-4.17/bin/xenstored");
        assertThat(view.params(pv.domid(), XVDB)).as("libxl wrote the guest's disks into it").isEqualTo("aio:" + B);
    }

    @Test
    @Order(2)
    void liveInternalAndExternalCreateAgainstCxenstored() {
        int domid = pv.domid();
        long before = pv.awaitWritten(3, minutes(2));
        XenBed.Result r = xensnap.run(minutes(4), "create", Integer.toString(domid), "s1", "xvda:internal",
                "xvdb:external:" + B_S1);
        assertThat(r.exitCode()).as("xensnap create:\n" + r.stdout() + r.stderr()).isZero();
        assertThat(r.stdout()).contains("disk xvda INTERNAL " + A + " QCOW2",
                "disk xvdb EXTERNAL " + B + " RAW " + B_S1);

        assertThat(view.params(domid, XVDA)).isEqualTo("qcow2:" + A);
        assertThat(view.params(domid, XVDB)).as("xenstore follows the overlay").isEqualTo("qcow2:" + B_S1);
        assertThat(view.libxlDisks(PV)).as("libxl's own view (xl list -l)")
                .containsEntry("xvda", "qcow2 " + A).containsEntry("xvdb", "qcow2 " + B_S1);
        assertThat(view.chain(B_S1)).as("the overlay's chain").containsExactly(B_S1 + " qcow2", B + " raw");
        assertThat(view.internalSnapshots(A)).contains("s1");
        assertThat(view.catalog(pv.uuid())).contains("\"s1\"", B_S1);

        String frozen = view.sha256(B);
        long later = pv.awaitWritten(pv.lastWritten().orElseThrow() + 3, minutes(2));
        assertThat(view.sha256(B)).as("the frozen raw image").isEqualTo(frozen);
        assertThat(view.recordIn(B_S1, "qcow2", later)).as("record " + later + " in the overlay").isTrue();
        assertThat(view.recordIn(B, "raw", later)).as("record " + later + " in the frozen image").isFalse();
        log("s1 after record " + before + "; the guest wrote " + later + " into the overlay");
    }

    @Test
    @Order(3)
    void liveMergeAgainstCxenstored() {
        int domid = pv.domid();
        long inS1 = pv.lastWritten().orElseThrow();
        XenBed.Result r = xensnap.run(minutes(5), "delete", Integer.toString(domid), "s1");
        assertThat(r.exitCode()).as("xensnap delete:\n" + r.stdout() + r.stderr()).isZero();

        assertThat(view.params(domid, XVDB)).as("back on the raw image").isEqualTo("aio:" + B);
        assertThat(view.params(domid, XVDA)).isEqualTo("qcow2:" + A);
        assertThat(view.libxlDisks(PV)).containsEntry("xvda", "qcow2 " + A).containsEntry("xvdb", "raw " + B);
        assertThat(view.exists(B_S1)).as("the merged overlay is removed").isFalse();
        assertThat(view.internalSnapshots(A)).doesNotContain("s1");
        assertThat(view.catalog(pv.uuid())).doesNotContain("\"s1\"");
        assertThat(view.recordIn(B, "raw", inS1)).as("record " + inS1 + ", written into the overlay, merged").isTrue();
        long later = pv.awaitWritten(pv.lastWritten().orElseThrow() + 2, minutes(2));
        assertThat(view.recordIn(B, "raw", later)).as("the guest's new writes reach the raw image").isTrue();
    }

    @Test
    @Order(4)
    void pvhGuestLiveExternalSnapshotAndMerge() {
        // the PVH guest boots while the PV steps run: on a busy machine it needed more than 4 min to its disk (ACPI
        // and PCI probing under two layers of emulation), the PV guest one
        pvh.awaitReady(1, minutes(8));
        int domid = pvh.domid();
        assertThat(sh(bed, minutes(1), "xl list -l " + PVH)).as("libxl runs it as PVH").contains("\"pvh\"");
        long before = pvh.awaitWritten(3, minutes(2));
        XenBed.Result created = xensnap.run(minutes(4), "create", Integer.toString(domid), "p1",
                "xvda:external:" + H_P1);
        assertThat(created.exitCode()).as("xensnap create:\n" + created.stdout() + created.stderr()).isZero();
        assertThat(view.params(domid, XVDA)).isEqualTo("qcow2:" + H_P1);
        assertThat(view.libxlDisks(PVH)).containsEntry("xvda", "qcow2 " + H_P1);
        assertThat(view.chain(H_P1)).containsExactly(H_P1 + " qcow2", H + " qcow2");
        assertThat(view.catalog(pvh.uuid())).contains("\"p1\"", H_P1);
        long inP1 = pvh.awaitWritten(pvh.lastWritten().orElseThrow() + 3, minutes(2));
        assertThat(view.recordIn(H_P1, "qcow2", inP1)).as("record " + inP1 + " in the overlay").isTrue();
        assertThat(view.recordIn(H, "qcow2", inP1)).as("record " + inP1 + " in the frozen image").isFalse();

        XenBed.Result deleted = xensnap.run(minutes(5), "delete", Integer.toString(domid), "p1");
        assertThat(deleted.exitCode()).as("xensnap delete:\n" + deleted.stdout() + deleted.stderr()).isZero();
        assertThat(view.params(domid, XVDA)).isEqualTo("qcow2:" + H);
        assertThat(view.libxlDisks(PVH)).containsEntry("xvda", "qcow2 " + H);
        assertThat(view.exists(H_P1)).isFalse();
        assertThat(view.catalog(pvh.uuid())).doesNotContain("\"p1\"");
        assertThat(view.recordIn(H, "qcow2", inP1)).as("record " + inP1 + " merged").isTrue();
        long later = pvh.awaitWritten(pvh.lastWritten().orElseThrow() + 2, minutes(2));
        assertThat(view.recordIn(H, "qcow2", later)).isTrue();
        log("p1 after record " + before + ", merged with record " + inP1);
    }

    /**
     * {@code xl create}, once more when libxl gave up on the device model's start: libxl waits a fixed time for
     * QEMU's QMP answers, which a busy machine under TCG can exceed ("device model did not start: -9"); libxl has
     * removed the half-made domain by then.
     */
    private static String qdisk(String format, String vdev, String target) {
        return "format=" + format + ",vdev=" + vdev + ",access=rw,backendtype=qdisk,target=" + target;
    }
}
