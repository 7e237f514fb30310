package io.xensnap.internal.shell;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.surface.ReconcileLines;
import io.xensnap.internal.surface.UserInput;

@Command(scope = "snapshot", name = "reconcile", description = "Checks snapshots after a crash and repairs what is"
        + " safe to repair.",
        detailedDescription = "If Karaf or the host stopped in the middle of a snapshot operation, the snapshot"
                + " catalog, QEMU, the disk images, libxl's config and xenstore may no longer agree. This command"
                + " compares them for one domain, or for every domain that has snapshots when no domain is given.\n\n"
                + "It finishes or rolls back an interrupted create or delete when the disks prove which way it went,"
                + " and removes empty overlay files xensnap made that nothing uses; those lines end in (repaired)."
                + " Everything else (an interrupted revert, images that disagree, a missing image, an unreadable"
                + " catalog) is only reported and left for you to look at. Each line reads:\n"
                + "  <domain uuid> [CODE] what: detail\n"
                + "and a domain where everything agrees prints '<domain uuid> clean'. xensnap also runs this once"
                + " for every domain when it starts; see its log.\n\n"
                + "Examples:\n"
                + "  snapshot:reconcile        every domain with snapshots\n"
                + "  snapshot:reconcile 7      the running domain with domid 7")
@Service
public class ReconcileSnapshotCommand extends SnapshotCommandSupport {

    @Argument(index = 0, name = "domain", required = false, description = DOMAIN_HELP
            + " Leave it out to check every domain that has snapshots.")
    @Completion(DomainCompleter.class)
    String domain;

    @Override
    void run(PrintStream out) throws SnapshotException {
        List<ReconcileReport> reports = domain == null || domain.isBlank() ? snapshots.reconcileAll()
                : List.of(snapshots.reconcile(UserInput.domain(domain)));
        ReconcileLines.of(reports).forEach(out::println);
        long open = reports.stream().mapToLong(r -> r.unresolved().size()).sum();
        if (open > 0) {
            out.println(open + " finding(s) were not repaired and need a person: see 'After a crash' in"
                    + " docs/operations.md.");
        }
    }
}
