package io.xensnap.internal.shell;

import java.io.PrintStream;
import java.util.Optional;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.surface.UserInput;
import io.xensnap.internal.surface.Visible;

@Command(scope = "snapshot", name = "info", description = "Shows one snapshot of a domain and its disks.",
        detailedDescription = "Shows when a snapshot was taken, what it was taken on top of, and per disk where it"
                + " is stored: inside the image (internal) or as a frozen image with an overlay on top (external), the data"
                + " only the snapshot keeps there ('Holds') and what deleting it would give back ('Frees'), read from"
                + " the images now without a lock; '~' marks an estimate (the note says why), '?' a figure that"
                + " could not be read.\n\n"
                + "With --config it also prints libxl's config of the domain (JSON) as it was when the snapshot was"
                + " taken, kept with every snapshot of a running domain.\n\n"
                + "Example:\n"
                + "  snapshot:info 7 before-upgrade\n"
                + "  snapshot:info --config 7 before-upgrade")
@Service
public class SnapshotInfoCommand extends SnapshotCommandSupport {

    @Argument(index = 0, name = "domain", required = true, description = DOMAIN_HELP)
    @Completion(DomainCompleter.class)
    String domain;

    @Option(name = "--config", description = "Also print libxl's config of the domain as it was when the snapshot was"
            + " taken (JSON).")
    boolean config;

    @Argument(index = 1, name = "name", required = true, description = "The snapshot.")
    @Completion(SnapshotNameCompleter.class)
    String name;

    @Override
    void run(PrintStream out) throws SnapshotException {
        String snapshot = UserInput.snapshotName(name);
        DomainRef ref = UserInput.domain(domain);
        SnapshotTree tree = snapshots.list(ref);
        SnapshotInfo s = tree.get(snapshot).orElseThrow(() -> new SnapshotException(SnapshotError.NO_SUCH_SNAPSHOT,
                "domain " + tree.domainUuid() + " has no snapshot named " + snapshot));
        out.println("Snapshot     " + s.name() + (s.name().equals(tree.current()) ? "  (the domain is at it)" : ""));
        out.println("Domain       " + s.domainUuid());
        out.println("Created      " + Describe.time(s.created()));
        out.println("Parent       " + (s.parent() == null ? "-" : s.parent()));
        out.println("Description  " + (s.description().isEmpty() ? "-" : Visible.text(s.description())));
        out.println("Memory       " + (s.memory() == null ? "- (a disk snapshot)"
                : s.memory().sizeBytes() + " bytes in " + Visible.text(s.memory().image())
                        + (s.memory().sha256().isEmpty() ? "" : " (SHA-256 " + s.memory().sha256() + ")")));
        out.println("Quiesced     " + Describe.quiesced(s));
        Optional<SnapshotSpace> space = snapshots.space(ref).stream().filter(sp -> sp.snapshot().equals(snapshot))
                .findFirst();
        space.ifPresent(sp -> {
            out.println("Holds        " + Describe.space(sp.accuracy(), sp.held()));
            out.println("Frees        " + Describe.space(sp.accuracy(), sp.freed()) + "  (if deleted)");
            out.println("Space read   " + Describe.time(sp.readAt()));
        });
        ShellTable disks = new ShellTable();
        disks.column("Disk");
        disks.column("Kind");
        disks.column("Image");
        disks.column("Format");
        disks.column("Overlay");
        disks.column("Holds").alignRight();
        disks.column("Frees").alignRight();
        disks.column("Note");
        for (DiskSnapshot d : s.disks()) {
            Optional<SnapshotSpace.Disk> ds = space.flatMap(sp -> sp.disks().stream()
                    .filter(x -> x.vdev().equals(d.vdev())).findFirst());
            disks.addRow().addContent(d.vdev(), d.kind() == SnapshotKind.INTERNAL ? "internal" : "external",
                    Visible.text(d.image()), d.format().id(), d.overlay() == null ? "-" : Visible.text(d.overlay()),
                    ds.map(x -> Describe.space(x.accuracy(), x.held())).orElse("?"),
                    ds.map(x -> Describe.space(x.accuracy(), x.freed())).orElse("?"),
                    ds.map(x -> x.note().isEmpty() ? "-" : Visible.text(x.note())).orElse("-"));
        }
        disks.print(out, true);
        if (config) {
            Optional<String> json = snapshots.domainConfig(ref, snapshot);
            out.println(json.isPresent() ? "Domain config (libxl's, when the snapshot was taken):" : "Domain config"
                    + "  - (none kept: the snapshot was taken of a shut-off domain, or libxl kept no config of it)");
            // line by line: each line is escaped like every text the console prints, the line breaks stay
            json.ifPresent(j -> j.strip().lines().map(Visible::text).forEach(out::println));
        }
    }
}
