package io.xensnap.internal.engine.create;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.DomainView;
import io.xensnap.internal.engine.OverlayPlace;
import io.xensnap.internal.xenstore.DiskImageSwap;
import io.xensnap.internal.xenstore.LibxlFormat;

/**
 * Validates a create request against the domain as it is. Pure: reads only, changes nothing, so that a refused request
 * leaves no file, no xenstore node and no catalog entry behind.
 */
public final class CreatePlanner {

    private final OverlayPolicy overlays;
    private final CreateGuards guards;

    private final BiFunction<String, String, Path> memoryImages;
    private final ConfigReader configs;

    /** Reads libxl's stored config of a running domain (only read: the planner changes nothing). */
    @FunctionalInterface
    public interface ConfigReader {
        /** @return the config as JSON, empty when libxl keeps none of the domain */
        Optional<byte[]> read(DomainView domain) throws SnapshotException;
    }

    /**
     * @param memoryImages where the save image of a domain's (uuid) snapshot (name) goes
     * @param configs      libxl's config of a running domain, read when a snapshot with memory must restore it
     */
    public CreatePlanner(OverlayPolicy overlays, CreateLimits limits, BiFunction<String, String, Path> memoryImages,
                         ConfigReader configs) {
        this.overlays = overlays;
        this.guards = new CreateGuards(limits);
        this.memoryImages = memoryImages;
        this.configs = configs;
    }

