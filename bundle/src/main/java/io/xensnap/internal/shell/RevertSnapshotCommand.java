package io.xensnap.internal.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.surface.UserInput;

@Command(scope = "snapshot", name = "revert", description = "Brings the disks of a shut-off domain back to a snapshot,"
        + " or a domain back running at a snapshot with memory.",
        detailedDescription = "Puts every disk the snapshot covers back to the state it had when the snapshot was"
                + " taken. Everything written since is lost.\n\n"
                + "A snapshot taken with --memory brings the whole domain back: a running domain is destroyed, its"
                + " disks are reverted, and the domain is restored from the saved memory (xl restore), running from"
                + " the snapshot's instant. Name it by its domid while it runs, by its uuid otherwise.\n\n"
                + "The domain must be SHUT OFF (name it by its uuid): while it runs, its device model holds the"
                + " images and changing them would corrupt them. Disks with an external snapshot get a fresh overlay"
                + " on the frozen image; the command prints the image each disk must be started from, so update the"
                + " domain's config if a path changed.\n\n"
                + "--restart (a snapshot without memory): a running domain is destroyed, its disks are reverted, and"
                + " the domain boots again (xl create) from the config the snapshot kept, its disks on the reverted"
                + " images. Refused before anything changes when the snapshot kept no config, or one xl cannot be"
                + " given back as an xl.cfg.\n\n"
                + "Examples:\n"
                + "  snapshot:revert 6f1e4a52-0d3b-4c8e-9a1f-2b7c5d9e0f13 before-upgrade\n"
                + "  snapshot:revert --restart 7 before-upgrade")
@Service
public class RevertSnapshotCommand extends SnapshotCommandSupport {

    @Argument(index = 0, name = "domain", required = true, description = DOMAIN_HELP)
    @Completion(DomainCompleter.class)
    String domain;

    @Argument(index = 1, name = "name", required = true, description = "The snapshot to go back to.")
    @Completion(SnapshotNameCompleter.class)
    String name;

    @Option(name = "--restart", description = "Destroy the domain if it runs, revert its disks and boot it again from"
            + " the config the snapshot kept (a snapshot without memory).")
    boolean restart;

    @Override
    void run(PrintStream out) throws SnapshotException {
        DomainRef ref = UserInput.domain(domain);
        String snapshot = UserInput.snapshotName(name);
        out.println("Reverting domain " + domain.trim() + " to snapshot " + snapshot + " ...");
        RevertResult result = restart ? snapshots.revertAndRestart(ref, snapshot, new ConsoleProgress(out))
                : snapshots.revert(ref, snapshot, new ConsoleProgress(out));
        if (restart) {
            out.println("Reverted to snapshot " + result.snapshot().name() + " and started the domain again, on:");
        } else if (result.snapshot().memory() != null) {
            out.println("Reverted to snapshot " + result.snapshot().name() + ": the domain runs again from its"
                    + " saved memory, on:");
        } else {
            out.println("Reverted to snapshot " + result.snapshot().name() + ". Start the disks from:");
        }
        Describe.startFrom(out, result.disks());
    }
}
