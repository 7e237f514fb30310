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
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.XenHost;
import io.xensnap.internal.engine.DomainLocks;
import io.xensnap.internal.engine.EngineBuilder;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.qmp.QmpClient;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.xenstore.XenstoreClient;

/**
 * A dom0 as the engine tests build it (bundle's test Dom0), all real: cxenstored, a libxl layout with userdata JSON,
 * and per running domain a Xen-like QEMU (paused {@code pc}, qdisk-style {@code -blockdev} node names, libxl's QMP
 * socket path). Images are 64 MiB qcow2 with 1 MiB of data each. Everything lives in temp dirs and stops in
 * {@link #close()}.
 */
final class BenchHost implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    private final RealXenstored xenstored;
    private final XenHost host;
    private final Path images;
    private final Path state;
    private final List<RealQemu> qemus = new ArrayList<>();

    BenchHost() throws IOException {
        xenstored = RealXenstored.start(RealXenstored.Profile.CXENSTORED);
        try {
            host = XenHost.create(xenstored.socketPath());
            images = Files.createDirectories(host.root().resolve("var/lib/xen/images"));
            state = Files.createDirectories(host.root().resolve("var/lib/xensnap"));
        } catch (IOException | RuntimeException e) {
            xenstored.close();
            throw e;
        }
    }

    static String uuid(int domid) {
        return String.format("6f1e4a52-0d3b-4c8e-9a1f-%012d", domid);
    }

    Path images() {
        return images;
    }

    Path state() {
        return state;
    }

    Path xenstoredSocket() {
        return xenstored.socketPath();
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
        RealQemu qemu = RealQemu.builder(RealQemu.Profile.XEN_QDISK)
                .disks(disks)
                .directory(Files.createDirectories(images.resolve("vm" + domid)))
                .libxlQmpSocket(host.root(), domid)
                .withData(0x41)
                .start();
        qemus.add(qemu);
        List<XenHost.Disk> xd = new ArrayList<>();
        for (RealQemu.Disk d : qemu.disks()) {
            xd.add(XenHost.Disk.of(d.id(), XenHost.Backend.QDISK, XenHost.Format.QCOW2, d.image()));
        }
        host.addDomain(new XenHost.Domain(domid, "vm" + domid, uuid(domid), xd));
        return qemu;
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
        return new EngineBuilder(
                () -> XenstoreClient.connect(xenstored.socketPath(), "xensnap-bench", Duration.ofSeconds(5)),
                domid -> new QmpClient(host.qmpSocketPath(domid), "dom" + domid, QmpTimeouts.defaults(), JSON).connect())
                .qemuImg(qemuImg())
                .libxl(new DomainConfigStore(host.libxlDir(), Clock.systemUTC(), Duration.ofSeconds(5)))
                .catalogs(stateDir)
                .overlayRoots(List.of(images))
                .locks(new DomainLocks(Duration.ofSeconds(30)))
                .parallelism(parallelism)
                .jobTimeout(Duration.ofMinutes(2))
                .hooks(p.hooks())
                .build();
    }

    /** Stops one domain's QEMU early, to free memory between sections. */
    void stop(RealQemu qemu) {
        qemu.close();
        qemus.remove(qemu);
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (RealQemu q : qemus) {
            try {
                q.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        qemus.clear();
        try {
            host.close();
        } finally {
            xenstored.close();
        }
        if (first != null) {
            throw first;
        }
    }
}
