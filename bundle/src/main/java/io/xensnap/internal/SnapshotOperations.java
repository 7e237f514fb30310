package io.xensnap.internal;

import java.util.List;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.Progress;

/**
 * What the console and the MBean need beyond the public service: progress of long operations, and which domains have
 * snapshots. The same component provides both services, so every surface goes through the same events.
 */
public interface SnapshotOperations extends DiskSnapshotProvider {

    /** As {@link #revert(DomainRef, String)}, reporting each disk as it is done. */
    RevertResult revert(DomainRef domain, String snapshot, Progress progress) throws SnapshotException;

    /** As {@link #delete(DomainRef, String)}, reporting merges and disks as they progress. */
    void delete(DomainRef domain, String snapshot, Progress progress) throws SnapshotException;

    /**
     * @return the uuids of the domains the catalog knows, running or not, sorted
     * @throws SnapshotException {@code INTERNAL} when the state directory cannot be listed
     */
    List<String> knownDomains() throws SnapshotException;
}
