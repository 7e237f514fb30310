package io.xensnap.internal.engine;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.engine.create.OverlayPolicy;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;
import io.xensnap.internal.engine.quiesce.Watchdog;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.xl.DomainControl;

/**
 * The one way a {@link SnapshotEngine} is put together: by the service from the settings, by the tests' dom0 and by the
 * bench. Named parts instead of eleven positional arguments, so that a caller cannot swap two durations unnoticed;
 * every part without a default must be given before {@link #build()}.
 */
public final class EngineBuilder {

    private final Connectors.Xenstore xenstore;
    private final Connectors.Qmp qmp;
    private QemuImg qemuImg;
    private DomainConfigStore libxl;
    private CatalogStore catalogs;
    private OverlayPolicy overlays;
    private CreateLimits limits = CreateLimits.defaults();
    private DomainLocks locks;
    private Clock clock = Clock.systemUTC();
    private int parallelism;
    private Duration jobTimeout;
    private long mergeSpeed;
    private EngineHooks hooks = EngineHooks.NONE;
    private Optional<DomainControl> domains = Optional.empty();
    private QuiesceSettings quiesce = QuiesceSettings.defaults();
    private Watchdog watchdog = Watchdog.threads();
    private Optional<DomainWatchView> domainView = Optional.empty();

    /**
     * @param xenstore opens a xenstore connection per operation
     * @param qmp      opens a QMP connection to a domain's device model per operation
     */
    public EngineBuilder(Connectors.Xenstore xenstore, Connectors.Qmp qmp) {
        this.xenstore = Objects.requireNonNull(xenstore, "xenstore");
        this.qmp = Objects.requireNonNull(qmp, "qmp");
    }

    /** @param qemuImg runs qemu-img on images no QEMU holds */
    public EngineBuilder qemuImg(QemuImg qemuImg) {
        this.qemuImg = qemuImg;
        return this;
    }

    /** @param libxl libxl's stored domain configs */
    public EngineBuilder libxl(DomainConfigStore libxl) {
        this.libxl = libxl;
        return this;
    }

    /** @param stateDir where the snapshot catalog lives */
    public EngineBuilder catalogs(Path stateDir) {
        return catalogs(new CatalogStore(stateDir));
    }

    /** @param catalogs the snapshot catalog, for a caller that reads it too */
    public EngineBuilder catalogs(CatalogStore catalogs) {
        this.catalogs = catalogs;
        return this;
    }

    /** @param overlayRoots the directories overlays may be created in; empty allows internal snapshots only */
    public EngineBuilder overlayRoots(List<Path> overlayRoots) {
        this.overlays = new OverlayPolicy(overlayRoots);
        return this;
    }

    /** @param limits the guards of create (chain length, free space, internal snapshots); the defaults unless given */
    public EngineBuilder limits(CreateLimits limits) {
        this.limits = limits;
        return this;
    }

    /** @param locks one operation per domain; shared by every engine of one dom0 */
    public EngineBuilder locks(DomainLocks locks) {
        this.locks = locks;
        return this;
    }

    /** @param clock creation times and lock deadlines; the system's UTC clock unless given */
    public EngineBuilder clock(Clock clock) {
        this.clock = clock;
        return this;
    }

    /** @param parallelism how many qemu-img runs one revert may start at once (at least 1) */
    public EngineBuilder parallelism(int parallelism) {
        this.parallelism = parallelism;
        return this;
    }

    /** @param jobTimeout how long a merge (block-commit) may take */
    public EngineBuilder jobTimeout(Duration jobTimeout) {
        this.jobTimeout = jobTimeout;
        return this;
    }

    /**
     * @param bytesPerSecond QEMU's {@code speed} for the merge jobs of a running domain's delete, so that a merge does
     *                       not starve the guests' own I/O; 0 (the default) for unlimited
     */
    public EngineBuilder mergeSpeed(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("merge speed must not be negative: " + bytesPerSecond);
        }
        this.mergeSpeed = bytesPerSecond;
        return this;
    }

    /** @param hooks the fault tests' and the bench's hook points; none unless given */
    public EngineBuilder hooks(EngineHooks hooks) {
        this.hooks = hooks;
        return this;
    }

    /**
     * @param domains the toolstack's control of whole domains (xl), for snapshots with memory; none unless given,
     *                and then those are refused
     */
    public EngineBuilder domains(Optional<DomainControl> domains) {
        this.domains = Objects.requireNonNull(domains, "domains");
        return this;
    }

    /** @param quiesce the default policy and the bounds of freezing a guest; the defaults unless given */
    public EngineBuilder quiesce(QuiesceSettings quiesce) {
        this.quiesce = quiesce;
        return this;
    }

    /** @param watchdog what thaws a guest after the longest freeze; a daemon thread per freeze unless given */
    public EngineBuilder watchdog(Watchdog watchdog) {
        this.watchdog = watchdog;
        return this;
    }

    /**
     * @param domainView the host's running domains kept by xenstore watches, asked before reading xenstore; the
     *                   caller owns it and closes it after the engine's last operation. None unless given: then every
     *                   operation reads its domain from xenstore
     */
    public EngineBuilder domainView(DomainWatchView domainView) {
        this.domainView = Optional.of(domainView);
        return this;
    }

    /** @return the engine; a part left out is a programming error, said by name */
    public SnapshotEngine build() {
        if (parallelism < 1) {
            throw new IllegalStateException("parallelism must be at least 1: " + parallelism);
        }
        return new SnapshotEngine(xenstore, qmp, Objects.requireNonNull(qemuImg, "qemuImg"),
                Objects.requireNonNull(libxl, "libxl"), Objects.requireNonNull(catalogs, "catalogs"),
                Objects.requireNonNull(overlays, "overlayRoots"), Objects.requireNonNull(limits, "limits"),
                Objects.requireNonNull(locks, "locks"),
                Objects.requireNonNull(clock, "clock"), parallelism, Objects.requireNonNull(jobTimeout, "jobTimeout"),
                mergeSpeed, Objects.requireNonNull(hooks, "hooks"), domains, Objects.requireNonNull(quiesce, "quiesce"),
                Objects.requireNonNull(watchdog, "watchdog"), domainView);
    }
}
