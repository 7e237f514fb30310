package io.xensnap.internal.engine;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DomainRef;
import io.xensnap.api.Names;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.create.CreatePlan;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.engine.create.CreatePlanner;
import io.xensnap.internal.engine.create.LiveCreate;
import io.xensnap.internal.engine.create.OfflineCreate;
import io.xensnap.internal.engine.create.OverlayPolicy;
import io.xensnap.internal.engine.create.RestoringCreate;
import io.xensnap.internal.engine.delete.Delete;
import io.xensnap.internal.engine.quiesce.GuestQuiescer;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;
import io.xensnap.internal.engine.quiesce.Watchdog;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.reconcile.Reconciler;
import io.xensnap.internal.engine.revert.RestartingRevert;
import io.xensnap.internal.engine.revert.ResumingRevert;
import io.xensnap.internal.engine.revert.Revert;
import io.xensnap.internal.engine.space.SpaceCounter;
import io.xensnap.internal.fs.DirectoryCalls;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDomain;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.xenstore.XenstoreException;
import io.xensnap.internal.xl.DomainControl;

/**
 * The snapshot engine, in libvirt's shape: validate (no side effects) → prepare (an undo for every side effect) → one
 * transaction → a point of no return → libxl config, xenstore and catalog last. One operation per domain at a time.
 */
public final class SnapshotEngine implements DiskSnapshotProvider {

    private final Peers peers;
    private final DomainResolver resolver;
    private final CreatePlanner planner;
    private final DomainLocks locks;
    private final LiveCreate liveCreate;
    private final OfflineCreate offlineCreate;
    private final RestoringCreate restoringCreate;
    private final Revert revert;
    private final ResumingRevert resumingRevert;
    private final RestartingRevert restartingRevert;
    private final Delete delete;
    private final Reconciler reconciler;
    private final SpaceCounter space;

    /** Built by {@link EngineBuilder}, whose setters say what each part is. */
    SnapshotEngine(Connectors.Xenstore xenstore, Connectors.Qmp qmp, QemuImg qemuImg, DomainConfigStore libxl,
                   CatalogStore catalogs, OverlayPolicy overlays, CreateLimits limits, DomainLocks locks, Clock clock,
                   int parallelism, java.time.Duration jobTimeout, long mergeSpeed, EngineHooks hooks,
                   Optional<DomainControl> domains, QuiesceSettings quiesce, Watchdog watchdog,
                   Optional<DomainWatchView> domainView) {
        this.peers = new Peers(xenstore, qmp, qemuImg, libxl, catalogs, clock,
                new OverlayFiles(DirectoryCalls.load(), qemuImg, overlays), domains);
        this.resolver = new DomainResolver(xenstore, domainView);
        this.planner = new CreatePlanner(overlays, limits, catalogs::memoryImage, this::libxlConfig);
        this.locks = locks;
        GuestQuiescer quiescer = new GuestQuiescer(quiesce, libxl, watchdog, clock);
        this.liveCreate = new LiveCreate(peers, parallelism, hooks, quiescer);
        this.offlineCreate = new OfflineCreate(peers);
        this.restoringCreate = new RestoringCreate(peers, hooks);
        this.revert = new Revert(peers, resolver, parallelism, hooks);
        this.resumingRevert = new ResumingRevert(peers, resolver, revert);
        this.restartingRevert = new RestartingRevert(peers, resolver, revert);
        this.delete = new Delete(peers, resolver, jobTimeout, mergeSpeed, hooks);
        this.reconciler = new Reconciler(peers, resolver, jobTimeout, mergeSpeed, quiescer.connector());
        this.space = new SpaceCounter(clock);
    }

    @Override
    public SnapshotInfo create(SnapshotRequest request) throws SnapshotException {
        try (DomainResolver.Lookup lookup = resolver.lookup(request.domain())) {
            String uuid = lookup.uuid();
            try (DomainLocks.Held held = locks.acquire(uuid)) {
                DomainCatalog catalog = load(uuid);
                DomainView domain = lookup.view(catalog);
                // one xenstore connection for the uuid and the disks; not kept while QEMU or qemu-img works
                lookup.close();
                if (!domain.running()) {
                    resolver.requireShutOff(uuid);
                }
                if (request.memory()) {
                    requireRunningForMemory(domain);
                }
                CreatePlan plan = planner.plan(request, domain, catalog);
                if (request.memory() && peers.domains().isEmpty()) {
                    // after the plan: a request that is wrong anyway is told so first
                    throw new SnapshotException(SnapshotError.UNSUPPORTED, domain.label() + ": snapshots with memory"
                            + " need xl, and the configuration names none (xl.path)");
                }
                try {
                    if (!domain.running()) {
                        return offlineCreate.run(plan);
                    }
                    return plan.restores() ? restoringCreate.run(plan) : liveCreate.run(plan);
                } catch (SnapshotException e) {
                    throw PendingAdvice.added(e, request.domain(), catalog, peers.catalogs());
                }
            }
        }
    }

