package io.xensnap.internal.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.MemoryImage;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;

/**
 * The catalog after the small merge of an older external snapshot: the newer snapshot that froze its overlay now
 * freezes the image below, in that image's format, and keeps everything else. A newer snapshot with memory keeps its
 * save image: its revert stacks a fresh overlay on the frozen image the record names and restores the domain on
 * that overlay, so the record is all a revert reads of the disks.
 */
class DomainCatalogTest {

    private static final String UUID = "6f1e4a52-0d3b-4c8e-9a1f-000000000007";
    private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");
    private static final Path BASE = Path.of("/images/disk2.raw");
    private static final Path OV1 = Path.of("/images/disk2.s1.qcow2");
    private static final Path OV2 = Path.of("/images/disk2.s2.qcow2");
    private static final Path A = Path.of("/images/disk0.qcow2");

    @Test
    void mergedDownTheNewerSnapshotFreezesTheImageBelowAndKeepsItsMemory() {
        DiskSnapshot s1c = new DiskSnapshot("xvdc", SnapshotKind.EXTERNAL, BASE, DiskFormat.RAW, OV1);
        DiskSnapshot s1a = new DiskSnapshot("xvda", SnapshotKind.INTERNAL, A, DiskFormat.QCOW2, null);
        DiskSnapshot s2c = new DiskSnapshot("xvdc", SnapshotKind.EXTERNAL, OV1, DiskFormat.QCOW2, OV2);
        DiskSnapshot s2a = new DiskSnapshot("xvda", SnapshotKind.INTERNAL, A, DiskFormat.QCOW2, null);
        MemoryImage memory = new MemoryImage(Path.of("/state/memory/s2.xlsave"), 4096, "");
        SnapshotInfo s1 = new SnapshotInfo(UUID, "s1", "", T, null, List.of(s1a, s1c));
        SnapshotInfo s2 = new SnapshotInfo(UUID, "s2", "with memory", T.plusSeconds(1), "s1", List.of(s2a, s2c),
                memory, true, Duration.ofMillis(5));
        List<DiskImage> disks = List.of(new DiskImage("xvda", A, DiskFormat.QCOW2),
                new DiskImage("xvdc", OV2, DiskFormat.QCOW2));
        DomainCatalog before = new DomainCatalog(UUID, "vm7", "s2", disks, Optional.empty(), List.of(s1, s2));

        DomainCatalog after = before.withoutSnapshotMergedDown("s1");

        assertThat(after.snapshots()).singleElement().isEqualTo(new SnapshotInfo(UUID, "s2", "with memory",
                T.plusSeconds(1), null, List.of(s2a, new DiskSnapshot("xvdc", SnapshotKind.EXTERNAL, BASE,
                        DiskFormat.RAW, OV2)), memory, true, Duration.ofMillis(5)));
        assertThat(after.current()).isEqualTo("s2");
        assertThat(after.disks()).isEqualTo(disks);
        // the plain removal leaves the newer record as it was: only a merge down moves the frozen image
        assertThat(before.withoutSnapshot("s1").snapshot("s2").orElseThrow().disks()).containsExactly(s2a, s2c);
    }
}
