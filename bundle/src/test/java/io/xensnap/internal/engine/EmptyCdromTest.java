package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.XenHost;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;

/**
 * A running domain with an empty CD-ROM drive, laid out as libxl does ({@code params} {@code aio:}, read-only,
 * {@code device-type} cdrom, no {@code pdev_path} in its JSON): its snapshots cover the disks and leave the drive alone.
 * An empty drive once reached the catalog as a disk with the image "" and failed the create after its point of no
 * return.
 */
class EmptyCdromTest {

    private static final DomainRef DOM = DomainRef.running(7);

    private Dom0 dom0;

    @AfterEach
    void stop() {
        if (dom0 != null) {
            dom0.close();
        }
    }

    @Test
    void snapshotsOfADomainWithAnEmptyCdromLeaveTheDriveOutAndAlone() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        dom0.domain(7, List.of(XenHost.Disk.emptyCdrom("hdc")));
        String cdromBackend = "/local/domain/0/backend/qdisk/7/5632";
        assertThat(dom0.xenstoreRead(cdromBackend + "/params")).isEqualTo("aio:");
        assertThat(dom0.xenstoreRead(cdromBackend + "/device-type")).isEqualTo("cdrom");
        JsonNode cdromJson = dom0.libxlDisk(7, "hdc").deepCopy();
        SnapshotEngine engine = dom0.engine();

        // every writable disk: internal on the qcow2 ones, an overlay for the raw one, nothing for the drive
        SnapshotInfo s1 = engine.create(SnapshotRequest.allDisks(DOM, "s1", ""));
        assertThat(s1.disks()).extracting(DiskSnapshot::vdev).containsExactly("xvda", "xvdb", "xvdc");
        DomainCatalog catalog = new CatalogStore(dom0.state).load(Dom0.uuid(7));
        assertThat(catalog.disks()).extracting(DiskImage::vdev).containsExactly("xvda", "xvdb", "xvdc");
        assertThat(engine.reconcile(DOM).lines()).as("the views agree").isEmpty();

        // asked for by name, the drive is refused before anything happens
        assertThat(Faults.code(() -> engine.create(new SnapshotRequest(DOM, "s2", "",
                List.of(DiskSpec.internal("hdc")))))).isEqualTo(SnapshotError.UNSUPPORTED);

        // the external disk is merged back on delete; the drive's nodes and JSON never change
        engine.delete(DOM, "s1");
        assertThat(engine.list(DOM).snapshots()).isEmpty();
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
        assertThat(dom0.xenstoreRead(cdromBackend + "/params")).isEqualTo("aio:");
        assertThat(dom0.libxlDisk(7, "hdc")).isEqualTo(cdromJson);
        assertThat(cdromJson.has("pdev_path")).isFalse();
        assertThat(cdromJson.get("is_cdrom").asInt()).isEqualTo(1);
    }
}
