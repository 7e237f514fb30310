package io.xensnap.internal.engine.reconcile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.DomainResolver;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.QmpSession;
import io.xensnap.internal.engine.quiesce.AgentConnector;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDomain;
import io.xensnap.internal.libxl.LibxlLockKind;
import io.xensnap.internal.libxl.UserdataLock;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;
import io.xensnap.internal.xenstore.DomainDisk;
import io.xensnap.internal.xenstore.DomainDisks;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * Brings one domain's views back together after a crash, and reports what it cannot prove. The views: the catalog
 * (with its pending mark), the chain QEMU runs ({@code query-block}), the image headers
 * ({@code qemu-img info --backing-chain -U}), libxl's stored config and xenstore's backend.
 *
 * <p>In order: a stale catalog temp file goes; a pending create, delete or revert is settled
 * ({@link CreateRecovery}, {@link DeleteRecovery}, {@link RevertRecovery}); then, with nothing pending, every view is
 * compared ({@link DriftCheck}, report only), snapshots and layers no catalog records are reported
 * ({@link UnknownTraces}) and files xensnap made that nobody references are looked for ({@link OrphanScan}). The caller holds the domain's lock, so no operation
 * of this process runs meanwhile. libxl's locks are held for one short critical section at a time, never while a
 * merge job runs in QEMU.
 */
public final class Reconciler {

    private final Peers peers;
    private final DomainResolver resolver;
    private final Duration jobTimeout;
    private final long mergeSpeed;
    private final AgentConnector agents;

    /** @param mergeSpeed QEMU's {@code speed} for a merge reconcile starts itself; 0 for unlimited */
    public Reconciler(Peers peers, DomainResolver resolver, Duration jobTimeout, long mergeSpeed,
                      AgentConnector agents) {
        this.agents = agents;
        this.peers = peers;
        this.resolver = resolver;
        this.jobTimeout = jobTimeout;
        this.mergeSpeed = mergeSpeed;
    }

    /**
     * @param disks the disk images the caller named, used for a shut-off domain whose catalog knows none
     */
    public ReconcileReport run(String uuid, List<DiskImage> disks) {
        Findings findings = new Findings(uuid);
        removeStaleTemp(uuid, findings);
        DomainCatalog catalog;
        try {
            catalog = peers.catalogs().load(uuid);
        } catch (CatalogException e) {
            findings.reported(Code.CATALOG_CORRUPT, e.file().toString(), e.getMessage()
                    + "; it is left as it is and nothing else of this domain was checked");
            return findings.report();
        }
        OptionalInt domid;
        try {
            domid = resolver.runningDomid(uuid);
        } catch (XenstoreException e) {
            findings.reported(Code.PEER_UNREACHABLE, "xenstore", "cannot tell whether the domain runs: "
                    + e.getMessage());
            return findings.report();
        }
        ImageHeaders headers = new ImageHeaders(peers.qemuImg());
        try {
            if (domid.isPresent()) {
                // first of all: a guest must never stay frozen, whatever else this domain's reconcile finds
                catalog.pending().ifPresent(p -> GuestThaw.run(p, agents, findings));
                Optional<DomainCatalog> settled = settleSaved(catalog, domid.getAsInt(), headers, findings);
                if (settled.isEmpty()) {
                    return findings.report();
                }
                live(uuid, domid.getAsInt(), settled.get(), headers, findings);
            } else {
                offline(catalog, disks, headers, findings);
            }
        } catch (QemuImgException e) {
            findings.reported(Code.PEER_UNREACHABLE, "qemu-img", e.getMessage());
        }
        return findings.report();
    }

