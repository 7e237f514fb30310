package io.xensnap.internal.engine;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A domain as the engine sees it at the start of an operation.
 *
 * @param uuid  the catalog key
 * @param name  the domain's name, empty when unknown
 * @param domid the running domain's id; empty when the domain is shut off
 * @param disks its disks
 */
public record DomainView(String uuid, String name, OptionalInt domid, List<DiskView> disks) {

    public DomainView {
        disks = List.copyOf(disks);
    }

    public boolean running() {
        return domid.isPresent();
    }

    public Optional<DiskView> disk(String vdev) {
        return disks.stream().filter(d -> d.vdev().equals(vdev)).findFirst();
    }

    /** @return "domain 7 (vm1)" or "domain <uuid>" for messages */
    public String label() {
        String id = domid.isPresent() ? Integer.toString(domid.getAsInt()) : uuid;
        return "domain " + id + (name.isEmpty() ? "" : " (" + name + ")");
    }
}
