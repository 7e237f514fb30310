package io.xensnap.internal.engine.reconcile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.qemuimg.ImageInfo;
import io.xensnap.internal.qemuimg.QemuImgException;

/**
 * Reports what the domain's images hold that the catalog does not: internal snapshots it does not list and layers
 * above the images it knows. It removes nothing: such a snapshot or overlay may be an operator's, or the only copy of
 * what a lost catalog described. Without any catalog file, finding one means the catalog may have been lost, which is
 * reported on its own.
 */
final class UnknownTraces {

    /**
     * The tag a revert gives its temporary undo snapshots
     * ({@link io.xensnap.internal.catalog.PendingOperation#undoTag()}).
     */
    private static final Pattern UNDO = Pattern.compile("xensnap-undo-[0-9]+");

    /** One layer of a disk's chain: its file and its internal snapshots. */
    record Layer(Path file, List<String> snapshots) {
    }

    private final ImageHeaders headers;
    private final Findings findings;

    UnknownTraces(ImageHeaders headers, Findings findings) {
        this.headers = headers;
        this.findings = findings;
    }

    /** The chains QEMU runs for a running domain's disks. */
    void live(DomainCatalog catalog, boolean catalogExists, Path catalogFile, LiveDomain domain) {
        List<List<Layer>> chains = new ArrayList<>();
        List<String> vdevs = new ArrayList<>();
        for (LiveDomain.Disk d : domain.disks()) {
            if (d.qdisk() && !d.layers().isEmpty()) {
                vdevs.add(d.vdev());
                chains.add(d.layers().stream().map(l -> new Layer(l.file(), l.snapshots())).toList());
            }
        }
        check(catalog, catalogExists, catalogFile, vdevs, chains);
    }

    /** The chains the image headers of a shut-off domain's disks name. */
    void offline(DomainCatalog catalog, boolean catalogExists, Path catalogFile, List<DiskImage> disks) {
        List<List<Layer>> chains = new ArrayList<>();
        List<String> vdevs = new ArrayList<>();
        for (DiskImage d : disks) {
            try {
                List<Layer> chain = new ArrayList<>();
                for (ImageInfo i : headers.layers(d.image(), d.format().id())) {
                    chain.add(new Layer(Path.of(i.filename()), i.snapshots().stream().map(s -> s.name()).toList()));
                }
                vdevs.add(d.vdev());
                chains.add(chain);
            } catch (QemuImgException e) {
                // an unreadable or missing image is the drift check's finding
                continue;
            }
        }
        check(catalog, catalogExists, catalogFile, vdevs, chains);
    }

    private void check(DomainCatalog catalog, boolean catalogExists, Path catalogFile, List<String> vdevs,
                       List<List<Layer>> chains) {
        Set<Path> known = known(catalog);
        Set<String> listed = listedInternal(catalog);
        int unknown = 0;
        for (int i = 0; i < chains.size(); i++) {
            List<Layer> chain = chains.get(i);
            String vdev = vdevs.get(i);
            int topKnown = -1;
            for (int k = 0; k < chain.size() && topKnown < 0; k++) {
                if (known.contains(chain.get(k).file())) {
                    topKnown = k;
                }
            }
            // above the highest layer the catalog knows; with none known, everything above the base image
            int above = topKnown >= 0 ? topKnown : chain.size() - 1;
            for (int k = 0; k < above; k++) {
                unknown++;
                findings.reported(Code.UNKNOWN_OVERLAY, vdev + " " + chain.get(k).file(), "the disk's chain "
                        + chain.stream().map(Layer::file).toList() + " has this layer, which no catalog records;"
                        + " xensnap cannot delete or revert across it and left it as it is. If xensnap made it, its"
                        + " catalog entry is lost");
            }
            unknown += unknownSnapshots(vdev, chain, listed);
        }
        if (!catalogExists && unknown > 0) {
            findings.reported(Code.CATALOG_MISSING, catalogFile.toString(), "this domain has no catalog, yet its"
                    + " images hold " + unknown + " snapshot(s) or overlay(s) that no catalog records; if xensnap"
                    + " made them, the catalog was lost: put it back from a copy (xensnap does not rebuild a catalog"
                    + " from the images)");
        }
    }

    /** @return each internal snapshot the catalog lists, as "image\nname" */
    private static Set<String> listedInternal(DomainCatalog catalog) {
        Set<String> listed = new HashSet<>();
        for (SnapshotInfo s : catalog.snapshots()) {
            for (DiskSnapshot d : s.disks()) {
                if (d.kind() == SnapshotKind.INTERNAL) {
                    listed.add(d.image() + "\n" + s.name());
                }
            }
        }
        return listed;
    }

    /** @return how many internal snapshots of the chain no catalog lists, each of them reported */
    private int unknownSnapshots(String vdev, List<Layer> chain, Set<String> listed) {
        int unknown = 0;
        for (Layer l : chain) {
            for (String name : l.snapshots()) {
                if (listed.contains(l.file() + "\n" + name)) {
                    continue;
                }
                unknown++;
                findings.reported(Code.UNKNOWN_SNAPSHOT, vdev + " " + l.file() + " " + name,
                        UNDO.matcher(name).matches()
                                ? "a temporary undo snapshot of a revert that no catalog lists: that revert is"
                                + " over, so it is not needed; left in place. Delete it by hand once sure"
                                + " (qemu-img snapshot -d while the domain is shut off)"
                                : "an internal snapshot no catalog lists (made by hand, or its catalog entry is"
                                + " lost); xensnap neither reverts to nor deletes it, and left it in place");
            }
        }
        return unknown;
    }

    /** @return every file the catalog names: disks, snapshots' images and overlays, files it made */
    private static Set<Path> known(DomainCatalog catalog) {
        Set<Path> known = new HashSet<>(catalog.made());
        catalog.disks().forEach(d -> known.add(d.image()));
        for (SnapshotInfo s : catalog.snapshots()) {
            for (DiskSnapshot d : s.disks()) {
                known.add(d.image());
                if (d.overlay() != null) {
                    known.add(d.overlay());
                }
            }
        }
        return known;
    }
}
