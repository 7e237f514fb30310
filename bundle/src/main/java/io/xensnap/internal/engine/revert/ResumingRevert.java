package io.xensnap.internal.engine.revert;

import java.util.Optional;
import java.util.OptionalInt;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.DomainResolver;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.xenstore.XenstoreException;
import io.xensnap.internal.xl.DomainControl;
import io.xensnap.internal.xl.DomainControlException;
import io.xensnap.internal.xl.SaveImageHeader;

/**
 * Revert to a domain snapshot: the domain runs again from the snapshot's instant. A running domain is destroyed (what
 * it did since is what a revert throws away), its disks go back with the offline {@link Revert}, and {@code xl restore}
 * starts it from the save image, with the config libxl wrote into that image at the snapshot's instant.
 *
 * <p>That config names each disk's path at that instant. The snapshot's disks are internal snapshots (a create with
 * memory takes no other), which keep every path, so the restored domain runs on exactly the reverted images.
 */
public final class ResumingRevert {

    private static final Logger LOG = LoggerFactory.getLogger(ResumingRevert.class);

    private final Peers peers;
    private final DomainResolver resolver;
    private final Revert disks;

    public ResumingRevert(Peers peers, DomainResolver resolver, Revert disks) {
        this.peers = peers;
        this.resolver = resolver;
        this.disks = disks;
    }

    public RevertResult run(DomainCatalog catalog, SnapshotInfo snap, Progress progress) throws SnapshotException {
        String label = "domain " + catalog.uuid();
        DomainControl xl = validate(catalog, snap, label);
        OptionalInt domid = runningDomid(catalog.uuid());
        if (domid.isPresent()) {
            // the first change, and one without an undo: the domain's state since the snapshot is what a revert
            // discards; everything that could refuse was checked above
            try {
                xl.destroy(domid.getAsInt());
            } catch (DomainControlException e) {
                throw Errors.xl(label + ": revert to " + snap.name() + ": the running domain " + domid.getAsInt()
                        + " could not be destroyed; nothing changed", e);
            }
            LOG.info("{}: domain {} destroyed to revert to {}", label, domid.getAsInt(), snap.name());
        }
        DomainCatalog now = load(catalog.uuid());
        RevertResult result = disks.run(DomainRef.shutOff(catalog.uuid(), java.util.List.of()), now, snap.name(),
                progress);
        try {
            xl.restore(snap.memory().image(), Optional.empty());
        } catch (DomainControlException e) {
            throw Errors.xl(label + ": the disks are back at snapshot " + snap.name() + " but the domain is shut"
                    + " off: restoring it from " + snap.memory().image() + " failed", e);
        }
        LOG.info("{}: restored from {}, running at snapshot {}", label, snap.memory().image(), snap.name());
        return result;
    }

    /** Everything that can refuse, before the running domain is destroyed. */
    private DomainControl validate(DomainCatalog catalog, SnapshotInfo snap, String label) throws SnapshotException {
        if (catalog.pending().isPresent()) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, label + ": an earlier "
                    + catalog.pending().get().kind() + " did not finish; reconcile the domain first");
        }
        DomainControl xl = peers.domains().orElseThrow(() -> new SnapshotException(SnapshotError.UNSUPPORTED,
                label + ": snapshot " + snap.name() + " holds the domain's memory, and a revert to it restores the"
                        + " domain with xl, which the configuration does not name (xl.path)"));
        for (DiskSnapshot d : snap.disks()) {
            if (d.kind() != SnapshotKind.INTERNAL) {
                throw new SnapshotException(SnapshotError.UNSUPPORTED, label + ": snapshot " + snap.name()
                        + " disk " + d.vdev() + " is external; its save image's config would name the frozen image");
            }
        }
        String refusal = SaveImageHeader.refusal(snap.memory().image());
        if (refusal != null) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, label + ": snapshot " + snap.name()
                    + ": its save image cannot be restored: " + refusal + "; nothing changed");
        }
        return xl;
    }

    private OptionalInt runningDomid(String uuid) throws SnapshotException {
        try {
            return resolver.runningDomid(uuid);
        } catch (XenstoreException e) {
            throw Errors.xenstore("cannot tell whether domain " + uuid + " runs", e);
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
