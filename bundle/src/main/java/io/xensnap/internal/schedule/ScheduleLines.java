package io.xensnap.internal.schedule;

import java.time.temporal.ChronoUnit;
import java.util.List;

/** A schedule's status as the console's columns and the MBean's lines show it. */
public final class ScheduleLines {

    private ScheduleLines() {
    }

    /** @return name, when (cron and zone), next time, last result */
    public static List<String> columns(Scheduler.Status s) {
        Schedule schedule = s.schedule();
        String last = s.last().map(r -> r.ended().truncatedTo(ChronoUnit.SECONDS) + " " + r.summary())
                .orElse("not run yet");
        return List.of(schedule.name(), "'" + schedule.cron().text() + "' " + schedule.zone(), s.next().toString(),
                last);
    }

    /** @return {@code name | when | next <time> | last <result>} */
    public static String line(Scheduler.Status s) {
        List<String> c = columns(s);
        return c.get(0) + " | " + c.get(1) + " | next " + c.get(2) + " | last " + c.get(3);
    }
}
