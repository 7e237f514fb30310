package io.xensnap.internal.xenstore;

import java.util.List;
import java.util.Objects;

/**
 * What xenstore says of a running domain: who it is and which disks it has.
 *
 * @param domain its domid, name and uuid
 * @param vm     {@code /local/domain/<domid>/vm} as read, the node that leads to the uuid ({@code /vm/<uuid>})
 * @param disks  its disks, ordered by devid
 */
public record RunningDomain(XenDomain domain, String vm, List<DomainDisk> disks) {
    public RunningDomain {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(vm, "vm");
        disks = List.copyOf(disks);
    }
}
