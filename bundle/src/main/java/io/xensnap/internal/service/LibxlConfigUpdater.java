package io.xensnap.internal.service;

import java.time.Clock;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.xensnap.internal.config.Settings;
import io.xensnap.internal.libxl.DomainConfigStore;

/**
 * libxl's stored domain configs under {@code xen.lib.dir}, changed under libxl's own userdata lock so that libxl sees
 * the overlay a snapshot put under a running domain.
 */
@Component(service = LibxlConfigUpdater.class)
public final class LibxlConfigUpdater {

    private final DomainConfigStore store;

    @Activate
    public LibxlConfigUpdater(@Reference(name = "settings") Settings settings) {
        this.store = new DomainConfigStore(settings.xenLibDir(), Clock.systemUTC(), settings.libxlLockTimeout());
    }

    public DomainConfigStore store() {
        return store;
    }
}
