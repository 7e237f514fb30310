package io.xensnap.internal.shell;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.xensnap.internal.engine.Connectors;
import io.xensnap.internal.surface.Visible;
import io.xensnap.internal.xenstore.RunningGuests;
import io.xensnap.internal.xenstore.XenDomain;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * What a domain argument can be: the domid of each running guest (from xenstore) and the uuid of each domain the
 * catalog knows but that does not run now.
 */
final class DomainChoices {

    /**
     * @param value       what is typed
     * @param description what the console shows next to it
     */
    record Choice(String value, String description) {
    }

    private DomainChoices() {
    }

    static List<Choice> of(List<XenDomain> running, List<String> known) {
        List<Choice> out = new ArrayList<>();
        Set<String> runningUuids = new HashSet<>();
        for (XenDomain d : running) {
            // the name is the guest's own, from xenstore
            out.add(new Choice(Integer.toString(d.domid()), Visible.text(d.name()) + " (running)"));
            runningUuids.add(d.uuid());
        }
        for (String uuid : known) {
            if (!runningUuids.contains(uuid)) {
                out.add(new Choice(uuid, "not running, known to xensnap"));
            }
        }
        return out;
    }

    /** @return the running guests (dom0 left out); a domain that vanishes while it is read is skipped */
    static List<XenDomain> running(Connectors.Xenstore xenstore) throws XenstoreException {
        try (XenstoreClient xs = xenstore.open()) {
            return RunningGuests.list(xs);
        }
    }
}
