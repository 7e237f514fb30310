package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.QuiescePolicy;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.AgentGuest;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.create.CreatePlan;
import io.xensnap.internal.engine.create.CreatePlanner;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.qga.FreezeStatus;
import io.xensnap.internal.qga.GuestAgent;

/**
 * Quiesced creates against a domain whose device model runs a real guest with Debian's qemu-ga ({@link AgentGuest}):
 * the disk xensnap snapshots is the file system the guest appends to without syncing, so a snapshot shows whether the
 * freeze put the guest's page cache on the disk, and the guest's console shows when its appends stall.
 */
class QuiesceTest {

    private static final int DOMID = 9;
    private static final DomainRef DOM = DomainRef.running(DOMID);
    private static final ObjectMapper JSON = new ObjectMapper();

    private Dom0 dom0;
    private AgentGuest guest;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        guest = dom0.agentDomain(DOMID);
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    private static QuiesceSettings settings(Duration timeout, Duration maxFreeze) {
        return new QuiesceSettings(QuiescePolicy.TRY, timeout, maxFreeze);
    }

    private static SnapshotRequest internal(String name, QuiescePolicy policy) {
        return new SnapshotRequest(DOM, name, "", List.of(DiskSpec.internal("xvda")), policy);
    }

    private Path image() {
        return guest.qemu().disk(0).image();
    }

    /** @return the lines of /log in the guest's file system as internal snapshot {@code snapshot} holds it */
    private List<String> logIn(String snapshot) throws Exception {
        Path raw = image().resolveSibling("check-" + snapshot + ".raw");
        ShortCommand.run(Duration.ofSeconds(60), List.of(Prerequisite.QEMU_IMG.require().toString(), "convert", "-U",
                "-f", "qcow2", "-l", "snapshot.name=" + snapshot, "-O", "raw", image().toString(), raw.toString()))
                .orThrow();
        try {
            // an unsynced file system may not even be one yet: then debugfs fails and the log is empty
            String out = ShortCommand.run(Duration.ofSeconds(30), List.of(Prerequisite.DEBUGFS.require().toString(),
                    "-R", "cat /log", raw.toString())).output();
            return out.lines().filter(l -> l.matches("W \\d+")).toList();
        } finally {
            Files.deleteIfExists(raw);
        }
    }

    private FreezeStatus status() throws Exception {
        try (GuestAgent agent = GuestAgent.connect(dom0.agentSocketOf(DOMID), Duration.ofSeconds(30),
                () -> new SecureRandom().nextInt(Integer.MAX_VALUE), JSON)) {
            return agent.status();
        }
    }

    @Test
    void aQuiescedSnapshotHoldsWhatTheGuestWroteButNeverSyncedAndTheGuestStallsForTheTransactionAlone()
            throws Exception {
        AtomicInteger atFreeze = new AtomicInteger();
        AtomicInteger afterWait = new AtomicInteger();
        SnapshotEngine engine = dom0.engine(new EngineHooks() {
            @Override
            public void whileFrozen(CreatePlan plan) throws Exception {
                atFreeze.set(guest.lastWrite());
                // the guest appends every 0.2 s: 1.5 s without a completed append is the freeze
                Thread.sleep(1500);
                afterWait.set(guest.lastWrite());
            }
        }, settings(Duration.ofSeconds(10), Duration.ofSeconds(20)));

        // crash-consistent: what the guest appended only sits in its page cache, and the snapshot lacks it
        int written0 = guest.awaitWriteAfter(guest.lastWrite(), Duration.ofSeconds(20));
        SnapshotInfo s0 = engine.create(internal("s0", QuiescePolicy.NEVER));
        assertThat(s0.quiesced()).isFalse();
        assertThat(s0.frozen()).isZero();
        assertThat(atFreeze.get()).as("no freeze, no hook").isZero();
        assertThat(logIn("s0")).doesNotContain("W " + written0);

        int written1 = guest.awaitWriteAfter(guest.lastWrite(), Duration.ofSeconds(20));
        SnapshotInfo s1 = engine.create(internal("s1", QuiescePolicy.REQUIRE));

        assertThat(s1.quiesced()).isTrue();
        assertThat(s1.frozen()).isBetween(Duration.ofMillis(1500), Duration.ofSeconds(10));
        // a line whose append had returned may reach the console just after the freeze: at most one
        assertThat(afterWait.get()).as("appends done while frozen").isLessThanOrEqualTo(atFreeze.get() + 1);
        assertThat(logIn("s1")).contains("W " + written1, "W " + atFreeze.get());
        guest.awaitWriteAfter(afterWait.get() + 1, Duration.ofSeconds(20));
        assertThat(status()).isEqualTo(FreezeStatus.THAWED);
        // the catalog keeps it
        assertThat(dom0.engine().get(DOM, "s1").quiesced()).isTrue();
        assertThat(dom0.engine().get(DOM, "s1").frozen()).isEqualTo(Duration.ofMillis(s1.frozen().toMillis()));
        assertThat(dom0.engine().get(DOM, "s0").quiesced()).isFalse();
    }

