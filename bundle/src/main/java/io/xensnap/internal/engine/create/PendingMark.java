package io.xensnap.internal.engine.create;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import io.xensnap.api.SnapshotException;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.UndoLog;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDomain;

/**
 * The catalog's pending mark of a create, with the plan, written before anything changes: after a crash reconcile
 * learns from it what was under way. Undone by putting the catalog back as it was (or removing it if there was none).
 * Then libxl's config as it is at this instant, kept with the snapshot (its path follows from the mark, so reconcile
 * finds it). A live create and one that restores the domain differ only in the mark's kind and what they record.
 */
final class PendingMark {

    private PendingMark() {
    }

    /**
     * @param kind  {@link PendingOperation.Kind#CREATE}, or {@link PendingOperation.Kind#CREATE_SAVED} for a create
     *              that saves the domain and restores it on the new images
     * @param agent the guest agent's socket the create freezes through, null when it does not
     * @return the catalog with the mark, as saved
     */
    static DomainCatalog write(Peers peers, CreatePlan plan, LibxlDomain libxlDomain, UndoLog undo,
                               PendingOperation.Kind kind, Path agent)
            throws CatalogException, IOException, LibxlConfigException, SnapshotException {
        DomainCatalog before = plan.catalog();
        boolean existed = peers.catalogs().exists(before.uuid());
        DomainCatalog marked = before.withName(plan.domain().name())
                .withPending(Optional.of(new PendingOperation(kind, plan.name(), peers.clock().instant(),
                        plan.description(), LiveCreate.planned(plan), plan.memory(), agent)));
        peers.catalogs().save(marked);
        undo.done("mark create of " + plan.name() + " in the catalog",
                () -> peers.catalogs().restore(before, existed));
        KeptConfig.keep(peers.libxl(), libxlDomain, peers.catalogs().domainConfig(before.uuid(), plan.name()), undo,
                plan.domain().label());
        return marked;
    }
}
