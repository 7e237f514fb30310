package io.xensnap.internal.engine.create;

import java.nio.file.Path;
import java.util.List;

import io.xensnap.api.QuiescePolicy;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.DomainView;

/**
 * A validated create request: every check that needs no side effect has passed.
 *
 * @param domain      the domain
 * @param catalog     its catalog as read at the start (under the domain lock)
 * @param name        the snapshot's name
 * @param description its description
 * @param disks       one plan per disk, all live (QMP) for a running domain or all offline (qemu-img)
 * @param memory      a domain snapshot's save image, to be made; {@code null} for a disk snapshot
 * @param quiesce     the request's quiesce policy, null for the configured one
 */
public record CreatePlan(DomainView domain, DomainCatalog catalog, String name, String description,
        List<DiskPlan> disks, Path memory, QuiescePolicy quiesce) {

    public CreatePlan {
        disks = List.copyOf(disks);
        if (disks.isEmpty()) {
            throw new IllegalArgumentException("nothing to snapshot");
        }
    }

    /**
     * @return whether a disk of the plan is served by blkback: then the domain is saved, destroyed and restored on the
     *         new images ({@link RestoringCreate}) instead of snapshotted in QEMU
     */
    public boolean restores() {
        return memory != null && disks.stream().anyMatch(d -> d.disk().backend() == DiskView.Backend.PHY);
    }

    /** A plan of a disk snapshot with the configured quiesce policy. */
    public CreatePlan(DomainView domain, DomainCatalog catalog, String name, String description,
                      List<DiskPlan> disks) {
        this(domain, catalog, name, description, disks, null, null);
    }
}
