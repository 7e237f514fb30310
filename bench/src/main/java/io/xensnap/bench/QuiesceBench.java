package io.xensnap.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.QuiescePolicy;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.AgentGuest;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.engine.create.CreatePlan;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;

/**
 * Item 10 (run only when asked for: it boots a TCG guest): how long a quiesced create keeps the guest frozen, against
 * the bare QMP transaction of the same create. The domain's device model runs the agent guest (Debian's qemu-ga in a
 * small TCG guest appending to its one qcow2 disk, {@link AgentGuest}); each round an internal snapshot of {@code xvda}
 * with quiesce {@code never} (its transaction timed through the engine's hook points) and one with {@code require}
 * (the guest's frozen time as the snapshot records it, from the freeze request to the thaw's answer), once with the
 * guest's sync before the freeze (the default) and once without it, alternating.
 */
final class QuiesceBench {

    private static final int DOMID = 800;
    /** The goal: the guest frozen for the transaction and at most this much more. */
    static final double SLACK_MS = 20;

    private final BenchHost host;
    private final Runs runs;
    private Stats transaction;
    private Stats frozen;
    private Stats freezeRequest;
    private Stats afterFreeze;
    private Stats frozenUnsynced;
    private Stats freezeRequestUnsynced;

    QuiesceBench(BenchHost host, Runs runs) {
        this.host = host;
        this.runs = runs;
    }

    void run() throws Exception {
        AgentGuest guest = host.agentDomain(DOMID);
        try {
            long[] marks = new long[3];
            EngineHooks timing = new EngineHooks() {
                @Override
                public void beforeTransaction(CreatePlan plan) {
                    marks[0] = System.nanoTime();
                }

                @Override
                public void whileFrozen(CreatePlan plan) {
                    marks[1] = System.nanoTime();
                }

                @Override
                public void afterPointOfNoReturn(CreatePlan plan) {
                    marks[2] = System.nanoTime();
                }
            };
            SnapshotEngine engine = host.engineWith(timing, 2, host.state());
            QuiesceSettings d = QuiesceSettings.defaults();
            SnapshotEngine unsynced = host.engineWith(timing, 2, host.state(),
                    new QuiesceSettings(d.policy(), d.timeout(), d.maxFreeze(), false));
            DomainRef dom = DomainRef.running(DOMID);
            List<Long> bare = new ArrayList<>();
            List<Long> frozenNs = new ArrayList<>();
            List<Long> freezeNs = new ArrayList<>();
            List<Long> afterFreezeNs = new ArrayList<>();
            List<Long> frozenUnsyncedNs = new ArrayList<>();
            List<Long> freezeUnsyncedNs = new ArrayList<>();
            for (int i = 0; i < runs.total(); i++) {
                engine.create(new SnapshotRequest(dom, "n" + i, "", List.of(DiskSpec.internal("xvda")),
                        QuiescePolicy.NEVER));
                long tx = marks[2] - marks[0];
                SnapshotInfo q = engine.create(new SnapshotRequest(dom, "q" + i, "", List.of(DiskSpec.internal("xvda")),
                        QuiescePolicy.REQUIRE));
                long freeze = marks[1] - marks[0];
                long afterFrozen = marks[2] - marks[1];
                SnapshotInfo u = unsynced.create(new SnapshotRequest(dom, "u" + i, "",
                        List.of(DiskSpec.internal("xvda")), QuiescePolicy.REQUIRE));
                if (!q.quiesced() || !u.quiesced()) {
                    throw new IllegalStateException("round " + i + " was not quiesced; guest console:\n" + guest.tail());
                }
                if (runs.counts(i)) {
                    bare.add(tx);
                    frozenNs.add(q.frozen().toNanos());
                    freezeNs.add(freeze);
                    afterFreezeNs.add(afterFrozen);
                    frozenUnsyncedNs.add(u.frozen().toNanos());
                    freezeUnsyncedNs.add(marks[1] - marks[0]);
                }
            }
            transaction = Stats.ofNanos(bare);
            frozen = Stats.ofNanos(frozenNs);
            freezeRequest = Stats.ofNanos(freezeNs);
            afterFreeze = Stats.ofNanos(afterFreezeNs);
            frozenUnsynced = Stats.ofNanos(frozenUnsyncedNs);
            freezeRequestUnsynced = Stats.ofNanos(freezeUnsyncedNs);
        } finally {
            host.stop(guest.qemu());
        }
    }

    void report(Report report) {
        report.section("10. A quiesced create: how long the guest is frozen");
        report.para(String.format(Locale.ROOT, "A running domain whose device model runs a small TCG guest with"
                + " Debian's qemu-ga on the libxl agent channel, appending to its one qcow2 disk; an internal snapshot"
                + " of `xvda` per create. Per round a create with quiesce `never` (its QMP transaction timed from just"
                + " before it is sent to its answer) and one with `require` (the guest's frozen time as the snapshot"
                + " records it: from the freeze request to the thaw's answer, the transaction in between), once after"
                + " the guest's `sync` through `guest-exec` (`quiesce.presync`, the default) and once without it. %d"
                + " warm-up"
                + " rounds, %d measured. ms, median [p10–p90].", runs.warmup(), runs.measured()));
        report.table(List.of("", "ms"), List.of(
                List.of("bare transaction (quiesce never)", transaction.cell()),
                List.of("guest frozen (quiesce require)", frozen.cell()),
                List.of("of which the freeze request (guest-fsfreeze-freeze)", freezeRequest.cell()),
                List.of("of which the rest: the transaction, then the thaw's round trip", afterFreeze.cell()),
                List.of("guest frozen without the guest's sync first (quiesce.presync false)", frozenUnsynced.cell()),
                List.of("of which the freeze request", freezeRequestUnsynced.cell())));
        double over = frozen.median() - transaction.median();
        report.verdict("quiesced create: guest frozen ≤ transaction + " + (int) SLACK_MS + " ms",
                String.format(Locale.ROOT, "+%.1f ms", over), over <= SLACK_MS,
                "the guest's own freeze (it writes its dirty data first) and the thaw's round trip, in a TCG guest");
    }
}
