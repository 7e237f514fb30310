package io.xensnap.internal.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import io.xensnap.internal.engine.SocketOwnerGuard;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;
import io.xensnap.internal.qmp.QmpTimeouts;

/**
 * The configuration {@code io.xensnap} after {@link ConfigurationValidator} accepted it. Registered as a service only
 * once a valid configuration was given, so every component that needs it is unsatisfied until then.
 *
 * @param xenRunDir        libxl's run directory; QMP sockets are {@code <dir>/qmp-libxl-<domid>}
 * @param xenLibDir        libxl's XEN_LIB_DIR (the stored domain configs)
 * @param xenstoredSocket  the xenstored socket, already looked up as libxenstore does when not configured
 * @param qemuImg          the qemu-img program, one only root can change
 * @param stateDir         where the snapshot catalog lives
 * @param overlayRoots     where overlays may be created; empty allows none
 * @param qmp              QMP timeouts; {@link QmpTimeouts#job()} also bounds merges
 * @param qemuImgTimeout   bound of one qemu-img run
 * @param xenstoreTimeout  bound of one xenstore request
 * @param libxlLockTimeout how long to wait for libxl's userdata lock
 * @param domainBusyWait   how long an operation waits for another one on the same domain
 * @param parallelism      qemu-img runs one revert may start at once
 * @param socketsAnyOwner  whether QMP and xenstored sockets of any owner are trusted, not only root's
 * @param mergeSpeed       QEMU's speed limit of a merge job, bytes a second; 0 for unlimited
 * @param limits           what create checks before it changes anything: chain length, free space, internal snapshots
 * @param xl               libxl's xl, a program only root can change; empty when not configured: no domain snapshots
 * @param xlTimeout        bound of one xl run
 * @param quiesce          the default quiesce policy and the bounds of a guest's freeze
 * @param domainView       whether running domains are kept between requests by xenstore watches
 */
public record Settings(Path xenRunDir, Path xenLibDir, Path xenstoredSocket, Path qemuImg, Path stateDir,
                       List<Path> overlayRoots, QmpTimeouts qmp, Duration qemuImgTimeout, Duration xenstoreTimeout,
                       Duration libxlLockTimeout, Duration domainBusyWait, int parallelism,
                       boolean socketsAnyOwner, long mergeSpeed, CreateLimits limits, Optional<Path> xl,
                       Duration xlTimeout, QuiesceSettings quiesce, boolean domainView) {

    public Settings {
        Objects.requireNonNull(xenRunDir, "xenRunDir");
        Objects.requireNonNull(xenLibDir, "xenLibDir");
        Objects.requireNonNull(xenstoredSocket, "xenstoredSocket");
        Objects.requireNonNull(qemuImg, "qemuImg");
        Objects.requireNonNull(stateDir, "stateDir");
        overlayRoots = List.copyOf(overlayRoots);
        Objects.requireNonNull(qmp, "qmp");
        Objects.requireNonNull(qemuImgTimeout, "qemuImgTimeout");
        Objects.requireNonNull(xenstoreTimeout, "xenstoreTimeout");
        Objects.requireNonNull(libxlLockTimeout, "libxlLockTimeout");
        Objects.requireNonNull(domainBusyWait, "domainBusyWait");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(xl, "xl");
        Objects.requireNonNull(xlTimeout, "xlTimeout");
        Objects.requireNonNull(quiesce, "quiesce");
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1: " + parallelism);
        }
        if (mergeSpeed < 0) {
            throw new IllegalArgumentException("mergeSpeed must not be negative: " + mergeSpeed);
        }
    }

    /** Settings with the domain view on, its default. */
    public Settings(Path xenRunDir, Path xenLibDir, Path xenstoredSocket, Path qemuImg, Path stateDir,
                    List<Path> overlayRoots, QmpTimeouts qmp, Duration qemuImgTimeout, Duration xenstoreTimeout,
                    Duration libxlLockTimeout, Duration domainBusyWait, int parallelism,
                    boolean socketsAnyOwner, long mergeSpeed, CreateLimits limits, Optional<Path> xl,
                    Duration xlTimeout, QuiesceSettings quiesce) {
        this(xenRunDir, xenLibDir, xenstoredSocket, qemuImg, stateDir, overlayRoots, qmp, qemuImgTimeout,
                xenstoreTimeout, libxlLockTimeout, domainBusyWait, parallelism, socketsAnyOwner, mergeSpeed, limits,
                xl, xlTimeout, quiesce, true);
    }

    /** Settings without xl (disk snapshots only), with the default quiesce policy and bounds. */
    public Settings(Path xenRunDir, Path xenLibDir, Path xenstoredSocket, Path qemuImg, Path stateDir,
                    List<Path> overlayRoots, QmpTimeouts qmp, Duration qemuImgTimeout, Duration xenstoreTimeout,
                    Duration libxlLockTimeout, Duration domainBusyWait, int parallelism,
                    boolean socketsAnyOwner, long mergeSpeed, CreateLimits limits) {
        this(xenRunDir, xenLibDir, xenstoredSocket, qemuImg, stateDir, overlayRoots, qmp, qemuImgTimeout,
                xenstoreTimeout, libxlLockTimeout, domainBusyWait, parallelism, socketsAnyOwner, mergeSpeed, limits,
                Optional.empty(), Duration.ofMinutes(10), QuiesceSettings.defaults(), true);
    }

    /** @return the check of socket owners these settings ask for */
    public SocketOwnerGuard socketOwnerGuard() {
        return new SocketOwnerGuard(socketsAnyOwner);
    }

    /** @return where QEMU's QMP socket of {@code domid} is, as libxl puts it */
    public Path qmpSocket(int domid) {
        return xenRunDir.resolve("qmp-libxl-" + domid);
    }
}
