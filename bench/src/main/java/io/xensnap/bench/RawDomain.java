package io.xensnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.xensnap.harness.RealQemu;

/**
 * What a hand-written QMP script does to snapshot a domain whose node names it already knows: one connection, one
 * {@code transaction}, close. It keeps the current root node of each disk itself (an external snapshot moves it),
 * which is all the bookkeeping it does: no xenstore, no libxl config, no catalog, no checks.
 */
final class RawDomain {

    private final Path socket;
    private final List<String> roots = new ArrayList<>();
    private final List<String> bases = new ArrayList<>();
    private final List<Path> images = new ArrayList<>();
    private final List<Path> overlays = new ArrayList<>();

    RawDomain(RealQemu qemu) {
        this.socket = qemu.qmpSocket();
        for (RealQemu.Disk d : qemu.disks()) {
            roots.add(d.nodeName());
            bases.add(d.nodeName());
            images.add(d.image());
            overlays.add(null);
        }
    }

    int disks() {
        return roots.size();
    }

    Path socket() {
        return socket;
    }

    /** One transaction of {@code blockdev-snapshot-internal-sync} on every disk, on an open connection. */
    void internal(RawClient c, String name) throws IOException {
        StringBuilder actions = new StringBuilder();
        for (String node : roots) {
            comma(actions).append("{\"type\":\"blockdev-snapshot-internal-sync\",\"data\":{\"device\":\"").append(node)
                    .append("\",\"name\":\"").append(name).append("\"}}");
        }
        c.ok(transaction(actions));
    }

    /** Untimed clean-up: removes the internal snapshot {@code name} from every disk. */
    void deleteInternal(String name) throws IOException {
        try (RawClient c = RawClient.connect(socket)) {
            for (String node : roots) {
                c.ok("{\"execute\":\"blockdev-snapshot-delete-internal-sync\",\"arguments\":{\"device\":\"" + node
                        + "\",\"name\":\"" + name + "\"}}");
            }
        }
    }

    /** One transaction of {@code blockdev-snapshot-sync} (absolute-paths, node-name form) on every disk. */
    void external(RawClient c, String name) throws IOException {
        StringBuilder actions = new StringBuilder();
        List<String> next = new ArrayList<>();
        for (int k = 0; k < roots.size(); k++) {
            Path ov = images.get(k).resolveSibling("raw" + k + "-" + name + ".qcow2");
            String node = "raw" + k + "-" + name;
            overlays.set(k, ov);
            next.add(node);
            comma(actions).append("{\"type\":\"blockdev-snapshot-sync\",\"data\":{\"node-name\":\"").append(roots.get(k))
                    .append("\",\"snapshot-file\":\"").append(ov).append("\",\"snapshot-node-name\":\"").append(node)
                    .append("\",\"format\":\"qcow2\",\"mode\":\"absolute-paths\"}}");
        }
        c.ok(transaction(actions));
        roots.clear();
        roots.addAll(next);
    }

    /** Untimed clean-up: merges every disk's overlay back (active block-commit) and removes the overlay files. */
    void commitExternal() throws IOException {
        try (RawClient c = RawClient.connect(socket)) {
            for (int k = 0; k < roots.size(); k++) {
                String job = "c" + k;
                c.ok("{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"" + job + "\",\"device\":\""
                        + roots.get(k) + "\",\"base-node\":\"" + bases.get(k) + "\"}}");
                c.awaitEvent("\"BLOCK_JOB_READY\"", "\"" + job + "\"");
                c.ok("{\"execute\":\"block-job-complete\",\"arguments\":{\"device\":\"" + job + "\"}}");
                c.awaitEvent("\"BLOCK_JOB_COMPLETED\"", "\"" + job + "\"");
                roots.set(k, bases.get(k));
                Files.deleteIfExists(overlays.get(k));
            }
        }
    }

    private static String transaction(StringBuilder actions) {
        return "{\"execute\":\"transaction\",\"arguments\":{\"actions\":[" + actions + "]}}";
    }

    private static StringBuilder comma(StringBuilder b) {
        return b.length() == 0 ? b : b.append(',');
    }
}
