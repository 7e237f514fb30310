package io.xensnap.internal.xenstore;

import java.util.ArrayList;
import java.util.List;

/** The running guests xenstore lists, dom0 left out; one that vanishes while it is read is skipped. */
public final class RunningGuests {

    private RunningGuests() {
    }

    public static List<XenDomain> list(XenstoreClient xs) throws XenstoreException {
        List<XenDomain> out = new ArrayList<>();
        DomainDisks domains = new DomainDisks(xs);
        for (String id : xs.directory("/local/domain")) {
            if (!id.matches("[1-9][0-9]{0,4}")) {
                continue;
            }
            try {
                out.add(domains.domain(Integer.parseInt(id)));
            } catch (XenstoreException e) {
                if (!e.is(XenstoreException.ENOENT)) {
                    throw e;
                }
            }
        }
        return out;
    }
}
