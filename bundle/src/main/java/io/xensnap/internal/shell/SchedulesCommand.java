package io.xensnap.internal.shell;

import java.io.PrintStream;
import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.schedule.ScheduleLines;
import io.xensnap.internal.schedule.ScheduleService;
import io.xensnap.internal.schedule.Scheduler;
import io.xensnap.internal.surface.Visible;

@Command(scope = "snapshot", name = "schedules", description = "Lists the snapshot schedules, or runs one now.",
        detailedDescription = "Each schedule is a file etc/io.xensnap.schedule-<name>.cfg (see docs/operations.md,"
                + " Schedules). Shown: its name, its cron expression and time zone, when it runs next (UTC), and how"
                + " its last run ended. With --run <name> the schedule runs now, after a run in progress, and its"
                + " result is printed; its next time stays as it was.\n\n"
                + "Examples:\n"
                + "  snapshot:schedules\n"
                + "  snapshot:schedules --run nightly")
@Service
public class SchedulesCommand extends SnapshotCommandSupport {

    @Option(name = "--run", description = "Runs this schedule now.")
    String run;

    @Option(name = "--no-format", description = "Plain columns without borders, for scripts.")
    boolean noFormat;

    // Karaf injects it before execute(); absent while xensnap is not configured
    @Reference(optional = true)
    ScheduleService schedules;

    @Override
    void run(PrintStream out) throws SnapshotException {
        if (schedules == null) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, "the schedules are not running (is xensnap"
                    + " configured?)");
        }
        if (run != null) {
            out.println(Visible.text("schedule " + run + ": " + schedules.runNow(run).summary()));
            return;
        }
        List<Scheduler.Status> all = schedules.statuses();
        if (all.isEmpty()) {
            out.println("No schedules: add etc/io.xensnap.schedule-<name>.cfg files.");
            return;
        }
        ShellTable table = new ShellTable();
        for (String c : List.of("Schedule", "When", "Next (UTC)", "Last run")) {
            table.column(c);
        }
        for (Scheduler.Status s : all) {
            table.addRow().addContent(ScheduleLines.columns(s).stream().map(Visible::text).toArray());
        }
        table.print(out, !noFormat);
    }
}
