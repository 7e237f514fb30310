package io.xensnap.internal.engine;

import java.util.Optional;

import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;

/**
 * The one place that tells the operator to reconcile: an operation that fails and leaves its pending mark in the
 * catalog (a create whose outcome QEMU did not tell, a delete that began merging, a revert whose rollback stopped)
 * blocks every later operation on the domain until reconcile settles it. Whichever path the failure took, its message
 * ends with what to run.
 */
final class PendingAdvice {

    private PendingAdvice() {
    }

    /**
     * @param failure what the operation failed with
     * @param ref     the domain as the caller named it, so the advice names it the same way
     * @param before  the catalog as the operation found it
     * @return {@code failure}, or the same failure with the advice appended when the catalog now holds a mark that
     *         was not there before
     */
    static SnapshotException added(SnapshotException failure, DomainRef ref, DomainCatalog before,
                                   CatalogStore catalogs) {
        if (before.pending().isPresent()) {
            // refused because of an earlier mark: that message already says to reconcile first
            return failure;
        }
        Optional<PendingOperation> left;
        try {
            left = catalogs.load(before.uuid()).pending();
        } catch (CatalogException unreadable) {
            failure.addSuppressed(unreadable);
            return failure;
        }
        if (left.isEmpty()) {
            return failure;
        }
        // a create with memory may have destroyed the domain to restore it (a blkback disk): gone, or back under a
        // new domid; its uuid names it either way, and reconcile takes a uuid of a running domain too
        String domain = ref instanceof DomainRef.Running r && left.get().memory() == null
                ? Integer.toString(r.domid()) : before.uuid();
        SnapshotException told = new SnapshotException(failure.code(), failure.getMessage() + ". The catalog keeps"
                + " a pending " + left.get().kind().name().toLowerCase(java.util.Locale.ROOT) + " mark: run"
                + " 'snapshot:reconcile " + domain + "' (over JMX: reconcile(\"" + domain + "\")) before anything"
                + " else on this domain", failure.getCause());
        for (Throwable s : failure.getSuppressed()) {
            told.addSuppressed(s);
        }
        return told;
    }
}
