package io.xensnap.internal.service;

import java.time.Duration;

import org.osgi.service.component.annotations.Component;

import io.xensnap.internal.engine.DomainLocks;

/**
 * The one set of per-domain locks of this bundle. A configuration change re-creates the snapshot service while an
 * operation of the old one may still run (a merge can take minutes); both must share the locks, so they live here, in
 * a component that depends on nothing and is never re-created. Immediate, so SCR does not dispose of it (and of the
 * locks) in the moment between the old service going and the new one coming.
 */
@Component(service = DomainLockRegistry.class, immediate = true)
public final class DomainLockRegistry {

    private final DomainLocks locks = new DomainLocks(Duration.ZERO);

    /** @return the shared locks, waiting {@code wait} for a busy domain */
    public DomainLocks waiting(Duration wait) {
        return locks.withWait(wait);
    }
}
