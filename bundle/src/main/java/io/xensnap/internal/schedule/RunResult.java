package io.xensnap.internal.schedule;

import java.time.Instant;
import java.util.List;

/**
 * What one run of a schedule did.
 *
 * @param schedule the schedule
 * @param started  when it began
 * @param ended    when it ended
 * @param created  the snapshots it took, as {@code <domain uuid>/<snapshot>}
 * @param deleted  the snapshots its retention deleted, the same way
 * @param failures one line per domain or snapshot that failed, {@code <domain>: [CODE] message}; the others went on
 */
public record RunResult(String schedule, Instant started, Instant ended, List<String> created, List<String> deleted,
                        List<String> failures) {

    public RunResult {
        created = List.copyOf(created);
        deleted = List.copyOf(deleted);
        failures = List.copyOf(failures);
    }

    public boolean ok() {
        return failures.isEmpty();
    }

    /** @return one line: {@code ok: 3 created, 2 deleted} or {@code 1 failed: ...} */
    public String summary() {
        String counts = created.size() + " created, " + deleted.size() + " deleted";
        return failures.isEmpty() ? "ok: " + counts : failures.size() + " failed (" + counts + "): "
                + String.join("; ", failures);
    }
}
