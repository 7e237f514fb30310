package io.xensnap.internal.surface;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.engine.Dom0;

/**
 * The space of snapshots of a running domain, written by its real QEMU, through the service, the MBean (over a real
 * JMX connector) and the console, checked against what {@code qemu-img} says of the images QEMU holds ({@code -U}).
 */
class SnapshotSpaceSurfacesTest {

    private static final int DOMID = 7;
    private static final DomainRef DOM = DomainRef.running(DOMID);
    private static final String QEMU_IMG = Prerequisite.QEMU_IMG.require().toString();

    private Dom0 dom0;
    private RealQemu qemu;
    private Surfaces surfaces;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        qemu = dom0.domain(DOMID);
        surfaces = new Surfaces(dom0);
    }

    @AfterEach
    void stop() throws Exception {
        try {
            surfaces.close();
        } finally {
            dom0.close();
        }
    }

    @Test
    void anInternalSnapshotHoldsNothingUntilTheGuestOverwritesNClustersThenExactlyThose() throws Exception {
        Path image = qemu.disk(0).image();
        long cluster = clusterSize(image);
        Instant before = Instant.now();
        surfaces.service.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"))));

        SnapshotSpace fresh = space("s1");
        assertThat(fresh.disks()).singleElement().satisfies(d -> {
            assertThat(d.held()).isZero();
            assertThat(d.accuracy()).isEqualTo(SnapshotSpace.Accuracy.EXACT);
            assertThat(d.file()).isEqualTo(image);
        });
        assertThat(fresh.readAt()).isAfterOrEqualTo(before);

        // N = 3 clusters of the data the image held when the snapshot was taken (its first MiB), through QEMU
        dom0.guestWrites(DOMID, "xvda", 0x5a, cluster, 3 * cluster);
        SnapshotSpace overwritten = space("s1");
        assertThat(overwritten.held()).isEqualTo(3 * cluster);
        // qemu-img agrees the tables read under the running QEMU are whole (its check without a lock)
        assertThat(ShortCommand.ok(QEMU_IMG, "check", "-U", image.toString()).output())
                .contains("No errors were found");

        // the MBean: the snapshot, its disk and its row in the list
        CompositeData c = (CompositeData) surfaces.mbean("getSnapshot", "7", "s1");
        assertThat(c.get("held")).isEqualTo(3 * cluster);
        assertThat(c.get("spaceAccuracy")).isEqualTo("exact");
        assertThat(Instant.parse((String) c.get("spaceReadAt"))).isAfterOrEqualTo(before);
        assertThat(((TabularData) c.get("disks")).get(new Object[] {"xvda"}).get("held")).isEqualTo(3 * cluster);
        TabularData rows = (TabularData) surfaces.mbean("listSnapshots", "7");
        assertThat(rows.get(new Object[] {"s1"}).get("held")).isEqualTo(3 * cluster);
        // the console
        surfaces.session.execute("snapshot:info 7 s1");
        String info = surfaces.console().toString(StandardCharsets.UTF_8);
        assertThat(info).containsPattern("Holds +" + (3 * cluster / 1024) + " KiB")
                .contains("Space read");
        surfaces.session.execute("snapshot:list 7");
        assertThat(surfaces.console().toString(StandardCharsets.UTF_8)).contains("Space read at");
    }

    @Test
    void anExternalSnapshotHoldsExactlyTheKClustersTheGuestWroteToItsOverlay() throws Exception {
        surfaces.service.create(new SnapshotRequest(DOM, "e1", "", List.of(DiskSpec.external("xvdc", null))));
        Path overlay = surfaces.service.get(DOM, "e1").disks().get(0).overlay();
        long cluster = clusterSize(overlay);
        assertThat(space("e1").held()).isZero();

        // K = 1 + 2 + 1 clusters: one whole, two in a row far away, one written in part (QEMU fills the rest)
        dom0.guestWrites(DOMID, "xvdc", 0x5a, 0, cluster);
        dom0.guestWrites(DOMID, "xvdc", 0x5a, 40 * cluster, 2 * cluster);
        dom0.guestWrites(DOMID, "xvdc", 0x5a, 60 * cluster + 4096, 512);
        SnapshotSpace.Disk d = space("e1").disks().get(0);

        assertThat(d.file()).isEqualTo(overlay);
        assertThat(d.held()).isEqualTo(4 * cluster);
        assertThat(d.held()).isEqualTo(mappedInTop(overlay));
        assertThat(d.accuracy()).isEqualTo(SnapshotSpace.Accuracy.ESTIMATE);
        CompositeData c = (CompositeData) surfaces.mbean("getSnapshot", "7", "e1");
        CompositeData disk = ((TabularData) c.get("disks")).get(new Object[] {"xvdc"});
        assertThat(disk.get("held")).isEqualTo(4 * cluster);
        assertThat(disk.get("spaceAccuracy")).isEqualTo("estimate");
        assertThat((String) disk.get("spaceNote")).contains("raw frozen image");
    }

    private SnapshotSpace space(String name) throws Exception {
        return surfaces.service.space(DOM).stream().filter(s -> s.snapshot().equals(name)).findFirst().orElseThrow();
    }

    private static long clusterSize(Path image) throws Exception {
        return Dom0.JSON.readTree(ShortCommand.ok(QEMU_IMG, "info", "-U", "--output=json", image.toString()).output())
                .path("cluster-size").asLong();
    }

    private static long mappedInTop(Path image) throws Exception {
        long bytes = 0;
        for (JsonNode e : Dom0.JSON.readTree(ShortCommand.ok(QEMU_IMG, "map", "-U", "--output=json",
                image.toString()).output())) {
            if (e.path("depth").asInt() == 0 && e.path("data").asBoolean()) {
                bytes += e.path("length").asLong();
            }
        }
        return bytes;
    }
}
