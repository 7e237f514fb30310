package io.xensnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.harness.AgentGuest;
import io.xensnap.harness.Dom0Fixture;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.XenHost;
import io.xensnap.internal.engine.Connectors;
import io.xensnap.internal.engine.DomainLocks;
import io.xensnap.internal.engine.DomainWatchView;
import io.xensnap.internal.engine.EngineBuilder;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.qmp.QmpClient;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.xenstore.XenstoreClient;

/**
 * The engine tests' dom0 ({@link Dom0Fixture}, with cxenstored), all real: a libxl layout with userdata JSON, and per
 * running domain a Xen-like QEMU (paused {@code pc}, qdisk-style {@code -blockdev} node names, libxl's QMP socket
 * path). Images are 64 MiB qcow2 with 1 MiB of data each. Added here: offline disks and the engine wired to this dom0.
 * Everything lives in temp dirs and stops in {@link #close()}.
 */
final class BenchHost implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    private final Dom0Fixture fixture;
    private final XenHost host;
    private final Path images;
    private final Path state;
    private final List<DomainWatchView> views = new ArrayList<>();

    BenchHost() throws IOException {
        fixture = Dom0Fixture.start(RealXenstored.Profile.CXENSTORED);
        host = fixture.host();
        images = fixture.images();
        state = fixture.state();
    }

    static String uuid(int domid) {
        return Dom0Fixture.uuid(domid);
    }

    Path images() {
        return images;
    }

    Path state() {
        return state;
    }

    Path xenstoredSocket() {
        return fixture.xenstored().socketPath();
    }

    /** libxl's XEN_LIB_DIR of this dom0 (the userdata JSON). */
    Path libxlDir() {
        return host.libxlDir();
    }

    Path qmpSocket(int domid) {
        return host.qmpSocketPath(domid);
    }

    /** A running domain with {@code disks} qcow2 disks xvda, xvdb, … served by its own QEMU. */
    RealQemu domain(int domid, int disks) throws IOException {
        RealQemu qemu = fixture.startQemu(domid, images.resolve("vm" + domid), b -> b.disks(disks).withData(0x41));
        fixture.addDomain(domid, "vm" + domid, uuid(domid), qemu, List.of());
        return qemu;
    }

    /** A running domain whose QEMU disks {@code disks} lays out (formats, sizes, data). */
    RealQemu domain(int domid, java.util.function.Consumer<RealQemu.Builder> disks) throws IOException {
        RealQemu qemu = fixture.startQemu(domid, images.resolve("vm" + domid), disks);
        fixture.addDomain(domid, "vm" + domid, uuid(domid), qemu, List.of());
        return qemu;
    }

    /** The libxl layout and QMP socket paths of this dom0. */
    XenHost xenHost() {
        return host;
    }

    /** {@code count} qcow2 images with data in a new directory, no QEMU: the disks of a shut-off domain. */
    List<DiskImage> offlineDisks(String name, int count) throws IOException {
        Path dir = Files.createDirectories(images.resolve(name));
        String qemuImg = Prerequisite.QEMU_IMG.require().toString();
        String qemuIo = Prerequisite.QEMU_IO.require().toString();
        Path template = dir.resolve("template.qcow2");
        ShortCommand.ok(qemuImg, "create", "-q", "-f", "qcow2", template.toString(), "64M");
        ShortCommand.ok(qemuIo, "-f", "qcow2", "-c", "write -P 0x41 0 1M", template.toString());
        List<DiskImage> disks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Path p = dir.resolve("disk" + i + ".qcow2");
            Files.copy(template, p);
            disks.add(new DiskImage(RealQemu.vdev(i), p, DiskFormat.QCOW2));
        }
        Files.delete(template);
        return disks;
    }

    QemuImg qemuImg() {
        return new QemuImg(new JdkProcessRunner(), Prerequisite.QEMU_IMG.require().toString(), Duration.ofSeconds(60),
                JSON);
    }

    /** The engine as the bundle wires it; {@code probe} may be null. */
    SnapshotEngine engine(PhaseProbe probe, int parallelism) {
        return engine(probe, parallelism, state);
    }

    /** The same with its catalog in {@code stateDir}. */
    SnapshotEngine engine(PhaseProbe probe, int parallelism, Path stateDir) {
        PhaseProbe p = probe != null ? probe : new PhaseProbe();
        return engineWith(p.hooks(), parallelism, stateDir);
    }

    /** The engine as the bundle wires it, with {@code hooks} at its hook points. */
    SnapshotEngine engineWith(EngineHooks hooks, int parallelism, Path stateDir) {
        return engineWith(hooks, parallelism, stateDir, QuiesceSettings.defaults());
    }

    SnapshotEngine engineWith(EngineHooks hooks, int parallelism, Path stateDir, QuiesceSettings quiesce) {
        Connectors.Xenstore xenstore =
                () -> XenstoreClient.connect(xenstoredSocket(), "xensnap-bench", Duration.ofSeconds(5));
        return new EngineBuilder(xenstore,
                domid -> new QmpClient(host.qmpSocketPath(domid), "dom" + domid, QmpTimeouts.defaults(), JSON).connect())
                .domainView(domainView(xenstore))
                .qemuImg(qemuImg())
                .libxl(new DomainConfigStore(host.libxlDir(), Clock.systemUTC(), Duration.ofSeconds(5)))
                .catalogs(stateDir)
                .overlayRoots(List.of(images))
                .locks(new DomainLocks(Duration.ofSeconds(30)))
                .parallelism(parallelism)
                .jobTimeout(Duration.ofMinutes(2))
                .hooks(hooks)
                .quiesce(quiesce)
                .build();
    }

    /**
     * A running domain whose device model boots the agent guest (Debian's qemu-ga in a TCG guest that appends to its
     * one qcow2 disk), with the agent on the libxl channel {@code org.qemu.guest_agent.0}.
     */
    AgentGuest agentDomain(int domid) throws IOException {
        AgentGuest guest = fixture.startAgentGuest(domid, images.resolve("vm" + domid),
                b -> b.formats(RealQemu.Format.QCOW2));
        fixture.addDomain(domid, "vm" + domid, uuid(domid), guest.qemu(), List.of(),
                List.of(new XenHost.Channel("org.qemu.guest_agent.0", fixture.agentSocket(domid))));
        return guest;
    }

    /** Stops one domain's QEMU early, to free memory between sections. */
    void stop(RealQemu qemu) {
        fixture.stop(qemu);
    }

    /** A domain view as the service keeps one, closed with this host. */
    private DomainWatchView domainView(Connectors.Xenstore xenstore) {
        DomainWatchView view = new DomainWatchView(xenstore);
        synchronized (views) {
            views.add(view);
        }
        return view;
    }

    @Override
    public void close() {
        synchronized (views) {
            views.forEach(DomainWatchView::close);
        }
        fixture.close();
    }
}
