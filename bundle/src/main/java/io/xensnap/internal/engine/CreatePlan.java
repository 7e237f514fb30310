package io.xensnap.internal.engine;

import java.util.List;

/**
 * A validated create request: every check that needs no side effect has passed.
 *
 * @param domain      the domain
 * @param catalog     its catalog as read at the start (under the domain lock)
 * @param name        the snapshot's name
 * @param description its description
 * @param disks       one plan per disk, all live (QMP) for a running domain or all offline (qemu-img)
 */
record CreatePlan(DomainView domain, DomainCatalog catalog, String name, String description, List<DiskPlan> disks) {

    CreatePlan {
        disks = List.copyOf(disks);
        if (disks.isEmpty()) {
            throw new IllegalArgumentException("nothing to snapshot");
        }
    }
}
