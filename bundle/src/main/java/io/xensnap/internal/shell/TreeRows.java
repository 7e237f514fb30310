package io.xensnap.internal.shell;

import java.util.ArrayList;
import java.util.List;

import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotTree;

/** Lays a snapshot tree out as table rows, depth first, each name drawn below its parent. */
final class TreeRows {

    /**
     * @param label the name with the tree drawn before it
     * @param info  the snapshot
     */
    record Row(String label, SnapshotInfo info) {
    }

    private TreeRows() {
    }

    static List<Row> of(SnapshotTree tree) {
        List<Row> rows = new ArrayList<>();
        for (SnapshotInfo root : tree.roots()) {
            walk(tree, root, "", "", rows);
        }
        return rows;
    }

    private static void walk(SnapshotTree tree, SnapshotInfo s, String prefix, String childPrefix, List<Row> rows) {
        rows.add(new Row(prefix + s.name(), s));
        List<SnapshotInfo> children = tree.children(s.name());
        for (int i = 0; i < children.size(); i++) {
            boolean last = i == children.size() - 1;
            walk(tree, children.get(i), childPrefix + (last ? "└─ " : "├─ "), childPrefix + (last ? "   " : "│  "),
                    rows);
        }
    }
}
