package io.xensnap.internal.engine;

import java.time.Clock;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DomainRef;
import io.xensnap.api.Names;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.qemuimg.QemuImg;

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
    private final Revert revert;
    private final Delete delete;

    /**
     * @param xenstore    opens a xenstore connection per operation
     * @param qmp         opens a QMP connection to a domain's device model per operation
     * @param qemuImg     runs qemu-img on images no QEMU holds
     * @param libxl       libxl's stored domain configs
     * @param catalogs    the snapshot catalog
     * @param overlays    where overlays may be created
     * @param locks       one operation per domain
     * @param clock       creation times and lock deadlines
     * @param parallelism how many qemu-img runs one revert may start at once (at least 1)
     * @param jobTimeout  how long a merge (block-commit) may take
     */
    public SnapshotEngine(Connectors.Xenstore xenstore, Connectors.Qmp qmp, QemuImg qemuImg, DomainConfigStore libxl,
                          CatalogStore catalogs, OverlayPolicy overlays, DomainLocks locks, Clock clock,
                          int parallelism, java.time.Duration jobTimeout) {
        this.peers = new Peers(xenstore, qmp, qemuImg, libxl, catalogs, clock);
        this.resolver = new DomainResolver(xenstore);
        this.planner = new CreatePlanner(overlays);
        this.locks = locks;
        this.liveCreate = new LiveCreate(peers);
        this.offlineCreate = new OfflineCreate(peers);
        this.revert = new Revert(peers, resolver, parallelism);
        this.delete = new Delete(peers, resolver, jobTimeout);
    }

    @Override
    public SnapshotInfo create(SnapshotRequest request) throws SnapshotException {
        String uuid = resolver.uuid(request.domain());
        try (DomainLocks.Held held = locks.acquire(uuid)) {
            DomainCatalog catalog = load(uuid);
            DomainView domain = resolver.resolve(request.domain(), catalog);
            if (!domain.running()) {
                resolver.requireShutOff(uuid);
            }
            CreatePlan plan = planner.plan(request, domain, catalog);
            return domain.running() ? liveCreate.run(plan) : offlineCreate.run(plan);
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
            return revert.run(domain, load(uuid), snapshotName(snapshot), progress);
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
            delete.run(domain, load(uuid), snapshotName(snapshot), progress);
        }
    }

    @Override
    public SnapshotTree list(DomainRef domain) throws SnapshotException {
        return load(resolver.uuid(domain)).tree();
    }

    @Override
    public SnapshotInfo get(DomainRef domain, String snapshot) throws SnapshotException {
        String uuid = resolver.uuid(domain);
        return load(uuid).snapshot(snapshotName(snapshot)).orElseThrow(() -> new SnapshotException(SnapshotError.NO_SUCH_SNAPSHOT,
                "domain " + uuid + " has no snapshot named " + snapshot));
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
