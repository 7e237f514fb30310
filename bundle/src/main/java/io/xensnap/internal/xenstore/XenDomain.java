package io.xensnap.internal.xenstore;

import java.util.Objects;

/**
 * A running domain's identity as libxl records it in xenstore.
 *
 * @param domid the domain id
 * @param name  {@code /local/domain/<domid>/name}
 * @param uuid  {@code <vm>/uuid}, where {@code /local/domain/<domid>/vm} is {@code /vm/<uuid>}; lowercase 8-4-4-4-12
 */
public record XenDomain(int domid, String name, String uuid) {
    public XenDomain {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
    }
}
