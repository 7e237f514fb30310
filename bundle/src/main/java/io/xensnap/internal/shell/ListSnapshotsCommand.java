package io.xensnap.internal.shell;

import java.io.PrintStream;
import java.util.stream.Collectors;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.surface.UserInput;
import io.xensnap.internal.surface.Visible;

@Command(scope = "snapshot", name = "list", description = "Lists the snapshots of a domain as a tree.",
        detailedDescription = "Shows every snapshot of a domain. Each snapshot is drawn below the one the domain was"
                + " at when it was taken; '*' marks the snapshot the domain's disks are at now (the last one taken or"
                + " reverted to).\n\n"
                + "Example:\n"
                + "  snapshot:list 7")
@Service
public class ListSnapshotsCommand extends SnapshotCommandSupport {

    @Argument(index = 0, name = "domain", required = true, description = DOMAIN_HELP)
    @Completion(DomainCompleter.class)
    String domain;

    @Option(name = "--no-format", description = "Plain columns without borders, for scripts.")
    boolean noFormat;

    @Override
    void run(PrintStream out) throws SnapshotException {
        SnapshotTree tree = snapshots.list(UserInput.domain(domain));
        if (tree.snapshots().isEmpty()) {
            out.println("Domain " + domain.trim() + " (" + tree.domainUuid() + ") has no snapshots.");
            return;
        }
        ShellTable table = new ShellTable();
        table.column("Snapshot");
        table.column("Now");
        table.column("Created");
        table.column("Disks");
        table.column("Description");
        for (TreeRows.Row row : TreeRows.of(tree)) {
            table.addRow().addContent(row.label(), row.info().name().equals(tree.current()) ? "*" : "",
                    Describe.time(row.info().created()),
                    row.info().disks().stream().map(Describe::disk).collect(Collectors.joining(", "))
                            + (row.info().memory() == null ? "" : ", memory " + row.info().memory().sizeBytes()
                            + " bytes"),
                    Visible.text(row.info().description()));
        }
        table.print(out, !noFormat);
    }
}
