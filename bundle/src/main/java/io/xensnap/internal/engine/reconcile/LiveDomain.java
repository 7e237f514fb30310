package io.xensnap.internal.engine.reconcile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import io.xensnap.api.DiskFormat;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.qmp.BlockDevice;
import io.xensnap.internal.qmp.BlockDevices;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;
import io.xensnap.internal.xenstore.BackendKind;
import io.xensnap.internal.xenstore.DomainDisk;
import io.xensnap.internal.xenstore.DomainDisks;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * A running domain as its peers describe it at one moment, for reconcile: per disk the xenstore backend, the chain
 * QEMU runs (with the internal snapshots of every layer) and libxl's stored config; and the block jobs QEMU has.
 *
 * @param domid the domain
 * @param name  its name in xenstore
 * @param disks its disks in devid order
 * @param jobs  the jobs in {@code query-jobs}: id to status
 */
record LiveDomain(int domid, String name, List<LiveDomain.Disk> disks, Map<String, String> jobs) {

    /** One layer of a chain QEMU runs: its file and the internal snapshots it holds. */
    record Layer(Path file, List<String> snapshots) {
        Layer {
            Objects.requireNonNull(file, "file");
            snapshots = List.copyOf(snapshots);
        }
    }

    /**
     * @param xenstore the backend as xenstore has it
     * @param qemu     QEMU's device for it, empty when QEMU serves none (phy, or something is wrong)
     * @param layers   QEMU's chain, top first; empty without a device
     * @param libxl    the disk in libxl's stored config, empty when there is no config or no such disk in it
     */
    record Disk(DomainDisk xenstore, Optional<BlockDevice> qemu, List<Layer> layers, Optional<LibxlDisk> libxl) {
        Disk {
            Objects.requireNonNull(xenstore, "xenstore");
            Objects.requireNonNull(qemu, "qemu");
            layers = List.copyOf(layers);
            Objects.requireNonNull(libxl, "libxl");
        }

        String vdev() {
            return xenstore.vdev();
        }

        /** @return the top image xenstore names, empty for an empty drive */
        Optional<Path> top() {
            return xenstore.target().isEmpty() ? Optional.empty() : Optional.of(Path.of(xenstore.target()));
        }

        /** @return the format in xensnap's terms, empty for one it does not handle */
        Optional<DiskFormat> format() {
            return switch (xenstore.format()) {
                case QCOW2 -> Optional.of(DiskFormat.QCOW2);
                case RAW -> Optional.of(DiskFormat.RAW);
                default -> Optional.empty();
            };
        }

        /** @return whether QEMU serves this disk, so that its chain and snapshots are QEMU's business */
        boolean qdisk() {
            return xenstore.kind() == BackendKind.QDISK && !xenstore.cdrom() && !xenstore.target().isEmpty();
        }

        Optional<Layer> layer(Path file) {
            return layers.stream().filter(l -> l.file().equals(file)).findFirst();
        }

        List<Path> chain() {
            return layers.stream().map(Layer::file).toList();
        }
    }

    LiveDomain {
        Objects.requireNonNull(name, "name");
        disks = List.copyOf(disks);
        jobs = Map.copyOf(jobs);
    }

    Optional<Disk> disk(String vdev) {
        return disks.stream().filter(d -> d.vdev().equals(vdev)).findFirst();
    }

    /** @return every file in the chains QEMU runs for this domain */
    Set<Path> chainFiles() {
        Set<Path> out = new LinkedHashSet<>();
        disks.forEach(d -> out.addAll(d.chain()));
        return out;
    }

    /**
     * @param libxl the domain's stored config held under libxl's lock, or {@code null} when it has none
     */
    static LiveDomain read(int domid, XenstoreClient xs, QmpConnection qmp, DomainConfigStore.Session libxl)
            throws XenstoreException, QmpException, LibxlConfigException {
        DomainDisks dd = new DomainDisks(xs);
        String name = dd.domain(domid).name();
        BlockDevices devices = new BlockDevices(qmp);
        JsonNode blocks = qmp.execute("query-block");
        List<Disk> disks = new ArrayList<>();
        for (DomainDisk x : dd.disks(domid)) {
            Optional<BlockDevice> bd = Optional.empty();
            List<Layer> layers = List.of();
            if (x.kind() == BackendKind.QDISK && !x.cdrom()) {
                try {
                    bd = Optional.of(devices.resolve(x.vdev()));
                    layers = layers(blocks, bd.get().nodeName());
                } catch (QmpException e) {
                    if (e.kind() != QmpException.Kind.NO_SUCH_DISK) {
                        throw e;
                    }
                }
            }
            disks.add(new Disk(x, bd, layers, libxlDisk(libxl, x.vdev())));
        }
        Map<String, String> jobs = new LinkedHashMap<>();
        for (JsonNode j : qmp.execute("query-jobs")) {
            jobs.put(j.path("id").asText(), j.path("status").asText());
        }
        return new LiveDomain(domid, name, disks, jobs);
    }

    private static Optional<LibxlDisk> libxlDisk(DomainConfigStore.Session libxl, String vdev)
            throws LibxlConfigException {
        if (libxl == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(libxl.readDisk(vdev));
        } catch (LibxlConfigException e) {
            if (e.reason() == LibxlConfigException.Reason.NO_SUCH_DISK) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** query-block describes the whole chain below a root, with each layer's own internal snapshots. */
    private static List<Layer> layers(JsonNode blocks, String rootNode) {
        for (JsonNode b : blocks) {
            JsonNode in = b.path("inserted");
            if (!rootNode.equals(in.path("node-name").asText())) {
                continue;
            }
            List<Layer> out = new ArrayList<>();
            for (JsonNode img = in.path("image"); img.has("filename"); img = img.path("backing-image")) {
                List<String> names = new ArrayList<>();
                for (JsonNode s : img.path("snapshots")) {
                    names.add(s.path("name").asText());
                }
                out.add(new Layer(Path.of(img.get("filename").asText()), names));
            }
            return out;
        }
        return List.of();
    }
}
