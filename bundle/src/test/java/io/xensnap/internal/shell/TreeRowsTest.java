package io.xensnap.internal.shell;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotTree;

class TreeRowsTest {

    private static final String UUID = "6f1e4a52-0d3b-4c8e-9a1f-2b7c5d9e0f13";

    @Test
    void childrenAreDrawnBelowTheirParentDepthFirstOldestFirst() {
        SnapshotTree tree = new SnapshotTree(UUID, "d", List.of(snap("a", null, 1), snap("b", "a", 2),
                snap("c", "a", 3), snap("d", "b", 4), snap("x", null, 5)));

        assertThat(TreeRows.of(tree)).extracting(TreeRows.Row::label).containsExactly(
                "a",
                "├─ b",
                "│  └─ d",
                "└─ c",
                "x");
    }

    @Test
    void anEmptyTreeHasNoRows() {
        assertThat(TreeRows.of(new SnapshotTree(UUID, null, List.of()))).isEmpty();
    }

    private static SnapshotInfo snap(String name, String parent, long second) {
        return new SnapshotInfo(UUID, name, "", Instant.ofEpochSecond(second), parent, List.of(
                new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2, null)));
    }
}