    /** libxl's stored config of a running domain, for the planner; empty when libxl keeps none. */
    private Optional<byte[]> libxlConfig(DomainView domain) throws SnapshotException {
        try {
            return Optional.of(peers.libxl().readConfig(new LibxlDomain(domain.domid().getAsInt(),
                    java.util.UUID.fromString(domain.uuid()))));
        } catch (LibxlConfigException e) {
            if (e.reason() == LibxlConfigException.Reason.NOT_FOUND) {
                return Optional.empty();
            }
            throw Errors.libxl(domain.label(), e);
        }
    }

    private static void requireRunningForMemory(DomainView domain) throws SnapshotException {
        if (!domain.running()) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, domain.label() + " is shut off: it has no"
                    + " memory to save; take a snapshot without memory");
        }
    }

    @Override
    public RevertResult revert(DomainRef domain, String snapshot) throws SnapshotException {
        return revert(domain, snapshot, Progress.NONE);
    }

    /** As {@link #revert(DomainRef, String)}, reporting each disk as it is done. */
    public RevertResult revert(DomainRef domain, String snapshot, Progress progress) throws SnapshotException {
        String uuid = resolver.uuid(domain);
        try (DomainLocks.Held held = locks.acquire(uuid)) {
            DomainCatalog catalog = load(uuid);
            String name = snapshotName(snapshot);
            try {
                Optional<SnapshotInfo> snap = catalog.snapshot(name);
                if (snap.isPresent() && snap.get().memory() != null) {
                    // a domain snapshot: the domain runs again from the snapshot's instant, whatever it does now
                    return resumingRevert.run(catalog, snap.get(), progress);
                }
                return revert.run(domain, catalog, name, progress);
            } catch (SnapshotException e) {
                throw PendingAdvice.added(e, domain, catalog, peers.catalogs());
            }
        }
    }

    @Override
    public RevertResult revertAndRestart(DomainRef domain, String snapshot) throws SnapshotException {
        return revertAndRestart(domain, snapshot, Progress.NONE);
    }

    /** As {@link #revertAndRestart(DomainRef, String)}, reporting each disk as it is done. */
    public RevertResult revertAndRestart(DomainRef domain, String snapshot, Progress progress)
            throws SnapshotException {
        String uuid = resolver.uuid(domain);
        try (DomainLocks.Held held = locks.acquire(uuid)) {
            DomainCatalog catalog = load(uuid);
            String name = snapshotName(snapshot);
            SnapshotInfo snap = catalog.snapshot(name).orElseThrow(() -> new SnapshotException(
                    SnapshotError.NO_SUCH_SNAPSHOT, "domain " + uuid + " has no snapshot named " + name));
            try {
                return restartingRevert.run(domain, catalog, snap, progress);
            } catch (SnapshotException e) {
                throw PendingAdvice.added(e, domain, catalog, peers.catalogs());
            }
        }
    }

    @Override
    public void delete(DomainRef domain, String snapshot) throws SnapshotException {
        delete(domain, snapshot, Progress.NONE);
    }

    /** As {@link #delete(DomainRef, String)}, reporting merges as QEMU reports them and each disk as it is done. */
    public void delete(DomainRef domain, String snapshot, Progress progress) throws SnapshotException {
        String uuid = resolver.uuid(domain);
        try (DomainLocks.Held held = locks.acquire(uuid)) {
            DomainCatalog catalog = load(uuid);
            try {
                delete.run(domain, catalog, snapshotName(snapshot), progress);
            } catch (SnapshotException e) {
                throw PendingAdvice.added(e, domain, catalog, peers.catalogs());
            }
        }
    }

    @Override
    public SnapshotTree list(DomainRef domain) throws SnapshotException {
        return load(known(domain)).tree();
    }

    @Override
    public SnapshotInfo get(DomainRef domain, String snapshot) throws SnapshotException {
        String uuid = known(domain);
        return load(uuid).snapshot(snapshotName(snapshot)).orElseThrow(() -> new SnapshotException(SnapshotError.NO_SUCH_SNAPSHOT,
                "domain " + uuid + " has no snapshot named " + snapshot));
    }

    /** Reads files only: the one a live create wrote, or the save image's header. */
    @Override
    public Optional<String> domainConfig(DomainRef domain, String snapshot) throws SnapshotException {
        String uuid = known(domain);
        return KeptConfigReader.read(peers.catalogs(), uuid, get(domain, snapshot));
    }

    /** Takes no lock of xensnap's or libxl's and opens no QMP session: the images are only read ({@link SpaceCounter}). */
    @Override
    public List<SnapshotSpace> space(DomainRef domain) throws SnapshotException {
        return space.count(load(known(domain)).tree());
    }

    /**
     * Compares the catalog (with an interrupted operation it marks), the chain QEMU runs, the image headers, libxl's
     * stored config and xenstore for one domain; settles an interrupted create, delete or revert where what the
     * disks show proves the outcome, removes empty overlays of ours that nothing references, and reports everything
     * else without touching it. Running or shut off; waits for the domain like any operation.
     *
     * @return what was found and what was done; {@link ReconcileReport#clean()} when every view agreed
     * @throws SnapshotException {@code NO_SUCH_DOMAIN} (no running domain has the domid, or a shut-off uuid xensnap
     *                           knows nothing about), {@code BUSY}; a peer that does not answer is a finding, not an
     *                           exception
     */
    public ReconcileReport reconcile(DomainRef domain) throws SnapshotException {
        String uuid = resolver.uuid(domain);
        List<DiskImage> given = domain instanceof DomainRef.ShutOff s ? s.disks() : List.of();
        if (domain instanceof DomainRef.ShutOff && given.isEmpty() && !peers.catalogs().exists(uuid)
                && !java.nio.file.Files.exists(peers.catalogs().tempFile(uuid))) {
            OptionalInt domid;
            try {
                domid = resolver.runningDomid(uuid);
            } catch (XenstoreException e) {
                throw Errors.xenstore("cannot tell whether domain " + uuid + " runs", e);
            }
            if (domid.isEmpty()) {
                throw new SnapshotException(SnapshotError.NO_SUCH_DOMAIN, "domain " + uuid + " is not running and"
                        + " has no catalog; name it with its disk images to check them");
            }
        }
        try (DomainLocks.Held held = locks.acquire(uuid)) {
            return reconciler.run(uuid, given);
        }
    }

    /**
     * Reconciles every domain that has a catalog (also one whose catalog is corrupt: that is reported). Meant for
     * start-up, before the service is offered; a domain busy with an operation is skipped with a BUSY report line.
     *
     * @return one report per domain, in uuid order
     * @throws SnapshotException {@code INTERNAL} when the state directory cannot be listed
     */
    public List<ReconcileReport> reconcileAll() throws SnapshotException {
        List<String> uuids;
        try {
            uuids = peers.catalogs().uuids();
        } catch (CatalogException e) {
            throw Errors.catalog(e);
        }
        List<ReconcileReport> reports = new ArrayList<>();
        for (String uuid : uuids) {
            if (!Names.isUuid(uuid)) {
                continue;
            }
            try (DomainLocks.Held held = locks.acquire(uuid)) {
                reports.add(reconciler.run(uuid, List.of()));
            } catch (SnapshotException e) {
                reports.add(new ReconcileReport(uuid, List.of(new ReconcileReport.Finding(
                        ReconcileReport.Code.DOMAIN_BUSY, false, "domain " + uuid, e.codedMessage()))));
            }
        }
        return reports;
    }

    /**
     * @return the uuid of a domain xensnap knows: one that runs, or one with a catalog
     * @throws SnapshotException NO_SUCH_DOMAIN for a uuid that neither runs nor ever had a snapshot
     */
    private String known(DomainRef domain) throws SnapshotException {
        String uuid = resolver.uuid(domain);
        if (domain instanceof DomainRef.ShutOff && !peers.catalogs().exists(uuid)) {
            boolean running;
            try {
                running = resolver.runningDomid(uuid).isPresent();
            } catch (XenstoreException e) {
                throw Errors.xenstore("cannot look domain " + uuid + " up", e);
            }
            if (!running) {
                throw new SnapshotException(SnapshotError.NO_SUCH_DOMAIN,
                        "no running domain has uuid " + uuid + " and xensnap has no snapshots of it");
            }
        }
        return uuid;
    }

    private static String snapshotName(String name) throws SnapshotException {
        try {
            return Names.snapshot(name);
        } catch (IllegalArgumentException e) {
            throw new SnapshotException(SnapshotError.INVALID_ARGUMENT, e.getMessage(), e);
        }
    }

    private DomainCatalog load(String uuid) throws SnapshotException {
        try {
            return peers.catalogs().load(uuid);
        } catch (CatalogException e) {
            throw Errors.catalog(e);
        }
    }
}
