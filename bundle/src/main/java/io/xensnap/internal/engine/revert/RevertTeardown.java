package io.xensnap.internal.engine.revert;

import java.util.OptionalInt;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.SnapshotException;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.DomainResolver;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.xenstore.XenstoreException;
import io.xensnap.internal.xl.DomainControl;
import io.xensnap.internal.xl.DomainControlException;

/**
 * The first change of a revert that brings the domain back ({@link ResumingRevert}, {@link RestartingRevert}): the
 * running domain destroyed, and one without an undo — what the domain did since the snapshot is what the revert
 * discards. Everything that could refuse must have been checked before.
 */
final class RevertTeardown {

    private static final Logger LOG = LoggerFactory.getLogger(RevertTeardown.class);

    private final Peers peers;
    private final DomainResolver resolver;

    RevertTeardown(Peers peers, DomainResolver resolver) {
        this.peers = peers;
        this.resolver = resolver;
    }

    /** @return whether the domain ran, and so was destroyed */
    boolean destroyIfRunning(DomainControl xl, String uuid, String snapshot) throws SnapshotException {
        String label = "domain " + uuid;
        OptionalInt domid;
        try {
            domid = resolver.runningDomid(uuid);
        } catch (XenstoreException e) {
            throw Errors.xenstore("cannot tell whether domain " + uuid + " runs", e);
        }
        if (domid.isEmpty()) {
            return false;
        }
        try {
            xl.destroy(domid.getAsInt());
        } catch (DomainControlException e) {
            throw Errors.xl(label + ": revert to " + snapshot + ": the running domain " + domid.getAsInt()
                    + " could not be destroyed; nothing changed", e);
        }
        LOG.info("{}: domain {} destroyed to revert to {}", label, domid.getAsInt(), snapshot);
        return true;
    }

    /** @return the domain's catalog as it is now, read again after the checks */
    DomainCatalog load(String uuid) throws SnapshotException {
        try {
            return peers.catalogs().load(uuid);
        } catch (CatalogException e) {
            throw Errors.catalog(e);
        }
    }
}
