package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import io.xensnap.internal.qmp.QmpException.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/** Lists the block devices of a QEMU and resolves a disk name to the device that QMP commands must address. */
public final class BlockDevices {

    /** Format drivers libxl passes for qdisk ({@code libxl__qemu_disk_format_string}, docs/qemu.md#qdisk-nodes). */
    private static final Set<String> QDISK_DRIVERS = Set.of("qcow2", "raw", "vpc", "qed", "qcow");

    private final QmpConnection qmp;

    public BlockDevices(QmpConnection qmp) {
        this.qmp = qmp;
    }

    /** The queries {@link #of} reads, for a caller that sends them together with its own. */
    public static final List<String> QUERIES = List.of("query-block", "query-blockstats");

    /** @return every device with a medium, in QEMU's order */
    public List<BlockDevice> list() throws QmpException {
        List<JsonNode> answers = qmp.executeAll(QUERIES);
        return of(answers.get(0), answers.get(1));
    }

    /** @return every device with a medium, from the answers to {@link #QUERIES}, in QEMU's order */
    public static List<BlockDevice> of(JsonNode blocks, JsonNode stats) {
        Map<String, List<String>> chains = new HashMap<>();
        for (JsonNode s : stats) {
            List<String> chain = new ArrayList<>();
            for (JsonNode n = s; n.hasNonNull("node-name"); n = n.path("backing")) {
                chain.add(n.get("node-name").asText());
            }
            if (!chain.isEmpty()) {
                chains.put(chain.get(0), chain);
            }
        }
        List<BlockDevice> devices = new ArrayList<>();
        for (JsonNode b : blocks) {
            JsonNode inserted = b.get("inserted");
            if (inserted == null) {
                continue;
            }
            String root = inserted.path("node-name").asText("");
            List<String> files = new ArrayList<>();
            for (JsonNode img = inserted.path("image"); img.has("filename"); img = img.path("backing-image")) {
                files.add(img.get("filename").asText());
            }
            List<InternalSnapshotInfo> snapshots = new ArrayList<>();
            for (JsonNode s : inserted.path("image").path("snapshots")) {
                snapshots.add(InternalSnapshotInfo.fromJson(s));
            }
            devices.add(new BlockDevice(b.path("device").asText(""), b.path("qdev").asText(""), root,
                    inserted.path("drv").asText(""), inserted.path("file").asText(""),
                    chains.getOrDefault(root, List.of(root)), files, snapshots,
                    inserted.path("image").path("virtual-size").asLong(-1)));
        }
        return devices;
    }

    /**
     * Finds the device of {@code disk}, trying in order: the BlockBackend name ({@code drive0}, {@code ide0-hd0}),
     * the attached device's id ({@code xvda}), the root node-name either as given or as a qdisk's
     * {@code <disk>-<driver>}, and finally that node further down a backing chain, which is where a qdisk's original
     * node ends up after an external snapshot. Call it again after anything that changes the root.
     *
     * @throws QmpException NO_SUCH_DISK when nothing matches, or when one step matches several devices
     */
    public BlockDevice resolve(String disk) throws QmpException {
        return resolve(disk, list());
    }

    /**
     * {@link #resolve(String)} among devices listed once by {@link #list()}: for many disks, two queries instead of
     * two per disk.
     */
    public BlockDevice resolve(String disk, List<BlockDevice> all) throws QmpException {
        List<Predicate<BlockDevice>> steps = List.of(
                d -> d.device().equals(disk),
                d -> d.qdevId().equals(disk),
                d -> names(disk, d.nodeName()),
                d -> d.nodeChain().stream().skip(1).anyMatch(n -> names(disk, n)));
        for (Predicate<BlockDevice> step : steps) {
            List<BlockDevice> found = all.stream().filter(step).toList();
            if (found.size() == 1) {
                return found.get(0);
            }
            if (found.size() > 1) {
                throw QmpException.of(Kind.NO_SUCH_DISK, qmp.domain(), "disk '" + disk + "' is ambiguous: "
                        + found.stream().map(BlockDevice::target).toList());
            }
        }
        throw QmpException.of(Kind.NO_SUCH_DISK, qmp.domain(), "no block device for disk '" + disk + "'; devices: "
                + all.stream().map(d -> d.target() + (d.qdevId().isEmpty() ? "" : "@" + d.qdevId())).toList());
    }

    private static boolean names(String disk, String node) {
        if (node.equals(disk)) {
            return true;
        }
        return node.startsWith(disk + "-") && QDISK_DRIVERS.contains(node.substring(disk.length() + 1));
    }
}
