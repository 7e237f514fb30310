package io.xensnap.internal.jmx;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.api.SnapshotTree;

class JmxSnapshotsTest {

    private static final String UUID = "6f1e4a52-0d3b-4c8e-9a1f-2b7c5d9e0f13";
    private static final SnapshotInfo S1 = new SnapshotInfo(UUID, "s1", "first", Instant.parse("2024-05-01T10:00:00Z"),
            null, List.of(
            new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2, null),
            new DiskSnapshot("xvdb", SnapshotKind.EXTERNAL, Path.of("/img/b.raw"), DiskFormat.RAW,
                    Path.of("/img/b.s1.qcow2"))));
    private static final SnapshotInfo S2 = new SnapshotInfo(UUID, "s2", "", Instant.parse("2024-05-02T10:00:00Z"),
            "s1", List.of(
            new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2, null)));

    @Test
    void aSnapshotIsACompositeWithATableOfDisksAndNoNulls() {
        CompositeData c = JmxSnapshots.snapshot(S1, true);

        assertThat(c.get("domain")).isEqualTo(UUID);
        assertThat(c.get("name")).isEqualTo("s1");
        assertThat(c.get("created")).isEqualTo("2024-05-01T10:00:00Z");
        assertThat(c.get("parent")).isEqualTo("");
        assertThat(c.get("current")).isEqualTo(true);
        TabularData disks = (TabularData) c.get("disks");
        CompositeData b = disks.get(new Object[] {"xvdb"});
        assertThat(b.get("kind")).isEqualTo("external");
        assertThat(b.get("image")).isEqualTo("/img/b.raw");
        assertThat(b.get("format")).isEqualTo("raw");
        assertThat(b.get("overlay")).isEqualTo("/img/b.s1.qcow2");
        assertThat(disks.get(new Object[] {"xvda"}).get("overlay")).isEqualTo("");
    }

    @Test
    void theListHasOneRowPerSnapshotWithParentAndCurrent() {
        TabularData rows = JmxSnapshots.snapshots(new SnapshotTree(UUID, "s2", List.of(S1, S2)), List.of());

        assertThat(rows.size()).isEqualTo(2);
        CompositeData s2 = rows.get(new Object[] {"s2"});
        assertThat(s2.get("parent")).isEqualTo("s1");
        assertThat(s2.get("current")).isEqualTo(true);
        assertThat(s2.get("disks")).isEqualTo("xvda:internal");
        assertThat(rows.get(new Object[] {"s1"}).get("current")).isEqualTo(false);
        assertThat(rows.get(new Object[] {"s1"}).get("disks")).isEqualTo("xvda:internal,xvdb:external:/img/b.s1.qcow2");
    }

    @Test
    void descriptionsAndPathsFromACatalogOnDiskAreEscaped() {
        SnapshotInfo s = new SnapshotInfo(UUID, "s3", "\u001b]0;owned\u0007 \u202eevil", Instant.parse(
                "2024-05-03T10:00:00Z"), null, List.of(new DiskSnapshot("xvdb", SnapshotKind.EXTERNAL,
                Path.of("/img/b\u001b[2J.raw"), DiskFormat.RAW, Path.of("/img/b\u202e.qcow2"))));

        CompositeData c = JmxSnapshots.snapshot(s, false);
        assertThat(c.get("description")).isEqualTo("\\x1b]0;owned\\x07 \\u202eevil");
        CompositeData b = ((TabularData) c.get("disks")).get(new Object[] {"xvdb"});
        assertThat(b.get("image")).isEqualTo("/img/b\\x1b[2J.raw");
        assertThat(b.get("overlay")).isEqualTo("/img/b\\u202e.qcow2");
        CompositeData row = JmxSnapshots.snapshots(new SnapshotTree(UUID, "s3", List.of(s)), List.of()).get(new Object[] {"s3"});
        assertThat(row.get("description")).isEqualTo("\\x1b]0;owned\\x07 \\u202eevil");
        assertThat(row.get("disks")).isEqualTo("xvdb:external:/img/b\\u202e.qcow2");
        assertThat(JmxSnapshots.images(List.of(new DiskImage("xvdb", Path.of("/img/\u001b.qcow2"), DiskFormat.QCOW2)))
                .get(new Object[] {"xvdb"}).get("image")).isEqualTo("/img/\\x1b.qcow2");
    }

    @Test
    void revertResultsAreATableOfImages() {
        TabularData t = JmxSnapshots.images(List.of(new DiskImage("xvdb", Path.of("/img/b.s1.qcow2"),
                DiskFormat.QCOW2)));
        assertThat(t.get(new Object[] {"xvdb"}).get("image")).isEqualTo("/img/b.s1.qcow2");
        assertThat(t.get(new Object[] {"xvdb"}).get("format")).isEqualTo("qcow2");
    }

    @Test
    void theSpaceComesAsItemsAddedAfterTheOldOnesOfTheSnapshotItsRowAndItsDisks() {
        Instant read = Instant.parse("2024-05-03T11:00:00Z");
        SnapshotSpace space = new SnapshotSpace(UUID, "s1", read, List.of(
                new SnapshotSpace.Disk("xvda", Path.of("/img/a.qcow2"), SnapshotSpace.Accuracy.EXACT, 327680,
                        458752, ""),
                new SnapshotSpace.Disk("xvdb", Path.of("/img/b.s1.qcow2"), SnapshotSpace.Accuracy.ESTIMATE, 65536,
                        196608, "freed is an estimate\u001b")), 0);

        CompositeData c = JmxSnapshots.snapshot(S1, false, java.util.Optional.of(space));
        assertThat(c.get("held")).isEqualTo(393216L);
        assertThat(c.get("freed")).isEqualTo(655360L);
        assertThat(c.get("spaceAccuracy")).isEqualTo("estimate");
        assertThat(c.get("spaceReadAt")).isEqualTo("2024-05-03T11:00:00Z");
        TabularData disks = (TabularData) c.get("disks");
        assertThat(disks.get(new Object[] {"xvda"}).get("held")).isEqualTo(327680L);
        assertThat(disks.get(new Object[] {"xvda"}).get("spaceAccuracy")).isEqualTo("exact");
        assertThat(disks.get(new Object[] {"xvdb"}).get("freed")).isEqualTo(196608L);
        assertThat(disks.get(new Object[] {"xvdb"}).get("spaceNote")).isEqualTo("freed is an estimate\\x1b");
        // the items a client knew before are all still there, with the same types
        assertThat(JmxSnapshots.SNAPSHOT_TYPE.keySet()).contains("domain", "name", "description", "created", "parent",
                "current", "disks");
        assertThat(JmxSnapshots.DISK.keySet()).contains("vdev", "kind", "image", "format", "overlay");

        CompositeData row = JmxSnapshots.snapshots(new SnapshotTree(UUID, "s2", List.of(S1, S2)), List.of(space))
                .get(new Object[] {"s1"});
        assertThat(row.get("held")).isEqualTo(393216L);
        assertThat(row.get("freed")).isEqualTo(655360L);
        assertThat(row.get("spaceReadAt")).isEqualTo("2024-05-03T11:00:00Z");
    }

    @Test
    void aCreatedSnapshotIsNotCounted() {
        CompositeData c = JmxSnapshots.snapshot(S1, true);

        assertThat(c.get("held")).isEqualTo(0L);
        assertThat(c.get("spaceAccuracy")).isEqualTo("");
        assertThat(c.get("spaceReadAt")).isEqualTo("");
    }
}
