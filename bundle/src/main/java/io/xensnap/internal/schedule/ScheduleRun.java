package io.xensnap.internal.schedule;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.xenstore.XenDomain;

/**
 * One run of a schedule: for each running domain it takes, a snapshot, then — only after that create succeeded —
 * retention over the schedule's own snapshots of that domain, oldest first. A domain that fails is reported and the
 * run goes on with the next; a snapshot retention cannot delete (one whose merge the engine refuses) is reported and
 * kept.
 * Public for the bench, which times exactly what the schedules' thread runs.
 */
public final class ScheduleRun {

    private static final Logger LOG = LoggerFactory.getLogger(ScheduleRun.class);

    private final DiskSnapshotProvider snapshots;
    private final RunningDomains domains;
    private final Path stateDir;
    private final Clock clock;

    public ScheduleRun(DiskSnapshotProvider snapshots, RunningDomains domains, Path stateDir, Clock clock) {
        this.snapshots = snapshots;
        this.domains = domains;
        this.stateDir = stateDir;
        this.clock = clock;
    }

    public RunResult run(Schedule schedule) {
        Instant started = clock.instant();
        Outcome out = new Outcome();
        List<XenDomain> taken = new ArrayList<>();
        try {
            for (XenDomain d : domains.list()) {
                if (schedule.domains().matches(d)) {
                    taken.add(d);
                }
            }
        } catch (SnapshotException e) {
            out.failures.add("domains: " + e.codedMessage());
        }
        OwnMarks marks = new OwnMarks(stateDir, schedule.name());
        for (XenDomain d : taken) {
            try {
                domain(schedule, d, marks, started, out);
            } catch (SnapshotException e) {
                out.failures.add(label(d) + ": " + e.codedMessage());
            } catch (RuntimeException e) {
                // a defect for one domain must not cost the others their snapshot
                LOG.error("schedule {}: {}: defect", schedule.name(), label(d), e);
                out.failures.add(label(d) + ": [INTERNAL] " + e);
            }
        }
        RunResult r = new RunResult(schedule.name(), started, clock.instant(), out.created, out.deleted, out.failures);
        if (r.ok()) {
            LOG.info("schedule {}: {}", schedule.name(), r.summary());
        } else {
            LOG.warn("schedule {}: {}", schedule.name(), r.summary());
        }
        return r;
    }

    private void domain(Schedule schedule, XenDomain d, OwnMarks marks, Instant at, Outcome out)
            throws SnapshotException {
        DomainRef ref = DomainRef.running(d.domid());
        SnapshotInfo made = snapshots.create(schedule.request(ref, at));
        out.created.add(d.uuid() + "/" + made.name());
        List<OwnMarks.Mark> all = update(marks, m -> {
            m.add(new OwnMarks.Mark(made.domainUuid(), made.name(), made.created()));
            return m;
        });
        SnapshotTree tree = snapshots.list(ref);
        List<Retention.Own> own = new ArrayList<>();
        for (OwnMarks.Mark m : all) {
            Optional<SnapshotInfo> s = tree.get(m.snapshot());
            // the same name and creation time: the schedule's own, not a user's made later under a freed name
            if (m.domain().equals(made.domainUuid()) && s.isPresent() && s.get().created().equals(m.created())) {
                own.add(new Retention.Own(m.snapshot(), m.created()));
            }
        }
        for (Retention.Own old : schedule.retention().expired(own, schedule.zone())) {
            try {
                snapshots.delete(ref, old.name());
                out.deleted.add(d.uuid() + "/" + old.name());
            } catch (SnapshotException e) {
                out.failures.add(label(d) + ": retention kept " + old.name() + ": " + e.codedMessage());
            }
        }
        forget(marks, made.domainUuid(), ref);
    }

    /** Drops the marks of this domain whose snapshot is gone (deleted by retention or by a user). */
    private void forget(OwnMarks marks, String uuid, DomainRef ref) throws SnapshotException {
        SnapshotTree now = snapshots.list(ref);
        update(marks, m -> {
            m.removeIf(x -> x.domain().equals(uuid) && now.get(x.snapshot()).map(s -> !s.created().equals(x.created()))
                    .orElse(true));
            m.sort(Comparator.comparing(OwnMarks.Mark::created));
            return m;
        });
    }

    private interface Change {
        List<OwnMarks.Mark> apply(List<OwnMarks.Mark> marks);
    }

    private static List<OwnMarks.Mark> update(OwnMarks marks, Change change) throws SnapshotException {
        try {
            List<OwnMarks.Mark> changed = change.apply(new ArrayList<>(marks.load()));
            marks.save(changed);
            return changed;
        } catch (IOException | RuntimeException e) {
            throw new SnapshotException(SnapshotError.CATALOG_UNWRITABLE, "the schedule's marks " + marks.file()
                    + " cannot be read or written (" + e.getMessage() + "); its snapshots are kept as if a user had"
                    + " made them", e);
        }
    }

    private static String label(XenDomain d) {
        return "domain " + d.domid() + " (" + d.name() + ")";
    }

    /** What a run collects as it goes. */
    private static final class Outcome {
        final List<String> created = new ArrayList<>();
        final List<String> deleted = new ArrayList<>();
        final List<String> failures = new ArrayList<>();
    }
}
