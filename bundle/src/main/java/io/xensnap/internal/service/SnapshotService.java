package io.xensnap.internal.service;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.config.Settings;
import io.xensnap.internal.engine.Connectors;
import io.xensnap.internal.engine.DomainWatchView;
import io.xensnap.internal.engine.EngineBuilder;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.events.SnapshotEvents;
import io.xensnap.internal.events.SnapshotEvents.Operation;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.xl.XlDomainControl;

/**
 * The xensnap service: the engine built from the validated settings and the peer components, registered as the public
 * {@link DiskSnapshotProvider} and as the internal {@link SnapshotOperations} the console and the MBean use. Every
 * change is announced to {@link SnapshotEvents} when one is there. On activation every domain with a catalog is
 * reconciled once in the background ({@link StartupReconcile}).
 */
@Component(service = {DiskSnapshotProvider.class, SnapshotOperations.class})
public final class SnapshotService implements SnapshotOperations {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotService.class);

    private final SnapshotEngine engine;
    private final Optional<DomainWatchView> domainView;
    private final CatalogStore catalogs;
    private final Thread startupReconcile;

    // Not final: SCR sets and clears it while the service runs (optional, dynamic, greedy).
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile SnapshotEvents events;

    @Activate
    public SnapshotService(@Reference(name = "settings") Settings settings,
                           @Reference(name = "xenstore") Connectors.Xenstore xenstore,
                           @Reference(name = "qmp") Connectors.Qmp qmp,
                           @Reference(name = "qemuImg") QemuImgRunner qemuImg,
                           @Reference(name = "libxl") LibxlConfigUpdater libxl,
                           @Reference(name = "locks") DomainLockRegistry locks) {
        this.catalogs = new CatalogStore(settings.stateDir());
        // one watching connection for the component's life, opened on the first request (xenstored may start later)
        this.domainView = settings.domainView() ? Optional.of(new DomainWatchView(xenstore)) : Optional.empty();
        EngineBuilder builder = new EngineBuilder(xenstore, qmp);
        domainView.ifPresent(builder::domainView);
        this.engine = builder
                .qemuImg(qemuImg.qemuImg())
                .libxl(libxl.store())
                .catalogs(catalogs)
                .overlayRoots(settings.overlayRoots())
                .limits(settings.limits())
                .locks(locks.waiting(settings.domainBusyWait()))
                .clock(Clock.systemUTC())
                .parallelism(settings.parallelism())
                .jobTimeout(settings.qmp().job())
                .mergeSpeed(settings.mergeSpeed())
                .domains(settings.xl().map(xl -> new XlDomainControl(new JdkProcessRunner(), xl,
                        settings.xlTimeout())))
                .quiesce(settings.quiesce())
                .build();
        this.startupReconcile = new StartupReconcile(engine::reconcileAll).start();
    }

    /**
     * Waits for the reconcile at start to end; for tests that lay out a crash after the service came up.
     *
     * @return whether it ended within {@code wait}
     */
    public boolean awaitStartupReconcile(Duration wait) throws InterruptedException {
        startupReconcile.join(wait.toMillis());
        return !startupReconcile.isAlive();
    }

    @Deactivate
    public void deactivate() {
        // its waits are bounded; the interrupt only cuts short a lock wait or a sleep of the old engine
        startupReconcile.interrupt();
        domainView.ifPresent(DomainWatchView::close);
    }

    @Override
    public SnapshotInfo create(SnapshotRequest request) throws SnapshotException {
        List<String> disks = request.disks().stream().map(DiskSpec::vdev).toList();
        try {
            SnapshotInfo info = engine.create(request);
            succeeded(Operation.CREATE, request.domain(), info);
            return info;
        } catch (SnapshotException e) {
            throw failed(Operation.CREATE, request.domain(), request.name(), disks, e);
        } catch (RuntimeException e) {
            failed(Operation.CREATE, request.domain(), request.name(), disks, defect(e));
            throw e;
        }
    }

    @Override
    public RevertResult revert(DomainRef domain, String snapshot) throws SnapshotException {
        return revert(domain, snapshot, Progress.NONE);
    }

    @Override
    public RevertResult revert(DomainRef domain, String snapshot, Progress progress) throws SnapshotException {
        return reverted(domain, snapshot, () -> engine.revert(domain, snapshot, guarded(progress)));
    }

    @Override
    public RevertResult revertAndRestart(DomainRef domain, String snapshot) throws SnapshotException {
        return revertAndRestart(domain, snapshot, Progress.NONE);
    }

    @Override
    public RevertResult revertAndRestart(DomainRef domain, String snapshot, Progress progress)
            throws SnapshotException {
        return reverted(domain, snapshot, () -> engine.revertAndRestart(domain, snapshot, guarded(progress)));
    }

    /** Either revert, with its event: one for the outcome, whatever it is. */
    private RevertResult reverted(DomainRef domain, String snapshot, RevertCall call) throws SnapshotException {
        try {
            RevertResult result = call.run();
            succeeded(Operation.REVERT, domain, result.snapshot());
            return result;
        } catch (SnapshotException e) {
            throw failed(Operation.REVERT, domain, snapshot, List.of(), e);
        } catch (RuntimeException e) {
            failed(Operation.REVERT, domain, snapshot, List.of(), defect(e));
            throw e;
        }
    }

    private interface RevertCall {
        RevertResult run() throws SnapshotException;
    }

    @Override
    public void delete(DomainRef domain, String snapshot) throws SnapshotException {
        delete(domain, snapshot, Progress.NONE);
    }

    @Override
    public void delete(DomainRef domain, String snapshot, Progress progress) throws SnapshotException {
        try {
            // read first: the event names the disks, and the snapshot is gone afterwards
            SnapshotInfo info = engine.get(domain, snapshot);
            engine.delete(domain, snapshot, guarded(progress));
            succeeded(Operation.DELETE, domain, info);
        } catch (SnapshotException e) {
            throw failed(Operation.DELETE, domain, snapshot, List.of(), e);
        } catch (RuntimeException e) {
            failed(Operation.DELETE, domain, snapshot, List.of(), defect(e));
            throw e;
        }
    }

    @Override
    public SnapshotTree list(DomainRef domain) throws SnapshotException {
        return engine.list(domain);
    }

    @Override
    public SnapshotInfo get(DomainRef domain, String snapshot) throws SnapshotException {
        return engine.get(domain, snapshot);
    }

    @Override
    public List<SnapshotSpace> space(DomainRef domain) throws SnapshotException {
        return engine.space(domain);
    }

    @Override
    public Optional<String> domainConfig(DomainRef domain, String snapshot) throws SnapshotException {
        return engine.domainConfig(domain, snapshot);
    }

    @Override
    public List<String> knownDomains() throws SnapshotException {
        try {
            return catalogs.uuids();
        } catch (CatalogException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, e.getMessage(), e);
        }
    }

    @Override
    public ReconcileReport reconcile(DomainRef domain) throws SnapshotException {
        return engine.reconcile(domain);
    }

    @Override
    public List<ReconcileReport> reconcileAll() throws SnapshotException {
        return engine.reconcileAll();
    }

    private void succeeded(Operation op, DomainRef domain, SnapshotInfo info) {
        SnapshotEvents sink = events;
        if (sink != null) {
            sink.succeeded(op, domain, info);
        }
    }

    /** @return {@code error}, so that callers can write {@code throw failed(...)} */
    private SnapshotException failed(Operation op, DomainRef domain, String snapshot, List<String> disks,
                                     SnapshotException error) {
        SnapshotEvents sink = events;
        if (sink != null) {
            sink.failed(op, domain, snapshot, disks, error);
        }
        return error;
    }

    private static SnapshotException defect(RuntimeException e) {
        return new SnapshotException(SnapshotError.INTERNAL, e.toString(), e);
    }

    /** A watcher's bug must not fail a revert or a merge halfway. */
    private static Progress guarded(Progress progress) {
        return (step, done, total, unit) -> {
            try {
                progress.report(step, done, total, unit);
            } catch (RuntimeException e) {
                LOG.warn("a progress listener failed on '{}' {}/{}: {}", step, done, total, e.toString());
            }
        };
    }
}
