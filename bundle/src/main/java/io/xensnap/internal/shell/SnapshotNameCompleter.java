package io.xensnap.internal.shell;

import java.util.ArrayList;
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
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.service.SnapshotOperations;
import io.xensnap.internal.surface.UserInput;
import io.xensnap.internal.surface.Visible;

/** Completes the snapshot names of the domain typed just before the name. */
@Service
public class SnapshotNameCompleter implements Completer {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotNameCompleter.class);

    // Karaf injects it; it cannot be final.
    @Reference
    SnapshotOperations snapshots;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter strings = new StringsCompleter();
        for (SnapshotInfo s : snapshotsOf(commandLine)) {
            strings.getStrings().add(s.name());
        }
        return strings.complete(session, commandLine, candidates);
    }

    @Override
    public void completeCandidates(Session session, CommandLine commandLine, List<Candidate> candidates) {
        for (SnapshotInfo s : snapshotsOf(commandLine)) {
            String descr = s.description().isEmpty() ? Describe.time(s.created())
                    : Describe.time(s.created()) + ", " + Visible.text(s.description());
            candidates.add(new Candidate(s.name(), s.name(), null, descr, null, null, true));
        }
    }

    /** The domain is the argument before the one being completed: every command takes {@code <domain> <name>}. */
    private List<SnapshotInfo> snapshotsOf(CommandLine commandLine) {
        int at = commandLine.getCursorArgumentIndex();
        String[] args = commandLine.getArguments();
        if (at < 1 || at - 1 >= args.length || args[at - 1].startsWith("-")) {
            return List.of();
        }
        try {
            SnapshotTree tree = snapshots.list(UserInput.domain(args[at - 1]));
            return new ArrayList<>(tree.snapshots());
        } catch (SnapshotException e) {
            LOG.debug("no snapshot names to complete for '{}': {}", args[at - 1], e.getMessage());
            return List.of();
        }
    }
}
