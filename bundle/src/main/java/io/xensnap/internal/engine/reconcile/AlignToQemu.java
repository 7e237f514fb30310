package io.xensnap.internal.engine.reconcile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.xensnap.api.DiskImage;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.qmp.BlockDevice;
import io.xensnap.internal.xenstore.DiskImageSwap;
import io.xensnap.internal.xenstore.LibxlFormat;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * Settles the one disagreement of a running domain, with nothing pending, whose answer is certain: QEMU runs a disk on
 * the image the catalog names and the image headers describe the chain QEMU runs, but xenstore's backend or libxl's
 * stored config names another image. QEMU is where the guest's writes go, so those two are stale descriptions: they
 * are written to name QEMU's image (a restart then boots what the guest has been writing). Left as it was, such a disk
 * refuses every create and delete (they read the disk's image from xenstore) while reconcile could only report it.
 *
 * <p>Any other disagreement (QEMU and the catalog differ, the headers differ from QEMU's chain) has no certain answer
 * and is left to {@link DriftCheck} to report.
 */
final class AlignToQemu {

    private final ImageHeaders headers;
    private final Findings findings;

    AlignToQemu(ImageHeaders headers, Findings findings) {
        this.headers = headers;
        this.findings = findings;
    }

    /** @return whether anything was written */
    boolean run(DomainCatalog catalog, LiveDomain domain, DomainConfigStore.Session libxl, XenstoreClient xs) {
        boolean wrote = false;
        for (LiveDomain.Disk disk : domain.disks()) {
            if (!disk.qdisk() || disk.qemu().isEmpty() || disk.format().isEmpty()) {
                continue;
            }
            BlockDevice bd = disk.qemu().get();
            Path top = Path.of(bd.file());
            Optional<DiskImage> known = catalog.disks().stream().filter(d -> d.vdev().equals(disk.vdev())).findFirst();
            if (known.isEmpty() || !known.get().image().equals(top) || !known.get().format().id().equals(bd.driver())) {
                continue;
            }
            boolean xenstoreStale = !disk.xenstore().target().equals(top.toString())
                    || !disk.format().get().equals(known.get().format());
            boolean libxlStale = libxl != null && disk.libxl().isPresent() && (!disk.libxl().get().pdevPath()
                    .filter(top.toString()::equals).isPresent()
                    || disk.libxl().get().format() != LibxlDiskFormat.valueOf(known.get().format().name()));
            if (!xenstoreStale && !libxlStale) {
                continue;
            }
            try {
                if (!headers.chain(top, bd.driver()).equals(disk.chain())) {
                    continue;
                }
            } catch (QemuImgException e) {
                // no proof that the headers agree with QEMU: nothing is written, and the drift check that runs next
                // reports the disagreement
                continue;
            }
            wrote |= align(disk, top, known.get(), libxlStale ? libxl : null, xenstoreStale ? xs : null);
        }
        return wrote;
    }

    /**
     * Writes the views that are stale (those given) to name QEMU's top image, and reports it.
     *
     * @param libxl libxl's config when it is stale, else {@code null}
     * @param xs xenstore when its backend is stale, else {@code null}
     * @return whether anything was written
     */
    private boolean align(LiveDomain.Disk disk, Path top, DiskImage known, DomainConfigStore.Session libxl,
            XenstoreClient xs) {
        List<String> done = new ArrayList<>();
        String was = "xenstore named " + disk.xenstore().target()
                + disk.libxl().flatMap(LibxlDisk::pdevPath).map(p -> ", libxl's config " + p).orElse("");
        try {
            if (libxl != null) {
                libxl.setDisks(List.of(new LibxlDisk(disk.vdev(), top.toString(),
                        LibxlDiskFormat.valueOf(known.format().name()))));
                done.add("libxl's config");
            }
            if (xs != null) {
                new DiskImageSwap(xs).swap(disk.xenstore(), LibxlFormat.ofLibxlName(known.format().id()),
                        top.toString());
                done.add("xenstore");
            }
        } catch (LibxlConfigException | XenstoreException e) {
            findings.reported(Code.REPAIR_FAILED, disk.vdev(), "QEMU and the catalog name " + top + " but " + was
                    + "; writing them to match QEMU failed after " + (done.isEmpty() ? "nothing"
                    : String.join(", ", done)) + ": " + e.getMessage());
            return !done.isEmpty();
        }
        findings.repaired(Code.VIEWS_ALIGNED, disk.vdev(), "QEMU runs " + top + " (the catalog and the image"
                + " headers agree) but " + was + "; wrote " + String.join(" and ", done) + " to name " + top
                + ", the image the guest writes to");
        return true;
    }
}
