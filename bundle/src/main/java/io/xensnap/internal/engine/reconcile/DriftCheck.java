package io.xensnap.internal.engine.reconcile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.qemuimg.ImageInfo;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.qmp.BlockDevice;

/**
 * Compares the views of a domain with no operation pending, and reports every disagreement. It repairs nothing:
 * without a pending mark nothing says which view is right, and a guess could throw away the guest's data.
 */
final class DriftCheck {

    private final ImageHeaders headers;
    private final Findings findings;

    DriftCheck(ImageHeaders headers, Findings findings) {
        this.headers = headers;
        this.findings = findings;
    }

    /** QEMU, xenstore, libxl's config, the catalog and the image headers of a running domain. */
    void live(DomainCatalog catalog, LiveDomain domain) {
        for (LiveDomain.Disk disk : domain.disks()) {
            if (!disk.qdisk() || disk.format().isEmpty()) {
                continue;
            }
            Optional<DiskImage> known = catalogDisk(catalog, disk.vdev());
            if (disk.qemu().isEmpty()) {
                findings.reported(Code.VIEWS_DISAGREE, disk.vdev(), "xenstore names " + disk.xenstore().target()
                        + " but QEMU serves no device for it");
                continue;
            }
            BlockDevice bd = disk.qemu().get();
            Map<String, String> images = new LinkedHashMap<>();
            images.put("QEMU", bd.file());
            images.put("xenstore", disk.xenstore().target());
            disk.libxl().flatMap(LibxlDisk::pdevPath).ifPresent(p -> images.put("libxl", p));
            known.ifPresent(k -> images.put("catalog", k.image().toString()));
            if (images.values().stream().distinct().count() > 1) {
                findings.reported(Code.VIEWS_DISAGREE, disk.vdev(), "the disk's image is named differently: " + images);
            }
            Map<String, String> formats = new LinkedHashMap<>();
            formats.put("QEMU", bd.driver());
            formats.put("xenstore", disk.xenstore().format().libxlName());
            disk.libxl().map(LibxlDisk::format).filter(f -> f != LibxlDiskFormat.UNKNOWN)
                    .ifPresent(f -> formats.put("libxl", f.jsonName()));
            known.ifPresent(k -> formats.put("catalog", k.format().id()));
            if (formats.values().stream().distinct().count() > 1) {
                findings.reported(Code.VIEWS_DISAGREE, disk.vdev(), "the disk's format is named differently: "
                        + formats);
            }
            try {
                List<Path> onDisk = headers.chain(Path.of(bd.file()), bd.driver());
                if (!onDisk.equals(disk.chain())) {
                    findings.reported(Code.HEADER_MISMATCH, disk.vdev(), "QEMU runs the chain " + disk.chain()
                            + " but the image headers say " + onDisk + "; after a restart the disk would read "
                            + "the headers' chain");
                }
            } catch (QemuImgException e) {
                findings.reported(Code.HEADER_MISMATCH, disk.vdev(), "the headers of " + bd.file()
                        + " cannot be read: " + e.getMessage());
            }
        }
        for (DiskImage d : catalog.disks()) {
            if (domain.disk(d.vdev()).isEmpty()) {
                findings.reported(Code.VIEWS_DISAGREE, d.vdev(), "the catalog knows this disk (" + d.image()
                        + ") but the running domain has none");
            }
        }
        snapshots(catalog, domain);
    }

    /** The catalog against the image headers of a shut-off domain. */
    void offline(DomainCatalog catalog, List<DiskImage> disks) {
        for (DiskImage d : disks) {
            if (!Files.exists(d.image())) {
                findings.reported(Code.IMAGE_MISSING, d.vdev(), "the disk's image " + d.image() + " does not exist");
                continue;
            }
            try {
                headers.chain(d.image(), d.format().id());
            } catch (QemuImgException e) {
                findings.reported(Code.HEADER_MISMATCH, d.vdev(), "the headers of " + d.image()
                        + " cannot be read: " + e.getMessage());
            }
        }
        snapshots(catalog, null);
    }

    /** Every snapshot's images exist and hold what the catalog says; QEMU's view wins for the layers it runs. */
    private void snapshots(DomainCatalog catalog, LiveDomain domain) {
        for (SnapshotInfo s : catalog.snapshots()) {
            for (DiskSnapshot d : s.disks()) {
                List<Path> missing = new ArrayList<>();
                if (!Files.exists(d.image())) {
                    missing.add(d.image());
                }
                if (d.kind() == SnapshotKind.EXTERNAL && !Files.exists(d.overlay())) {
                    missing.add(d.overlay());
                }
                if (!missing.isEmpty()) {
                    findings.reported(Code.IMAGE_MISSING, "snapshot " + s.name() + " " + d.vdev(),
                            "missing: " + missing);
                    continue;
                }
                if (d.kind() == SnapshotKind.INTERNAL && !holds(domain, d, s.name())) {
                    findings.reported(Code.SNAPSHOT_MISSING, "snapshot " + s.name() + " " + d.vdev(),
                            "image " + d.image() + " no longer holds the internal snapshot");
                }
            }
        }
    }

    private boolean holds(LiveDomain domain, DiskSnapshot d, String name) {
        if (domain != null) {
            Optional<LiveDomain.Layer> layer = domain.disk(d.vdev()).flatMap(x -> x.layer(d.image()));
            if (layer.isPresent()) {
                return layer.get().snapshots().contains(name);
            }
        }
        try {
            Optional<ImageInfo> info = headers.info(d.image(), DiskFormat.QCOW2.id());
            return info.isPresent() && !info.get().snapshotsNamed(name).isEmpty();
        } catch (QemuImgException e) {
            return false;
        }
    }

    private static Optional<DiskImage> catalogDisk(DomainCatalog catalog, String vdev) {
        return catalog.disks().stream().filter(d -> d.vdev().equals(vdev)).findFirst();
    }
}
