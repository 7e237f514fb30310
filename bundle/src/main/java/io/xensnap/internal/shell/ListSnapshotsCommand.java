package io.xensnap.internal.shell;

import java.io.PrintStream;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.surface.UserInput;
import io.xensnap.internal.surface.Visible;

@Command(scope = "snapshot", name = "list", description = "Lists the snapshots of a domain as a tree.",
        detailedDescription = "Shows every snapshot of a domain. Each snapshot is drawn below the one the domain was"
                + " at when it was taken; '*' marks the snapshot the domain's disks are at now (the last one taken or"
                + " reverted to). 'Holds' is the data only that snapshot keeps, 'Frees' what deleting it would give back (see"
                + " snapshot:info for each disk); '~' marks an estimate, '?' a figure that could not be read. The"
                + " images are read as they are now, without a lock, also while the domain runs.\n\n"
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
        DomainRef ref = UserInput.domain(domain);
        SnapshotTree tree = snapshots.list(ref);
        if (tree.snapshots().isEmpty()) {
            out.println("Domain " + domain.trim() + " (" + tree.domainUuid() + ") has no snapshots.");
            return;
        }
        Map<String, SnapshotSpace> space = snapshots.space(ref).stream()
                .collect(Collectors.toMap(SnapshotSpace::snapshot, Function.identity()));
        ShellTable table = new ShellTable();
        table.column("Snapshot");
        table.column("Now");
        table.column("Created");
        table.column("Disks");
        table.column("Holds").alignRight();
        table.column("Frees").alignRight();
        table.column("Frozen").alignRight();
        table.column("Description");
        for (TreeRows.Row row : TreeRows.of(tree)) {
            table.addRow().addContent(row.label(), row.info().name().equals(tree.current()) ? "*" : "",
                    Describe.time(row.info().created()),
                    row.info().disks().stream().map(Describe::disk).collect(Collectors.joining(", "))
                            + (row.info().memory() == null ? "" : ", memory " + row.info().memory().sizeBytes()
                            + " bytes"),
                    held(space.get(row.info().name())), freed(space.get(row.info().name())),
                    Describe.frozen(row.info()), Visible.text(row.info().description()));
        }
        table.print(out, !noFormat);
        space.values().stream().findFirst().ifPresent(s -> out.println("Space read at " + Describe.time(s.readAt())
                + "."));
    }

    private static String held(SnapshotSpace s) {
        return s == null ? "?" : Describe.space(s.accuracy(), s.held());
    }

    private static String freed(SnapshotSpace s) {
        return s == null ? "?" : Describe.space(s.accuracy(), s.freed());
    }
}
