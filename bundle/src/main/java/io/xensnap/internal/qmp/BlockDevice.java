package io.xensnap.internal.qmp;

import java.util.List;
import java.util.Objects;

/**
 * A block device with a medium, as {@code query-block} and {@code query-blockstats} describe it.
 *
 * @param device    the BlockBackend name ({@code drive0}, {@code ide0-hd0}); empty for a Xen qdisk, whose backend is
 *                  anonymous
 * @param qdev      the attached device's QOM path, empty when none ({@code -machine none})
 * @param nodeName  the current root (active layer) node-name; it changes with every external snapshot
 * @param driver    the root's format driver ({@code qcow2}, {@code raw})
 * @param file      the root's image file name as QEMU reports it
 * @param nodeChain node-names from the root down the backing chain
 * @param fileChain image file names from the root down the backing chain
 * @param snapshots the internal snapshots of the root layer
 * @param virtualSize the root's virtual size in bytes, {@code -1} when QEMU did not say
 */
public record BlockDevice(String device, String qdev, String nodeName, String driver, String file,
                          List<String> nodeChain, List<String> fileChain, List<InternalSnapshotInfo> snapshots,
                          long virtualSize) {

    private static final String PERIPHERAL = "/machine/peripheral/";

    public BlockDevice {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(qdev, "qdev");
        Objects.requireNonNull(nodeName, "nodeName");
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(file, "file");
        nodeChain = List.copyOf(nodeChain);
        fileChain = List.copyOf(fileChain);
        snapshots = List.copyOf(snapshots);
    }

    /**
     * @return the name commands take as {@code device}: the BlockBackend name when there is one, else the root
     *         node-name ({@code device:"xvda"} fails for a qdisk, {@code device:"xvda-qcow2"} works:
     *         docs/qemu.md#qdisk-nodes)
     */
    public String target() {
        return device.isEmpty() ? nodeName : device;
    }

    /** @return the id of the attached device ({@code xvda} for {@code /machine/peripheral/xvda/virtio-backend}), or empty */
    public String qdevId() {
        if (!qdev.startsWith(PERIPHERAL)) {
            return "";
        }
        String rest = qdev.substring(PERIPHERAL.length());
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }

    /** @return {@code true} when the root layer has an internal snapshot named {@code name} */
    public boolean hasSnapshot(String name) {
        return snapshots.stream().anyMatch(s -> s.name().equals(name));
    }
}