    /**
     * A create that restores the domain ({@link RestoreRecovery}) is settled before QEMU is asked anything: a domain
     * whose disks are all blkback's has no QEMU.
     *
     * @return the catalog to go on with, empty when the mark stays (reported)
     */
    private Optional<DomainCatalog> settleSaved(DomainCatalog catalog, int domid, ImageHeaders headers,
            Findings findings) throws QemuImgException {
        Optional<PendingOperation> p = catalog.pending();
        if (p.isEmpty() || p.get().kind() != PendingOperation.Kind.CREATE_SAVED) {
            return Optional.of(catalog);
        }
        if (!new RestoreRecovery(peers, headers, findings).running(catalog, p.get(), domid)) {
            return Optional.empty();
        }
        try {
            return Optional.of(peers.catalogs().load(catalog.uuid()));
        } catch (CatalogException e) {
            findings.reported(Code.CATALOG_CORRUPT, e.file().toString(), e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * A running domain. A merge job QEMU runs for a pending delete is waited for first, holding none of libxl's locks
     * ({@link MergeWait}); then one critical section (libxl's locks in libxl's order) settles and checks. When that
     * section had to start a merge itself, it ends early and the wait and the section come once more.
     */
    private void live(String uuid, int domid, DomainCatalog catalog, ImageHeaders headers, Findings findings)
            throws QemuImgException {
        long deadline = System.nanoTime() + jobTimeout.toNanos();
        MergeWait wait = new MergeWait(peers, domid, uuid, mergeSpeed);
        for (int round = 0; round < 2; round++) {
            try {
                wait.await(catalog, deadline);
                if (section(uuid, domid, catalog, headers, findings, round == 0) != Outcome.AGAIN) {
                    return;
                }
                catalog = peers.catalogs().load(uuid);
            } catch (QmpException | XenstoreException | LibxlConfigException | CatalogException e) {
                unreachable(domid, e, findings);
                return;
            }
        }
    }

    /** One critical section: the pending operation settled, then every view compared. */
    private Outcome section(String uuid, int domid, DomainCatalog catalog, ImageHeaders headers, Findings findings,
            boolean mayStartMerges)
            throws QemuImgException, QmpException, XenstoreException, LibxlConfigException, CatalogException {
        LibxlDomain libxlDomain = new LibxlDomain(domid, UUID.fromString(uuid));
        // libxl's lock order: device changes, QMP socket, domain userdata (docs/xen-host.md, "Lock order"). The
        // device-changes lock is held for a mere check too: which repair is due is only known once QEMU was asked.
        try (UserdataLock deviceChanges = peers.libxl().lock(libxlDomain, LibxlLockKind.DEVICE_CHANGES);
             QmpSession session = QmpSession.open(peers, domid, uuid);
             DomainConfigStore.Session held = hold(libxlDomain);
             XenstoreClient xs = peers.xenstore().open()) {
            QmpConnection qmp = session.qmp();
            LiveDomain domain = LiveDomain.read(domid, xs, qmp, held);
            if (catalog.pending().isPresent()) {
                Outcome o = settle(catalog, domain, qmp, held, xs, headers, findings, mayStartMerges);
                if (o != Outcome.SETTLED) {
                    return o;
                }
                catalog = peers.catalogs().load(uuid);
                domain = LiveDomain.read(domid, xs, qmp, held);
            }
            if (new AlignToQemu(headers, findings).run(catalog, domain, held, xs)) {
                domain = LiveDomain.read(domid, xs, qmp, held);
            }
            new DriftCheck(headers, findings).live(catalog, domain);
            new UnknownTraces(headers, findings).live(catalog, peers.catalogs().exists(uuid),
                    peers.catalogs().file(uuid), domain);
            if (peers.catalogs().exists(uuid)) {
                scanOrphans(catalog, own(catalog, domain), headers, findings, xs);
            }
            return Outcome.SETTLED;
        }
    }

    private static void unreachable(int domid, Exception e, Findings findings) {
        if (e instanceof QmpException) {
            findings.reported(Code.PEER_UNREACHABLE, "QEMU", "domain " + domid + " runs, but its device model does"
                    + " not answer: " + e.getMessage() + "; nothing was checked or changed");
        } else if (e instanceof XenstoreException) {
            findings.reported(Code.PEER_UNREACHABLE, "xenstore", e.getMessage());
        } else if (e instanceof LibxlConfigException) {
            findings.reported(Code.PEER_UNREACHABLE, "libxl config", "domain " + domid + ": " + e.getMessage());
        } else if (e instanceof CatalogException c) {
            findings.reported(Code.CATALOG_CORRUPT, c.file().toString(), e.getMessage());
        }
    }

    /** @return the domain's libxl config under its lock, null for a domain libxl did not create (no config) */
    private DomainConfigStore.Session hold(LibxlDomain domain) throws LibxlConfigException {
        try {
            return peers.libxl().hold(domain);
        } catch (LibxlConfigException e) {
            if (e.reason() != LibxlConfigException.Reason.NOT_FOUND) {
                throw e;
            }
            // a domain libxl did not create has no stored config: there is no libxl view to compare
            return null;
        }
    }

    /** How far settling a running domain's pending operation got. */
    enum Outcome {
        /** Settled: the views are compared next. */
        SETTLED,
        /** Reported and left: nothing more is done this time. */
        LEFT,
        /** Merges were started: wait for them outside libxl's locks, then settle again. */
        AGAIN
    }

    private Outcome settle(DomainCatalog catalog, LiveDomain domain, QmpConnection qmp,
            DomainConfigStore.Session held, XenstoreClient xs, ImageHeaders headers, Findings findings,
            boolean mayStartMerges) throws QemuImgException {
        PendingOperation p = catalog.pending().get();
        return switch (p.kind()) {
            case CREATE -> of(new CreateRecovery(peers, headers, findings).live(catalog, p, domain, held, xs));
            // settled before the domain's QEMU was asked (settleSaved): only a mark written since can be here
            case CREATE_SAVED -> Outcome.LEFT;
            case DELETE -> new DeleteRecovery(peers, headers, findings, jobTimeout, mergeSpeed)
                    .live(catalog, p, domain, qmp, held, xs, mayStartMerges);
            case REVERT, REVERT_CLEANUP -> of(RevertRecovery.live(p, domain.domid(), findings));
        };
    }

    private static Outcome of(boolean settled) {
        return settled ? Outcome.SETTLED : Outcome.LEFT;
    }

    /** @return the files a running domain's catalog and its peers name: none of them is an orphan */
    private static Set<Path> own(DomainCatalog catalog, LiveDomain domain) {
        Set<Path> own = own(catalog);
        own.addAll(domain.chainFiles());
        for (LiveDomain.Disk d : domain.disks()) {
            d.top().ifPresent(own::add);
            d.libxl().flatMap(l -> l.pdevPath()).filter(s -> s.startsWith("/")).map(Path::of)
                    .ifPresent(own::add);
        }
        return own;
    }

    private void offline(DomainCatalog catalog, List<DiskImage> given, ImageHeaders headers, Findings findings)
            throws QemuImgException {
        String uuid = catalog.uuid();
        try {
            if (catalog.pending().isPresent()) {
                PendingOperation p = catalog.pending().get();
                boolean settled = switch (p.kind()) {
                    case CREATE -> new CreateRecovery(peers, headers, findings).offline(catalog, p);
                    case CREATE_SAVED -> new RestoreRecovery(peers, headers, findings).gone(catalog, p);
                    case DELETE -> new DeleteRecovery(peers, headers, findings, jobTimeout, mergeSpeed).offline(catalog, p);
                    case REVERT, REVERT_CLEANUP -> new RevertRecovery(peers, headers, findings).offline(catalog, p);
                };
                if (!settled) {
                    return;
                }
                catalog = peers.catalogs().load(uuid);
            }
        } catch (CatalogException e) {
            findings.reported(Code.CATALOG_CORRUPT, e.file().toString(), e.getMessage());
            return;
        }
        List<DiskImage> disks = catalog.disks().isEmpty() ? given : catalog.disks();
        new DriftCheck(headers, findings).offline(catalog, disks);
        new UnknownTraces(headers, findings).offline(catalog, peers.catalogs().exists(uuid),
                peers.catalogs().file(uuid), disks);
        if (peers.catalogs().exists(uuid)) {
            Set<Path> own = own(catalog);
            for (DiskImage d : disks) {
                own.add(d.image());
                if (Files.exists(d.image())) {
                    own.addAll(backingChain(d, headers));
                }
            }
            try (XenstoreClient xs = peers.xenstore().open()) {
                scanOrphans(catalog, own, headers, findings, xs);
            } catch (XenstoreException e) {
                findings.reported(Code.PEER_UNREACHABLE, "xenstore", "overlays nobody references were not looked"
                        + " for, because the running domains' disks cannot be read: " + e.getMessage());
            }
        }
    }

    /** @return the image's backing chain; empty when the header cannot be read, which the drift check reports */
    private static List<Path> backingChain(DiskImage d, ImageHeaders headers) {
        try {
            return headers.chain(d.image(), d.format().id());
        } catch (QemuImgException e) {
            return List.of();
        }
    }

    /** Every file the catalog names for this domain. */
    private static Set<Path> own(DomainCatalog catalog) {
        Set<Path> own = new LinkedHashSet<>();
        catalog.disks().forEach(d -> own.add(d.image()));
        for (SnapshotInfo s : catalog.snapshots()) {
            for (DiskSnapshot d : s.disks()) {
                own.add(d.image());
                if (d.overlay() != null) {
                    own.add(d.overlay());
                }
            }
        }
        return own;
    }

    /**
     * Looks for orphans only when every reference can be seen: an unreadable catalog of another domain, or a running
     * domain whose disks cannot be read, might name a candidate.
     */
    private void scanOrphans(DomainCatalog catalog, Set<Path> own, ImageHeaders headers, Findings findings,
                             XenstoreClient xs) throws XenstoreException {
        String uuid = catalog.uuid();
        Set<Path> referenced = new LinkedHashSet<>(own);
        try {
            for (String other : peers.catalogs().uuids()) {
                if (!other.equals(uuid)) {
                    referenced.addAll(own(peers.catalogs().load(other)));
                }
            }
        } catch (CatalogException e) {
            findings.reported(Code.PEER_UNREACHABLE, e.file().toString(), "overlays nobody references were not"
                    + " looked for, because another catalog cannot be read: " + e.getMessage());
            return;
        }
        DomainDisks dd = new DomainDisks(xs);
        for (String id : xs.directory("/local/domain")) {
            if (!id.matches("[0-9]{1,5}") || id.equals("0")) {
                continue;
            }
            for (DomainDisk d : dd.disks(Integer.parseInt(id))) {
                if (d.target().startsWith("/")) {
                    referenced.add(Path.of(d.target()));
                }
            }
        }
        if (new OrphanScan(headers, peers.overlayFiles(), findings).run(own, referenced, catalog.made())) {
            try {
                // the removed files leave the record (a save keeps only the recorded files that still exist)
                peers.catalogs().save(catalog);
            } catch (CatalogException e) {
                findings.reported(Code.REPAIR_FAILED, e.file().toString(), "the overlays removed above are still"
                        + " recorded as made by xensnap: " + e.getMessage());
            }
        }
    }

    private void removeStaleTemp(String uuid, Findings findings) {
        Path tmp = peers.catalogs().tempFile(uuid);
        try {
            if (Files.deleteIfExists(tmp)) {
                findings.repaired(Code.CATALOG_TEMP_REMOVED, tmp.toString(), "a catalog write stopped before its"
                        + " rename; the catalog itself is the last complete one. Removed");
            }
        } catch (IOException e) {
            findings.reported(Code.REPAIR_FAILED, tmp.toString(), "cannot remove a stale catalog temp file: "
                    + e.getMessage());
        }
    }
}
