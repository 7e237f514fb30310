package io.xensnap.internal.schedule;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each schedule runs next, on an injected clock. {@link #tick()} is called about once a second by one thread
 * (and {@link #runNow} on the same thread), so runs never overlap. Missed times never fire in a burst: the next time
 * is computed from the clock after a run ends, so a run that outlasted several times is followed by the next time
 * still ahead, and a schedule added (at start, or after the host was down) waits for its next time: no catch-up.
 */
public final class Scheduler {

    /** Runs one schedule once. */
    @FunctionalInterface
    public interface Runner {
        RunResult run(Schedule schedule);
    }

    /**
     * What the console and the MBean show of one schedule.
     *
     * @param schedule the schedule
     * @param next     its next time
     * @param last     its last run, empty before the first
     */
    public record Status(Schedule schedule, Instant next, Optional<RunResult> last) {
    }

    private final Clock clock;
    private final Runner runner;
    private final Map<String, Status> entries = new ConcurrentHashMap<>();

    public Scheduler(Clock clock, Runner runner) {
        this.clock = clock;
        this.runner = runner;
    }

    /** Adds a schedule or replaces one of the same name (a changed configuration); its last run is kept. */
    public void put(Schedule schedule) {
        Instant next = next(schedule, clock.instant());
        entries.merge(schedule.name(), new Status(schedule, next, Optional.empty()),
                (old, fresh) -> new Status(schedule, next, old.last()));
    }

    public void remove(String name) {
        entries.remove(name);
    }

    /** Runs every schedule whose time has come, one after the other. */
    public void tick() {
        for (Status s : statuses()) {
            if (!s.next().isAfter(clock.instant())) {
                fire(s.schedule());
            }
        }
    }

    /** @return its run, empty when no schedule has this name */
    public Optional<RunResult> runNow(String name) {
        Status s = entries.get(name);
        return s == null ? Optional.empty() : Optional.of(fire(s.schedule()));
    }

    /** @return every schedule, by name */
    public List<Status> statuses() {
        List<Status> all = new ArrayList<>(entries.values());
        all.sort(Comparator.comparing(s -> s.schedule().name()));
        return all;
    }

    private RunResult fire(Schedule schedule) {
        awaitNextSecond(schedule.name());
        RunResult result = runner.run(schedule);
        Instant next = next(schedule, clock.instant());
        // the configuration may have changed or gone while it ran: only the schedule that ran is updated
        entries.computeIfPresent(schedule.name(), (k, s) -> s.schedule().equals(schedule)
                ? new Status(schedule, next, Optional.of(result)) : new Status(s.schedule(), s.next(),
                Optional.of(result)));
        return result;
    }

    /**
     * Snapshot names carry the second a run started: a second run in the same second ("run now" twice, or right after
     * a timed run) would take the first one's names. It waits for the next second instead, at most one.
     */
    private void awaitNextSecond(String name) {
        Status s = entries.get(name);
        if (s == null || s.last().isEmpty()) {
            return;
        }
        long wait = (s.last().get().started().getEpochSecond() + 1) * 1000 - clock.millis();
        if (wait > 0) {
            try {
                Thread.sleep(Math.min(wait, 1000));
            } catch (InterruptedException e) {
                // stopping: the run goes ahead and its create may be refused as a duplicate name, which it reports
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Instant next(Schedule s, Instant after) {
        return s.cron().next(after.atZone(s.zone()), s.zone()).toInstant();
    }
}
