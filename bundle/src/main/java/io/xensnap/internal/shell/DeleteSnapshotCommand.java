package io.xensnap.internal.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.surface.UserInput;

@Command(scope = "snapshot", name = "delete", description = "Deletes a snapshot; the domain's data stays as it is.",
        detailedDescription = "Removes a snapshot you no longer need. The domain's current data is not touched:\n"
                + "  internal  the snapshot is removed from the qcow2 image\n"
                + "  external  the overlay is merged back into the frozen image and removed; the domain then runs on"
                + " that image again. When a newer snapshot froze the overlay, the overlay is merged down into the"
                + " frozen image instead and the domain stays on its current image. A merge copies data and can take"
                + " a while: progress is shown.\n"
                + "Works on running domains (live, through QEMU) and shut-off ones (qemu-img).\n\n"
                + "Example:\n"
                + "  snapshot:delete 7 before-upgrade")
@Service
public class DeleteSnapshotCommand extends SnapshotCommandSupport {

    @Argument(index = 0, name = "domain", required = true, description = DOMAIN_HELP)
    @Completion(DomainCompleter.class)
    String domain;

    @Argument(index = 1, name = "name", required = true, description = "The snapshot to delete.")
    @Completion(SnapshotNameCompleter.class)
    String name;

    @Override
    void run(PrintStream out) throws SnapshotException {
        DomainRef ref = UserInput.domain(domain);
        String snapshot = UserInput.snapshotName(name);
        out.println("Deleting snapshot " + snapshot + " of domain " + domain.trim() + " ...");
        snapshots.delete(ref, snapshot, new ConsoleProgress(out));
        out.println("Deleted snapshot " + snapshot + ".");
    }
}
