package io.xensnap.internal.engine;

import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.xl.DomainControl;

/**
 * Everything outside the process that the engine's operations work on, in one value so that each operation class
 * takes one argument instead of eight. {@code domains} (xl) is empty when it is not configured: domain snapshots are
 * then refused.
 */
public record Peers(Connectors.Xenstore xenstore, Connectors.Qmp qmp, QemuImg qemuImg, DomainConfigStore libxl,
             CatalogStore catalogs, Clock clock, OverlayFiles overlayFiles, Optional<DomainControl> domains) {

    public Peers {
        Objects.requireNonNull(xenstore, "xenstore");
        Objects.requireNonNull(qmp, "qmp");
        Objects.requireNonNull(qemuImg, "qemuImg");
        Objects.requireNonNull(libxl, "libxl");
        Objects.requireNonNull(catalogs, "catalogs");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(overlayFiles, "overlayFiles");
        Objects.requireNonNull(domains, "domains");
    }
}
