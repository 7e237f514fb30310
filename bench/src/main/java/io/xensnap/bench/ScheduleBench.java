package io.xensnap.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealQemu;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.schedule.Cron;
import io.xensnap.internal.schedule.DomainSelector;
import io.xensnap.internal.schedule.Retention;
import io.xensnap.internal.schedule.RunResult;
import io.xensnap.internal.schedule.Schedule;
import io.xensnap.internal.schedule.ScheduleRun;
import io.xensnap.internal.xenstore.RunningGuests;
import io.xensnap.internal.xenstore.XenstoreClient;

/**
 * Item 9: one run of a schedule over {@code domains} running domains (one Xen-like QEMU and one qcow2 disk each, an
 * internal snapshot of each) against the same snapshots taken by {@code domains} sequential {@code create} calls on
 * the provider, alternating. The schedule's run is the bundle's own {@code ScheduleRun}: xenstore's list of running
 * domains, then per domain the create, the schedule's marks file rewritten (fsync'd), the list retention reads, and
 * after retention another list and another rewrite of the marks; {@code keep.last} is high enough that retention
 * deletes nothing. Every round's snapshots are deleted again, untimed.
 */
final class ScheduleBench {

    private static final int FIRST_DOMID = 900;

    private final BenchHost host;
    private final Runs runs;
    private final int domains;
    private Stats schedule;
    private Stats sequential;

    ScheduleBench(BenchHost host, Runs runs, int domains) {
        this.host = host;
        this.runs = runs;
        this.domains = domains;
    }

    void run() throws Exception {
        List<RealQemu> qemus = new ArrayList<>();
        try {
            for (int d = 0; d < domains; d++) {
                qemus.add(host.domain(FIRST_DOMID + d, 1));
            }
            Path state = Files.createDirectories(host.state().resolve("schedule"));
            SnapshotEngine engine = host.engine(null, 2, state);
            ScheduleRun runner = new ScheduleRun(engine, () -> {
                try (XenstoreClient xs = XenstoreClient.connect(host.xenstoredSocket(), "bench-schedule",
                        Duration.ofSeconds(5))) {
                    return RunningGuests.list(xs);
                } catch (io.xensnap.internal.xenstore.XenstoreException e) {
                    throw new IllegalStateException(e);
                }
            }, state, java.time.Clock.systemUTC());
            Schedule every = new Schedule("bench", new DomainSelector(List.of("vm9*")), Cron.parse("0 0 * * * *"),
                    ZoneOffset.UTC, "internal", List.of("xvda"), new Retention(1_000, 0, 0));
            List<Long> scheduleNs = new ArrayList<>();
            List<Long> sequentialNs = new ArrayList<>();
            for (int i = 0; i < runs.total(); i++) {
                for (int side = 0; side < 2; side++) {
                    boolean scheduleNow = (side == 0) == (i % 2 == 0);
                    long t0 = System.nanoTime();
                    if (scheduleNow) {
                        RunResult r = runner.run(every);
                        if (!r.ok() || r.created().size() != domains) {
                            throw new IllegalStateException("schedule run: " + r.summary());
                        }
                    } else {
                        for (int d = 0; d < domains; d++) {
                            engine.create(new SnapshotRequest(DomainRef.running(FIRST_DOMID + d), "seq" + i, "",
                                    List.of(DiskSpec.internal("xvda"))));
                        }
                    }
                    long ns = System.nanoTime() - t0;
                    if (runs.counts(i)) {
                        (scheduleNow ? scheduleNs : sequentialNs).add(ns);
                    }
                }
                for (int d = 0; d < domains; d++) {
                    DomainRef ref = DomainRef.running(FIRST_DOMID + d);
                    for (SnapshotInfo s : engine.list(ref).snapshots()) {
                        engine.delete(ref, s.name());
                    }
                }
                // the schedule names its snapshots by the second: the next round must not reuse this one's names
                Thread.sleep(1_000);
            }
            schedule = Stats.ofNanos(scheduleNs);
            sequential = Stats.ofNanos(sequentialNs);
            System.out.printf("%d domains: schedule run %s  sequential creates %s%n", domains, schedule.cell(),
                    sequential.cell());
        } finally {
            for (RealQemu q : qemus) {
                host.stop(q);
            }
        }
    }

    void report(Report report) {
        report.section("9. A schedule over " + domains + " domains");
        report.para(String.format(Locale.ROOT, "One run of a schedule (`ScheduleRun`, what the schedules' thread runs)"
                + " over %d running domains, one Xen-like QEMU with one qcow2 disk each, an internal snapshot of"
                + " `xvda` per domain: xenstore's list of running guests, then per domain, one after the other, the"
                + " create, the schedule's marks file rewritten (fsync'd), the list retention reads (keep.last = 1000:"
                + " nothing deleted), another list and another rewrite of the marks. Against the same %d creates"
                + " called one after the other on the provider. Rounds alternate; %d warm-up rounds, %d measured;"
                + " each round's snapshots deleted untimed. Wall time of a round in ms, median [p10–p90].",
                domains, domains, runs.warmup(), runs.measured()));
        report.table(List.of("", "round wall time", "per domain"), List.of(
                List.of("one schedule run", schedule.cell(), fmt(schedule.median() / domains)),
                List.of(domains + " sequential creates", sequential.cell(), fmt(sequential.median() / domains)),
                List.of("schedule ÷ sequential", "**" + fmt2(schedule.median() / sequential.median()) + "×**", "")));
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, "%.1f", ms);
    }

    private static String fmt2(double x) {
        return String.format(Locale.ROOT, "%.2f", x);
    }
}
