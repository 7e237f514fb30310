package io.xensnap.internal.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.engine.Dom0;
import io.xensnap.internal.engine.Faults;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.xenstore.RunningGuests;
import io.xensnap.internal.xenstore.XenstoreClient;

/**
 * Schedules against the real simulated dom0 (QEMU, xenstored, libxl's files), on a clock the test moves: a schedule
 * firing every 3 seconds keeps exactly the last N of its own snapshots, never a user's (also one named like its
 * own), leaves every view consistent after each run, goes on past a failing domain, and never fires missed times in
 * a burst.
 */
class ScheduleRunTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /** A clock the test sets. */
    static final class TestClock extends Clock {
        private volatile Instant now;

        TestClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    private Dom0 dom0;
    private SnapshotEngine engine;
    private TestClock clock;
    private Scheduler scheduler;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        engine = dom0.engine();
        clock = new TestClock(T0);
        RunningDomains running = () -> {
            try (XenstoreClient xs = XenstoreClient.connect(dom0.xenstored.socketPath(), "schedule-test",
                    Duration.ofSeconds(5))) {
                return RunningGuests.list(xs);
            } catch (io.xensnap.internal.xenstore.XenstoreException e) {
                throw new AssertionError(e);
            }
        };
        scheduler = new Scheduler(clock, new ScheduleRun(engine, running, dom0.state, clock)::run);
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    private static Schedule every3s(String domains, int keepLast) {
        return new Schedule("every3s", new DomainSelector(List.of(domains)), Cron.parse("*/3 * * * * *"),
                ZoneOffset.UTC, "internal", List.of("xvda", "xvdb"), new Retention(keepLast, 0, 0));
    }

    private List<String> snapshotsOf(int domid) throws Exception {
        return engine.list(DomainRef.running(domid)).snapshots().stream().map(SnapshotInfo::name).toList();
    }

    /** Moves the clock to the next time and lets the scheduler see it. */
    private RunResult nextRun() {
        Instant before = scheduler.statuses().get(0).last().map(RunResult::started).orElse(null);
        clock.advance(Duration.ofSeconds(3));
        scheduler.tick();
        RunResult last = scheduler.statuses().get(0).last().orElseThrow();
        assertThat(last.started()).isNotEqualTo(before);
        return last;
    }

    @Test
    void nPlusTwoRunsKeepTheLastNOfItsOwnAndNeverAUsersSnapshot() throws Exception {
        dom0.domain(7);
        // the user's own, one of them named as the schedule names its own, and older than all of them
        engine.create(new SnapshotRequest(DomainRef.running(7), "mine", "", List.of(DiskSpec.internal("xvda"))));
        engine.create(new SnapshotRequest(DomainRef.running(7), "every3s-20251231T235959Z", "looks like the"
                + " schedule's", List.of(DiskSpec.internal("xvdb"))));
        scheduler.put(every3s("vm7", 2));

        for (int run = 1; run <= 4; run++) {
            RunResult r = nextRun();
            assertThat(r.failures()).as("run %d", run).isEmpty();
            List<String> own = snapshotsOf(7).stream().filter(n -> n.startsWith("every3s-")
                    && !n.equals("every3s-20251231T235959Z")).toList();
            assertThat(own).as("run %d keeps the last 2 of its own", run).hasSize(Math.min(run, 2));
            assertThat(snapshotsOf(7)).as("the user's snapshots").contains("mine", "every3s-20251231T235959Z");
            Faults.assertViewsAgree(dom0, 7);
            assertThat(engine.reconcile(DomainRef.running(7)).lines()).as("run %d", run).isEmpty();
        }
        // the look-alike is older than all of the schedule's and named as they are: retention by name would take it
        assertThat(snapshotsOf(7)).containsExactlyInAnyOrder("mine", "every3s-20251231T235959Z",
                "every3s-20260101T000009Z", "every3s-20260101T000012Z");
        assertThat(dom0.internalSnapshots(7, "xvda")).containsExactlyInAnyOrder("mine",
                "every3s-20260101T000009Z", "every3s-20260101T000012Z");
    }

    /**
     * External snapshots roll too: each run deletes the oldest, which the next one depends on, by merging its overlay
     * down into the base (the small merge). The chain stays at keep.last overlays, the base holds the instant of the
     * oldest snapshot kept, and the overlays' names do not grow with every run (after a dozen runs a name made of
     * every snapshot's name would pass the file name limit).
     */
    @Test
    void externalSnapshotsRollKeepingTheLastNAndAShortChain() throws Exception {
        RealQemu qemu = dom0.domain(7);
        java.nio.file.Path base = qemu.disk(2).image();
        scheduler.put(new Schedule("every3s", new DomainSelector(List.of("vm7")), Cron.parse("*/3 * * * * *"),
                ZoneOffset.UTC, "external", List.of("xvdb", "xvdc"), new Retention(2, 0, 0)));

        for (int run = 1; run <= 12; run++) {
            dom0.guestWrites(7, "xvdc", 0x60 + run);
            RunResult r = nextRun();
            assertThat(r.failures()).as("run %d", run).isEmpty();
            assertThat(snapshotsOf(7)).as("run %d keeps the last 2", run).hasSize(Math.min(run, 2));
            java.nio.file.Path top = java.nio.file.Path.of(dom0.rootFile(7, "xvdc"));
            assertThat(Dom0.chain(top)).as("run %d: the chain", run).hasSize(Math.min(run, 2) + 1)
                    .endsWith(base.toString());
            assertThat(top.getFileName().toString()).hasSizeLessThan(40);
            if (run >= 2) {
                assertThat(RealQemu.hasPattern(base, RealQemu.Format.RAW, 0x60 + run - 1))
                        .as("run %d: the base holds the oldest kept instant", run).isTrue();
            }
            Faults.assertViewsAgree(dom0, 7);
            assertThat(engine.reconcile(DomainRef.running(7)).lines()).as("run %d", run).isEmpty();
        }
        try (var files = Files.list(base.getParent())) {
            assertThat(files.filter(f -> f.toString().endsWith(".qcow2")))
                    .as("disk0, disk1 and the two overlays of xvdb and of xvdc").hasSize(6);
        }
    }

    @Test
    void aFailingDomainDoesNotStopTheOthers() throws Exception {
        dom0.domain(7);
        RealQemu dead = dom0.domain(8);
        dom0.domain(9);
        // domain 8's device model is gone while xenstore still lists the domain
        dead.close();
        scheduler.put(every3s("vm*", 3));

        RunResult r = nextRun();

        assertThat(r.failures()).singleElement().satisfies(f -> assertThat(f).startsWith("domain 8 (vm8): ["));
        assertThat(r.created()).hasSize(2);
        assertThat(snapshotsOf(7)).containsExactly("every3s-20260101T000003Z");
        assertThat(snapshotsOf(9)).containsExactly("every3s-20260101T000003Z");
        Faults.assertViewsAgree(dom0, 9);
    }

    @Test
    void missedTimesDoNotFireInABurstAndNothingCatchesUpAtStart() throws Exception {
        dom0.domain(7);
        scheduler.put(every3s("vm7", 10));
        // added at T0, which is one of its times: not run, its first time is ahead
        scheduler.tick();
        assertThat(scheduler.statuses().get(0).last()).isEmpty();
        assertThat(scheduler.statuses().get(0).next()).isEqualTo(T0.plusSeconds(3));

        // an hour without ticks (host suspended, or a long run): 1200 times missed, one run
        clock.advance(Duration.ofHours(1));
        scheduler.tick();
        scheduler.tick();
        assertThat(snapshotsOf(7)).hasSize(1);
        assertThat(scheduler.statuses().get(0).next()).isEqualTo(T0.plus(Duration.ofHours(1)).plusSeconds(3));
    }

    @Test
    void aChangedScheduleTakesEffectAndARemovedOneStops() throws Exception {
        dom0.domain(7);
        scheduler.put(every3s("vm7", 10));
        nextRun();
        // the same name, now every minute: the next time moves, the last run stays
        scheduler.put(new Schedule("every3s", new DomainSelector(List.of("vm7")), Cron.parse("0 * * * * *"),
                ZoneOffset.UTC, "internal", List.of("xvda"), new Retention(10, 0, 0)));
        assertThat(scheduler.statuses().get(0).next()).isEqualTo(T0.plusSeconds(60));
        assertThat(scheduler.statuses().get(0).last()).isPresent();
        scheduler.remove("every3s");
        clock.advance(Duration.ofMinutes(5));
        scheduler.tick();
        assertThat(snapshotsOf(7)).hasSize(1);
        assertThat(scheduler.runNow("every3s")).isEmpty();
        assertThat(Files.exists(dom0.state.resolve("schedules/every3s.json"))).isTrue();
    }
}
