package io.xensnap.internal.surface;

import java.util.ArrayList;
import java.util.List;

import io.xensnap.internal.engine.reconcile.ReconcileReport;

/**
 * Reconcile reports as the lines the console prints and JMX returns. Every line starts with the domain's uuid, so the
 * lines of several domains can be read (and grepped) one by one; a domain where every view agreed gets one line ending
 * in {@code clean}. Findings quote paths, QEMU and qemu-img: each line is escaped ({@link Visible}), so that none can
 * break into two or rewrite the screen.
 */
public final class ReconcileLines {

    /** The one line of a run that found no domain with a catalog. */
    public static final String NOTHING = "clean: no domain has a snapshot catalog, nothing to check";

    private ReconcileLines() {
    }

    /** @return {@code <uuid> clean}, or one {@code <uuid> [CODE] subject: detail} per finding */
    public static List<String> of(ReconcileReport report) {
        if (report.clean()) {
            return List.of(report.domainUuid() + " clean");
        }
        return report.lines().stream().map(line -> report.domainUuid() + " " + Visible.text(line)).toList();
    }

    /** @return the lines of every report in order, or {@link #NOTHING} when there is none */
    public static List<String> of(List<ReconcileReport> reports) {
        if (reports.isEmpty()) {
            return List.of(NOTHING);
        }
        List<String> lines = new ArrayList<>();
        for (ReconcileReport r : reports) {
            lines.addAll(of(r));
        }
        return lines;
    }
}
