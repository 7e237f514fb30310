package io.xensnap.internal.shell;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Candidate;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.Connectors;
import io.xensnap.internal.service.SnapshotOperations;
import io.xensnap.internal.xenstore.XenDomain;
import io.xensnap.internal.xenstore.XenstoreException;

/** Completes a domain: the domids of running guests (named) and the uuids of shut-off domains with snapshots. */
@Service
public class DomainCompleter implements Completer {

    private static final Logger LOG = LoggerFactory.getLogger(DomainCompleter.class);

    // Karaf injects these; they cannot be final.
    @Reference
    Connectors.Xenstore xenstore;

    @Reference
    SnapshotOperations snapshots;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter strings = new StringsCompleter();
        for (DomainChoices.Choice c : choices()) {
            strings.getStrings().add(c.value());
        }
        return strings.complete(session, commandLine, candidates);
    }

    @Override
    public void completeCandidates(Session session, CommandLine commandLine, List<Candidate> candidates) {
        for (DomainChoices.Choice c : choices()) {
            candidates.add(new Candidate(c.value(), c.value(), null, c.description(), null, null, true));
        }
    }

    /** Completion must never break the console: an unreachable xenstored or catalog just completes less. */
    private List<DomainChoices.Choice> choices() {
        List<XenDomain> running = List.of();
        try {
            running = DomainChoices.running(xenstore);
        } catch (XenstoreException e) {
            LOG.debug("domain completion without running domains: {}", e.getMessage());
        }
        List<String> known = List.of();
        try {
            known = snapshots.knownDomains();
        } catch (SnapshotException e) {
            LOG.debug("domain completion without the catalog: {}", e.getMessage());
        }
        return DomainChoices.of(running, known);
    }
}
