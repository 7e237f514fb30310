package io.xensnap.internal.libxl;

import java.util.Objects;
import java.util.UUID;

/**
 * A domain as libxl names its userdata files: domid plus uuid. The uuid matters because a domid is reused after a
 * domain is destroyed, and stale files of an old domain with the same domid can still exist.
 */
public record LibxlDomain(int domid, UUID uuid) {

    /** Xen's DOMID_FIRST_RESERVED: ids from here on are special and never name a real domain. */
    private static final int FIRST_RESERVED_DOMID = 0x7FF0;

    public LibxlDomain {
        if (domid < 0 || domid >= FIRST_RESERVED_DOMID) {
            throw new IllegalArgumentException("domid out of range: " + domid);
        }
        Objects.requireNonNull(uuid, "uuid");
    }

    /** @return {@code <domid>.<uuid>} with the uuid in libxl's lowercase 8-4-4-4-12 form, as in the file names */
    String fileInfix() {
        return domid + "." + uuid;
    }

    @Override
    public String toString() {
        return "domain " + domid + " (" + uuid + ")";
    }
}
