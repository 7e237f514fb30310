package io.xensnap.internal.schedule;

import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.config.Settings;
import io.xensnap.internal.engine.Connectors;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.events.SnapshotEvents;
import io.xensnap.internal.service.SnapshotOperations;
import io.xensnap.internal.xenstore.RunningGuests;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * The schedules that run: one thread that looks at the clock once a second ({@link Scheduler}) and runs what is due
 * through the snapshot service, so every create and delete is announced as if a user had asked. Each schedule comes
 * from its own configuration ({@link ScheduleComponent}). A run's end is announced to {@link SnapshotEvents} and to
 * the listeners (the MBean's notifications).
 */
@Component(service = ScheduleService.class)
public final class ScheduleService {

    private static final Logger LOG = LoggerFactory.getLogger(ScheduleService.class);

    private final Scheduler scheduler;
    private final ScheduledExecutorService thread;
    private final List<Consumer<RunResult>> listeners = new CopyOnWriteArrayList<>();

    // Not final: SCR sets and clears it while the service runs (optional, dynamic, greedy).
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile SnapshotEvents events;

    @Activate
    public ScheduleService(@Reference(name = "snapshots") SnapshotOperations snapshots,
                           @Reference(name = "settings") Settings settings,
                           @Reference(name = "xenstore") Connectors.Xenstore xenstore) {
        ScheduleRun run = new ScheduleRun(snapshots, () -> running(xenstore), settings.stateDir(), Clock.systemUTC());
        this.scheduler = new Scheduler(Clock.systemUTC(), s -> announced(run.run(s)));
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "xensnap-schedules");
            t.setDaemon(true);
            return t;
        });
        // once a second against the wall clock: a clock set forward or a host resumed from suspend is seen at once
        thread.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    private void tick() {
        try {
            scheduler.tick();
        } catch (RuntimeException e) {
            // an exception would end the executor's repetition: every schedule would stop for good
            LOG.error("schedules: a run ended with a defect; the schedules go on", e);
        }
    }

    @Deactivate
    public void deactivate() {
        // a run in progress ends at its next operation's interrupt check; the engine takes back what it began
        thread.shutdownNow();
    }

    /** Adds a schedule, or replaces the one of the same name. */
    public void put(Schedule schedule) {
        scheduler.put(schedule);
    }

    public void remove(String name) {
        scheduler.remove(name);
    }

    /** @return every schedule with its next time and last run */
    public List<Scheduler.Status> statuses() {
        return scheduler.statuses();
    }

    /**
     * Runs a schedule now, on the schedules' thread (after a run in progress), and waits for it.
     *
     * @throws SnapshotException {@code INVALID_ARGUMENT} when no schedule has this name
     */
    public RunResult runNow(String name) throws SnapshotException {
        Optional<RunResult> r;
        try {
            r = thread.submit(() -> scheduler.runNow(name)).get();
        } catch (ExecutionException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, "schedule " + name + " failed: " + e.getCause(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SnapshotException(SnapshotError.INTERNAL, "interrupted while schedule " + name + " ran", e);
        }
        return r.orElseThrow(() -> new SnapshotException(SnapshotError.INVALID_ARGUMENT, "no schedule named '"
                + name + "'; configured: " + statuses().stream().map(s -> s.schedule().name()).toList()));
    }

    /** @param listener told of every run's end, on the schedules' thread; it must return quickly */
    public void listen(Consumer<RunResult> listener) {
        listeners.add(listener);
    }

    public void unlisten(Consumer<RunResult> listener) {
        listeners.remove(listener);
    }

    private RunResult announced(RunResult r) {
        SnapshotEvents e = events;
        if (e != null) {
            e.scheduleRan(r.schedule(), r.created(), r.deleted(), r.failures());
        }
        listeners.forEach(l -> l.accept(r));
        return r;
    }

    private static List<io.xensnap.internal.xenstore.XenDomain> running(Connectors.Xenstore xenstore)
            throws SnapshotException {
        try (XenstoreClient xs = xenstore.open()) {
            return RunningGuests.list(xs);
        } catch (XenstoreException e) {
            throw Errors.xenstore("cannot list the running domains", e);
        }
    }
}
