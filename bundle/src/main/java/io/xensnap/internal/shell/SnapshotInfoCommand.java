package io.xensnap.internal.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.surface.UserInput;
import io.xensnap.internal.surface.Visible;

@Command(scope = "snapshot", name = "info", description = "Shows one snapshot of a domain and its disks.",
        detailedDescription = "Shows when a snapshot was taken, what it was taken on top of, and per disk where it"
                + " is stored: inside the image (internal) or as a frozen image with an overlay on top (external).\n\n"
                + "Example:\n"
                + "  snapshot:info 7 before-upgrade")
@Service
public class SnapshotInfoCommand extends SnapshotCommandSupport {

    @Argument(index = 0, name = "domain", required = true, description = DOMAIN_HELP)
    @Completion(DomainCompleter.class)
    String domain;

    @Argument(index = 1, name = "name", required = true, description = "The snapshot.")
    @Completion(SnapshotNameCompleter.class)
    String name;

    @Override
    void run(PrintStream out) throws SnapshotException {
        String snapshot = UserInput.snapshotName(name);
        SnapshotTree tree = snapshots.list(UserInput.domain(domain));
        SnapshotInfo s = tree.get(snapshot).orElseThrow(() -> new SnapshotException(SnapshotError.NO_SUCH_SNAPSHOT,
                "domain " + tree.domainUuid() + " has no snapshot named " + snapshot));
        out.println("Snapshot     " + s.name() + (s.name().equals(tree.current()) ? "  (the domain is at it)" : ""));
        out.println("Domain       " + s.domainUuid());
        out.println("Created      " + Describe.time(s.created()));
        out.println("Parent       " + (s.parent() == null ? "-" : s.parent()));
        out.println("Description  " + (s.description().isEmpty() ? "-" : Visible.text(s.description())));
        out.println("Memory       " + (s.memory() == null ? "- (a disk snapshot)"
                : s.memory().sizeBytes() + " bytes in " + Visible.text(s.memory().image())));
        ShellTable disks = new ShellTable();
        disks.column("Disk");
        disks.column("Kind");
        disks.column("Image");
        disks.column("Format");
        disks.column("Overlay");
        for (DiskSnapshot d : s.disks()) {
            disks.addRow().addContent(d.vdev(), d.kind() == SnapshotKind.INTERNAL ? "internal" : "external",
                    Visible.text(d.image()), d.format().id(), d.overlay() == null ? "-" : Visible.text(d.overlay()));
        }
        disks.print(out, true);
    }
}