    public CreatePlan plan(SnapshotRequest request, DomainView domain, DomainCatalog catalog) throws SnapshotException {
        if (catalog.snapshot(request.name()).isPresent()) {
            throw new SnapshotException(SnapshotError.SNAPSHOT_EXISTS,
                    domain.label() + " already has a snapshot named " + request.name());
        }
        if (catalog.pending().isPresent()) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, domain.label() + ": an earlier "
                    + catalog.pending().get().kind() + " of snapshot " + catalog.pending().get().snapshot()
                    + " did not finish; reconcile the domain first");
        }
        List<DiskSpec> specs = request.disks().isEmpty() ? defaults(domain) : request.disks();
        List<DiskPlan> plans = new ArrayList<>();
        Set<Path> overlayPaths = new HashSet<>();
        for (DiskSpec spec : specs) {
            DiskView disk = domain.disk(spec.vdev()).orElseThrow(() -> new SnapshotException(SnapshotError.NO_SUCH_DISK,
                    domain.label() + " has no disk " + spec.vdev() + "; its disks: "
                            + domain.disks().stream().map(DiskView::vdev).toList()));
            DiskPlan plan = planDisk(domain, disk, spec, request, catalog);
            if (plan.overlay() != null && !overlayPaths.add(plan.overlay())) {
                throw new SnapshotException(SnapshotError.INVALID_ARGUMENT,
                        "two disks would get the same overlay " + plan.overlay());
            }
            plans.add(plan);
        }
        if (plans.isEmpty()) {
            throw new SnapshotException(SnapshotError.NO_SUCH_DISK, domain.label() + " has no disk to snapshot");
        }
        Path memory = request.memory() ? memoryImage(request, domain, plans) : null;
        if (memory != null && plans.stream().anyMatch(p -> p.disk().backend() == DiskView.Backend.PHY)) {
            RestoreChecks.check(domain, configs.read(domain), memory);
        }
        return new CreatePlan(domain, catalog, request.name(), request.description(), plans, memory,
                request.quiesce());
    }

    /**
     * A domain snapshot's checks: the memory saved must meet every disk at the same instant. Internal and external
     * disk snapshots both do: the config in the save image names an external disk's image, frozen from then on, and
     * a revert restores the domain on the fresh overlay it puts there instead.
     */
    private Path memoryImage(SnapshotRequest request, DomainView domain, List<DiskPlan> plans)
            throws SnapshotException {
        for (DiskView d : domain.disks()) {
            if (d.cdrom() || !d.writable()) {
                continue;
            }
            if (plans.stream().noneMatch(x -> x.disk().vdev().equals(d.vdev()))) {
                throw new SnapshotException(SnapshotError.INVALID_ARGUMENT, domain.label() + ": a snapshot with"
                        + " memory covers every writable disk, and disk " + d.vdev() + " is left out");
            }
        }
        Path image = memoryImages.apply(domain.uuid(), request.name());
        if (Files.exists(image, LinkOption.NOFOLLOW_LINKS)) {
            throw new SnapshotException(SnapshotError.SNAPSHOT_EXISTS, domain.label() + ": save image " + image
                    + " exists already; no snapshot of the catalog names it: remove it or choose another name");
        }
        return image;
    }

    /** Every writable disk: internal for qcow2, external beside the image for raw. */
    private static List<DiskSpec> defaults(DomainView domain) {
        List<DiskSpec> specs = new ArrayList<>();
        for (DiskView d : domain.disks()) {
            if (d.cdrom() || !d.writable()) {
                continue;
            }
            specs.add(d.format() == DiskFormat.QCOW2 ? DiskSpec.internal(d.vdev()) : DiskSpec.external(d.vdev(), null));
        }
        return specs;
    }

    private DiskPlan planDisk(DomainView domain, DiskView disk, DiskSpec spec, SnapshotRequest request,
            DomainCatalog catalog) throws SnapshotException {
        String what = domain.label() + " disk " + disk.vdev();
        String name = request.name();
        if (disk.backend() == DiskView.Backend.PHY) {
            phy(what, disk, spec, request.memory());
        }
        if (disk.cdrom()) {
            throw new SnapshotException(SnapshotError.UNSUPPORTED, what + " is a CD-ROM drive");
        }
        if (!disk.writable()) {
            throw new SnapshotException(SnapshotError.UNSUPPORTED, what + " is attached read-only; it never changes");
        }
        if (disk.format() == null) {
            throw new SnapshotException(SnapshotError.UNSUPPORTED,
                    what + " is in format " + disk.formatName() + "; xensnap handles qcow2 and raw");
        }
        if (spec.kind() == SnapshotKind.INTERNAL) {
            if (disk.format() != DiskFormat.QCOW2) {
                throw new SnapshotException(SnapshotError.UNSUPPORTED, what + " is raw, and raw images have no"
                        + " internal snapshots; ask for an external snapshot (a qcow2 overlay) instead");
            }
            guards.internalCount(what, disk);
            return new DiskPlan(disk, SnapshotKind.INTERNAL, null);
        }
        return external(what, disk, spec, name, catalog);
    }

    /**
     * A disk blkback serves: the kernel driver cannot open a qcow2 overlay, and the raw device has no snapshot table.
     * Only a snapshot with memory can take it: the domain is saved, destroyed, the disk gets its overlay while nothing
     * runs on it, and the domain is restored with the disk on the overlay, served by QEMU ({@link RestoringCreate}).
     */
    private static void phy(String what, DiskView disk, DiskSpec spec, boolean memory) throws SnapshotException {
        if (!memory) {
            throw new SnapshotException(SnapshotError.UNSUPPORTED, what + " is served by blkback (phy) from "
                    + disk.image() + ": blkback cannot open a qcow2 overlay or take internal snapshots while the"
                    + " domain runs. Ask for a snapshot with memory (--memory): the domain is then saved, the disk"
                    + " gets a qcow2 overlay while the domain is stopped, and the domain is restored on it, served"
                    + " by QEMU (a downtime of seconds); or snapshot it while the domain is shut off");
        }
        if (spec.kind() == SnapshotKind.INTERNAL) {
            throw new SnapshotException(SnapshotError.UNSUPPORTED, what + " is the raw device " + disk.image()
                    + " served by blkback: it has no snapshot table for an internal snapshot; ask for an external"
                    + " snapshot (a qcow2 overlay on it) instead");
        }
    }

    private DiskPlan external(String what, DiskView disk, DiskSpec spec, String name, DomainCatalog catalog)
            throws SnapshotException {
        if (spec.overlayFormat() != DiskFormat.QCOW2) {
            throw new SnapshotException(SnapshotError.UNSUPPORTED,
                    what + ": an overlay must be qcow2, the only format here that can have a backing image");
        }
        Path overlay = spec.overlay() != null ? spec.overlay() : defaultOverlay(catalog, disk, name);
        if (overlay.equals(disk.image())) {
            throw new SnapshotException(SnapshotError.INVALID_ARGUMENT, what + ": the overlay cannot be the image itself");
        }
        OverlayPlace place = overlays.place(overlay);
        Path checked = place.overlay();
        // a blkback disk's new backend is not swapped by xensnap: libxl makes it when it restores the domain
        if (disk.xenstore() != null && disk.backend() != DiskView.Backend.PHY) {
            // the backend must be able to name the overlay after QEMU switched to it, or the two would disagree
            Optional<String> refusal = DiskImageSwap.refusal(disk.xenstore(),
                    LibxlFormat.QCOW2, checked.toString());
            if (refusal.isPresent()) {
                throw new SnapshotException(SnapshotError.INVALID_ARGUMENT, what + ": overlay path " + checked + ": "
                        + refusal.get());
            }
        }
        // the limits last: a request that is wrong anyway is told so first
        guards.chain(what, disk);
        guards.freeSpace(what, place);
        return new DiskPlan(disk, SnapshotKind.EXTERNAL, place);
    }

    /**
     * The default overlay of a disk: beside its top image, named after the image below the overlays the catalog's
     * snapshots made ({@code /dir/disk.raw ← /dir/disk.s1.qcow2} → {@code /dir/disk.s2.qcow2}). Named after the top
     * itself, every snapshot would add its name to the next one's ({@code disk.s1.s2.s3….qcow2}) until a schedule
     * that keeps rolling its external snapshots hits the file name limit.
     */
    static Path defaultOverlay(DomainCatalog catalog, DiskView disk, String snapshot) {
        Path named = disk.image();
        // bounded: a catalog edited by hand might make a loop
        for (int i = 0; i < catalog.snapshots().size(); i++) {
            Path above = named;
            Optional<Path> below = catalog.snapshots().stream().flatMap(x -> x.disks().stream())
                    .filter(d -> d.vdev().equals(disk.vdev()) && d.kind() == SnapshotKind.EXTERNAL
                            && above.equals(d.overlay()))
                    .map(DiskSnapshot::image).findFirst();
            if (below.isEmpty()) {
                break;
            }
            named = below.get();
        }
        return disk.image().resolveSibling(defaultOverlay(named, snapshot).getFileName());
    }

    /** {@code /dir/disk.qcow2} → {@code /dir/disk.<snapshot>.qcow2}. */
    public static Path defaultOverlay(Path image, String snapshot) {
        String file = image.getFileName().toString();
        int dot = file.lastIndexOf('.');
        String stem = dot > 0 ? file.substring(0, dot) : file;
        return image.resolveSibling(stem + "." + snapshot + ".qcow2");
    }
}