    @Test
    void aTransactionQemuRefusesThawsTheGuestAndChangesNothing() throws Exception {
        SnapshotEngine engine = dom0.engine(new EngineHooks() {
            @Override
            public void whileFrozen(CreatePlan plan) throws Exception {
                // QEMU cannot open an empty file as the qcow2 overlay: the transaction is refused
                Files.write(CreatePlanner.defaultOverlay(image(), "s1"), new byte[0]);
            }
        }, QuiesceSettings.defaults());

        assertThatThrownBy(() -> engine.create(new SnapshotRequest(DOM, "s1", "",
                List.of(DiskSpec.external("xvda", null)), QuiescePolicy.REQUIRE)))
                .isInstanceOfSatisfying(SnapshotException.class,
                        e -> assertThat(e.code()).isEqualTo(SnapshotError.HYPERVISOR_ERROR));

        assertThat(status()).isEqualTo(FreezeStatus.THAWED);
        guest.awaitWriteAfter(guest.lastWrite(), Duration.ofSeconds(20));
        assertThat(engine.list(DOM).snapshots()).isEmpty();
        assertThat(CreatePlanner.defaultOverlay(image(), "s1")).doesNotExist();
    }

    @Test
    void theWatchdogThawsWhileTheCreatingThreadIsStuckAndTheSnapshotIsNotCalledQuiesced() throws Exception {
        AtomicLong resumedAfterMs = new AtomicLong(-1);
        SnapshotEngine engine = dom0.engine(new EngineHooks() {
            @Override
            public void whileFrozen(CreatePlan plan) {
                long t0 = System.nanoTime();
                int frozenAt = guest.lastWrite();
                // stuck here; only the watchdog (after 2 s) can let the guest write again
                guest.awaitWriteAfter(frozenAt + 1, Duration.ofSeconds(15));
                resumedAfterMs.set((System.nanoTime() - t0) / 1_000_000);
            }
        }, settings(Duration.ofMillis(1500), Duration.ofSeconds(2)));

        SnapshotInfo s1 = engine.create(internal("s1", QuiescePolicy.REQUIRE));

        assertThat(resumedAfterMs.get()).isBetween(1000L, 12_000L);
        assertThat(s1.quiesced()).isFalse();
        assertThat(s1.frozen()).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(8));
        assertThat(status()).isEqualTo(FreezeStatus.THAWED);
    }

    @Test
    void anAgentStoppedAfterTheFreezeGetsTheThawWhenItRunsAgainAndReconcileChecksTheGuest() throws Exception {
        SnapshotEngine engine = dom0.engine(new EngineHooks() {
            @Override
            public void whileFrozen(CreatePlan plan) {
                guest.stopAgent();
            }
        }, settings(Duration.ofSeconds(2), Duration.ofSeconds(30)));

        assertThatThrownBy(() -> engine.create(internal("s1", QuiescePolicy.TRY)))
                .isInstanceOfSatisfying(SnapshotException.class,
                        e -> assertThat(e.code()).isEqualTo(SnapshotError.INTERNAL))
                .hasMessageContaining("was taken")
                .hasMessageContaining("did not confirm the thaw");
        int stalled = guest.lastWrite();
        Thread.sleep(1000);
        assertThat(guest.lastWrite()).as("still frozen while the agent is stopped").isLessThanOrEqualTo(stalled + 1);
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).pending()).isPresent();

        guest.continueAgent();
        // the thaw xensnap sent waited in the channel
        guest.awaitWriteAfter(stalled + 1, Duration.ofSeconds(20));
        ReconcileReport report = dom0.engine().reconcile(DOM);
        assertThat(report.findings()).extracting(ReconcileReport.Finding::code).containsExactly(Code.CREATE_FINISHED);
        assertThat(dom0.engine().get(DOM, "s1").disks()).hasSize(1);
        assertThat(status()).isEqualTo(FreezeStatus.THAWED);
    }

    @Test
    void anAgentThatDoesNotAnswerMakesTryGoOnWithoutAFreezeAndRequireChangeNothing() throws Exception {
        SnapshotEngine engine = dom0.engine(EngineHooks.NONE, settings(Duration.ofSeconds(2), Duration.ofSeconds(10)));
        guest.stopAgent();
        try {
            long t0 = System.nanoTime();
            SnapshotInfo t = engine.create(internal("t1", QuiescePolicy.TRY));
            assertThat(t.quiesced()).isFalse();
            assertThat(t.frozen()).isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));

            DomainCatalog catalog = new CatalogStore(dom0.state).load(Dom0.uuid(DOMID));
            assertThatThrownBy(() -> engine.create(internal("r1", QuiescePolicy.REQUIRE)))
                    .isInstanceOfSatisfying(SnapshotException.class,
                            e -> assertThat(e.code()).isEqualTo(SnapshotError.QUIESCE_FAILED))
                    .hasMessageContaining("nothing was changed");
            assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID))).isEqualTo(catalog);
            assertThat(ShortCommand.ok("qemu-img", "snapshot", "-U", "-l", image().toString()).output())
                    .contains("t1").doesNotContain("r1");
        } finally {
            guest.continueAgent();
        }
        assertThat(status()).isEqualTo(FreezeStatus.THAWED);
    }

    /**
     * The agent answers the sync and is stopped before the freeze: the freeze times out, but the agent carries it out
     * once it runs again, and the thaw xensnap queued behind it undoes it at once.
     */
    @Test
    void aFreezeThatTimesOutIsUndoneWhenTheAgentRunsAgainUnderTryAndRequire() throws Exception {
        SnapshotEngine engine = dom0.engine(new EngineHooks() {
            @Override
            public void beforeTransaction(CreatePlan plan) {
                guest.stopAgent();
            }
        }, settings(Duration.ofSeconds(2), Duration.ofSeconds(10)));

        SnapshotInfo t = engine.create(internal("t1", QuiescePolicy.TRY));
        assertThat(t.quiesced()).isFalse();
        guest.continueAgent();
        guest.awaitWriteAfter(guest.lastWrite() + 2, Duration.ofSeconds(20));
        assertThat(status()).isEqualTo(FreezeStatus.THAWED);

        DomainCatalog catalog = new CatalogStore(dom0.state).load(Dom0.uuid(DOMID));
        assertThatThrownBy(() -> engine.create(internal("r1", QuiescePolicy.REQUIRE)))
                .isInstanceOfSatisfying(SnapshotException.class,
                        e -> assertThat(e.code()).isEqualTo(SnapshotError.QUIESCE_FAILED))
                .hasMessageContaining("guest-fsfreeze-freeze");
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID))).isEqualTo(catalog);
        assertThat(ShortCommand.ok("qemu-img", "snapshot", "-U", "-l", image().toString()).output())
                .doesNotContain("r1");
        guest.continueAgent();
        guest.awaitWriteAfter(guest.lastWrite() + 2, Duration.ofSeconds(20));
        assertThat(status()).isEqualTo(FreezeStatus.THAWED);
    }

    @Test
    void aGuestLeftFrozenByADeadXensnapIsThawedByReconcile() throws Exception {
        SnapshotEngine dying = dom0.engine(Faults.crashAt(Faults.Point.BEFORE_TRANSACTION),
                settings(Duration.ofSeconds(5), Duration.ofSeconds(10)));
        assertThatThrownBy(() -> dying.create(internal("s1", QuiescePolicy.TRY)))
                .isInstanceOf(Faults.SimulatedCrash.class);
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).pending().orElseThrow().agent())
                .isEqualTo(dom0.agentSocketOf(DOMID));
        // what the dead process had done next: the freeze (its watchdog died with it)
        try (GuestAgent agent = GuestAgent.connect(dom0.agentSocketOf(DOMID), Duration.ofSeconds(30),
                () -> new SecureRandom().nextInt(Integer.MAX_VALUE), JSON)) {
            assertThat(agent.freeze()).isEqualTo(1);
        }
        int stalled = guest.lastWrite();
        Thread.sleep(1000);
        assertThat(guest.lastWrite()).isLessThanOrEqualTo(stalled + 1);

        ReconcileReport report = dom0.engine().reconcile(DOM);

        assertThat(report.findings()).extracting(ReconcileReport.Finding::code)
                .containsExactly(Code.GUEST_THAWED, Code.CREATE_ROLLED_BACK);
        assertThat(report.findings().get(0).repaired()).isTrue();
        guest.awaitWriteAfter(stalled + 1, Duration.ofSeconds(20));
        assertThat(status()).isEqualTo(FreezeStatus.THAWED);
    }

    @Test
    void requireWithoutAnAgentChannelIsRefusedAndTryIsNotQuiesced() throws Exception {
        dom0.domain(3);
        DomainRef plain = DomainRef.running(3);
        SnapshotEngine engine = dom0.engine();

        assertThatThrownBy(() -> engine.create(new SnapshotRequest(plain, "r1", "", List.of(DiskSpec.internal("xvda")),
                QuiescePolicy.REQUIRE)))
                .isInstanceOfSatisfying(SnapshotException.class,
                        e -> assertThat(e.code()).isEqualTo(SnapshotError.UNSUPPORTED))
                .hasMessageContaining("no guest agent channel");
        assertThat(new CatalogStore(dom0.state).exists(Dom0.uuid(3))).isFalse();
        SnapshotInfo t = engine.create(new SnapshotRequest(plain, "t1", "", List.of(DiskSpec.internal("xvda")),
                QuiescePolicy.TRY));
        assertThat(t.quiesced()).isFalse();
    }
}
