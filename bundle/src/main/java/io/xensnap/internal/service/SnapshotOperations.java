package io.xensnap.internal.service;

import java.util.List;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.engine.reconcile.ReconcileReport;

/**
 * What the console and the MBean need beyond the public service: progress of long operations, and which domains have
 * snapshots. The same component provides both services, so every surface goes through the same events.
 */
public interface SnapshotOperations extends DiskSnapshotProvider {

    /** As {@link #revert(DomainRef, String)}, reporting each disk as it is done. */
    RevertResult revert(DomainRef domain, String snapshot, Progress progress) throws SnapshotException;

    /** As {@link #revertAndRestart(DomainRef, String)}, reporting each disk as it is done. */
    RevertResult revertAndRestart(DomainRef domain, String snapshot, Progress progress) throws SnapshotException;

    /** As {@link #delete(DomainRef, String)}, reporting merges and disks as they progress. */
    void delete(DomainRef domain, String snapshot, Progress progress) throws SnapshotException;

    /**
     * @return the uuids of the domains the catalog knows, running or not, sorted
     * @throws SnapshotException {@code INTERNAL} when the state directory cannot be listed
     */
    List<String> knownDomains() throws SnapshotException;

    /**
     * Compares what the catalog, QEMU, the image headers, libxl's config and xenstore say about one domain, settles an
     * interrupted create or delete where the disks prove the outcome, and reports the rest.
     *
     * @throws SnapshotException {@code NO_SUCH_DOMAIN}, {@code BUSY}; a peer that does not answer is a finding
     */
    ReconcileReport reconcile(DomainRef domain) throws SnapshotException;

    /**
     * As {@link #reconcile(DomainRef)} for every domain with a catalog; a busy domain is a finding.
     *
     * @return one report per domain, in uuid order
     * @throws SnapshotException {@code INTERNAL} when the state directory cannot be listed
     */
    List<ReconcileReport> reconcileAll() throws SnapshotException;
}
