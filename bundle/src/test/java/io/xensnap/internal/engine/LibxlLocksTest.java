package io.xensnap.internal.engine;

import static io.xensnap.internal.engine.Faults.assertOriginalData;
import static io.xensnap.internal.engine.Faults.assertViewsAgree;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.engine.FaultMatrixTest.Holder;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;

/**
 * libxl's qmp-socket-lock and device-changes lock held by another process (flock(1), as xl would hold them): every
 * operation that would talk to QEMU or change a disk's backend and config waits the configured lock timeout, then
 * fails with LOCK_TIMEOUT naming the holder, and changes nothing. The domain-userdata lock's case is in
 * {@link FaultMatrixTest}.
 */
class LibxlLocksTest {

    private static final int DOMID = 7;
    private static final DomainRef DOM = DomainRef.running(DOMID);
    private static final Duration LOCK_TIMEOUT = Duration.ofMillis(500);

    private Dom0 dom0;
    private SnapshotEngine engine;
    private SnapshotEngine waiting;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        dom0.domain(DOMID);
        engine = dom0.engine();
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", null))));
        waiting = dom0.engine(EngineHooks.NONE, Duration.ofSeconds(20), Duration.ofSeconds(5), LOCK_TIMEOUT);
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    @Test
    void qmpSocketLockHeldMakesCreateDeleteAndReconcileWaitThenFailNamingTheHolder() throws Exception {
        Path lock = dom0.host.libxlLockPath(DOMID, "qmp-socket-lock");
        try (Holder holder = Holder.hold(lock, dom0.host.root().resolve("flock.log"))) {
            String before = dom0.fingerprint();
            String pid = "pid " + holder.pid() + " (";

            assertLockTimeout(() -> waiting.create(new SnapshotRequest(DOM, "s2", "",
                    List.of(DiskSpec.internal("xvdb")))), lock, pid);
            assertLockTimeout(() -> waiting.create(new SnapshotRequest(DOM, "s2", "",
                    List.of(DiskSpec.external("xvdb", null)))), lock, pid);
            assertLockTimeout(() -> waiting.delete(DOM, "s1"), lock, pid);
            assertReconcileWaits(lock, pid);

            assertThat(dom0.fingerprint()).isEqualTo(before);
        }
        assertSettled();
    }

    @Test
    void deviceChangesLockHeldMakesExternalCreateDeleteAndReconcileWaitThenFailNamingTheHolder() throws Exception {
        Path lock = dom0.host.libxlLockPath(DOMID, "libxl-device-changes-lock");
        try (Holder holder = Holder.hold(lock, dom0.host.root().resolve("flock.log"))) {
            String before = dom0.fingerprint();
            String pid = "pid " + holder.pid() + " (";

            assertLockTimeout(() -> waiting.create(new SnapshotRequest(DOM, "s2", "",
                    List.of(DiskSpec.external("xvdb", null)))), lock, pid);
            assertLockTimeout(() -> waiting.delete(DOM, "s1"), lock, pid);
            assertReconcileWaits(lock, pid);

            assertThat(dom0.fingerprint()).isEqualTo(before);
            // an internal snapshot changes no backend and no config: libxl's device changes do not stop it
            waiting.create(new SnapshotRequest(DOM, "s3", "", List.of(DiskSpec.internal("xvdb"))));
        }
        assertSettled();
    }

    private void assertReconcileWaits(Path lock, String pid) throws SnapshotException {
        long start = System.nanoTime();
        ReconcileReport r = waiting.reconcile(DOM);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(LOCK_TIMEOUT);
        assertThat(r.findings()).as(r.lines().toString()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.PEER_UNREACHABLE);
            assertThat(f.detail()).contains(lock.toString()).contains(pid);
        });
    }

    private static void assertLockTimeout(Faults.ThrowingCall call, Path lock, String pid) throws Exception {
        long start = System.nanoTime();
        try {
            call.run();
        } catch (SnapshotException e) {
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("waited for the lock")
                    .isGreaterThanOrEqualTo(LOCK_TIMEOUT);
            assertThat(e.code()).as(e.getMessage()).isEqualTo(SnapshotError.LOCK_TIMEOUT);
            assertThat(e.getMessage()).contains(lock.toString()).contains(pid);
            return;
        }
        throw new AssertionError("expected LOCK_TIMEOUT while " + lock + " is held; the call succeeded");
    }

    private void assertSettled() throws Exception {
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertOriginalData(dom0, DOMID);
    }
}
