package io.xensnap.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.internal.config.Settings;
import io.xensnap.internal.engine.DomainLocks;
import io.xensnap.internal.engine.EngineBuilder;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.engine.create.CreatePlan;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.service.LibxlConfigUpdater;
import io.xensnap.internal.service.QemuImgRunner;
import io.xensnap.internal.service.QmpConnector;
import io.xensnap.internal.service.XenstoreConnector;
import io.xensnap.internal.xenstore.XenstoreSocketPath;
import io.xensnap.internal.xl.DomainControl;
import io.xensnap.internal.xl.DomainControlException;
import io.xensnap.internal.xl.DomainState;
import io.xensnap.internal.xl.XlDomainControl;

/**
 * The dom0 side of item 11 ({@link PauseBench}), run with {@code java -cp} in a real Xen host's dom0: per round, a
 * snapshot with memory of a running domain through xensnap's engine (then deleted) and, beside it, {@code xl save -p}
 * and {@code xl unpause} of the same domain alone. Both are timed the same way, from the start of {@code xl save -p} to
 * the return of {@code xl unpause}: the domain's pause as its owner sees it. Prints {@code xensnap <ns>} and
 * {@code alone <ns>} per round, warm-up rounds included (the host side drops them).
 *
 * <p>Usage: {@code PauseProbe DOMID ROUNDS}
 */
public final class PauseProbe {

    private PauseProbe() {
    }

    public static void main(String[] args) throws Exception {
        int domid = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        XlDomainControl xl = new XlDomainControl(new JdkProcessRunner(), Path.of("/usr/sbin/xl"),
                Duration.ofMinutes(5));
        Timed timed = new Timed(xl);
        long[] marks = new long[1];
        SnapshotEngine engine = engine(timed, new EngineHooks() {
            @Override
            public void beforeTransaction(CreatePlan plan) {
                marks[0] = System.nanoTime();
            }
        });
        Path alone = Path.of("/var/lib/xensnap/alone.xlsave");
        DomainRef dom = DomainRef.running(domid);
        for (int i = 0; i < rounds; i++) {
            engine.create(new SnapshotRequest(dom, "p" + i, "", List.of(DiskSpec.internal("xvda")), true));
            System.out.println("xensnap " + (timed.unpaused - timed.saveStarted));
            // where the pause goes: the save, from its end to the transaction, the transaction (to the unpause), the unpause
            System.out.println("phases " + (timed.saveEnded - timed.saveStarted) + " "
                    + (marks[0] - timed.saveEnded) + " " + (timed.unpauseStarted - marks[0]) + " "
                    + (timed.unpaused - timed.unpauseStarted));
            engine.delete(dom, "p" + i);
            long t0 = System.nanoTime();
            xl.save(domid, alone, true);
            xl.unpause(domid);
            System.out.println("alone " + (System.nanoTime() - t0));
            Files.delete(alone);
        }
        System.exit(0);
    }

    /** The engine as the service builds it, for this host's paths, with {@code xl} timed. */
    private static SnapshotEngine engine(DomainControl xl, EngineHooks hooks) {
        Settings settings = new Settings(Path.of("/var/run/xen"), Path.of("/var/lib/xen"),
                XenstoreSocketPath.resolve(null, System::getenv), Path.of("/usr/bin/qemu-img"),
                Path.of("/var/lib/xensnap"), List.of(Path.of("/images")), QmpTimeouts.defaults(),
                Duration.ofMinutes(10), Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(5), 2,
                false, 0, CreateLimits.defaults());
        return new EngineBuilder(new XenstoreConnector(settings), new QmpConnector(settings))
                .qemuImg(new QemuImgRunner(settings).qemuImg())
                .libxl(new LibxlConfigUpdater(settings).store())
                .catalogs(settings.stateDir())
                .overlayRoots(settings.overlayRoots())
                .locks(new DomainLocks(settings.domainBusyWait()))
                .parallelism(settings.parallelism())
                .jobTimeout(settings.qmp().job())
                .domains(Optional.of(xl))
                .hooks(hooks)
                .build();
    }

    /** xl, remembering when the last save began and when the last unpause returned. */
    private static final class Timed implements DomainControl {

        private final DomainControl xl;
        volatile long saveStarted;
        volatile long saveEnded;
        volatile long unpauseStarted;
        volatile long unpaused;

        Timed(DomainControl xl) {
            this.xl = xl;
        }

        @Override
        public void save(int domid, Path image, boolean leavePaused) throws DomainControlException {
            saveStarted = System.nanoTime();
            xl.save(domid, image, leavePaused);
            saveEnded = System.nanoTime();
        }

        @Override
        public void unpause(int domid) throws DomainControlException {
            unpauseStarted = System.nanoTime();
            xl.unpause(domid);
            unpaused = System.nanoTime();
        }

        @Override
        public void pause(int domid) throws DomainControlException {
            xl.pause(domid);
        }

        @Override
        public void restore(Path image, Optional<Path> config) throws DomainControlException {
            xl.restore(image, config);
        }

        @Override
        public void create(Path config) throws DomainControlException {
            xl.create(config);
        }

        @Override
        public String parse(Path config) throws DomainControlException {
            return xl.parse(config);
        }

        @Override
        public void destroy(int domid) throws DomainControlException {
            xl.destroy(domid);
        }

        @Override
        public DomainState state(int domid) throws DomainControlException {
            return xl.state(domid);
        }
    }
}
