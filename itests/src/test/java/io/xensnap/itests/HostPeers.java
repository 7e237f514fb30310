package io.xensnap.itests;

import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.ops4j.pax.exam.Option;

import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.XenHost;

/**
 * The peers of one test class, started on the host in {@code @Configuration} (docs/karaf-build.md#peer-processes): a
 * real xenstored, a dom0 laid out as libxl does, and one Xen-like QEMU per guest. Pax Exam runs no hook on the host
 * after a class, so the peers of a class are stopped when the next class configures its own, and the last ones by the
 * harness's shutdown hook (every peer also dies with this JVM through pdeathsig).
 */
final class HostPeers implements AutoCloseable {

    /** System properties that tell the container where the dom0 is. */
    static final String ROOT = "xensnap.it.root";
    static final String XENSTORED = "xensnap.it.xenstored";

    private static final Map<Class<?>, HostPeers> LIVE = new HashMap<>();

    static {
        // the harness's own hook kills the processes; this one also removes the last class's directories
        Runtime.getRuntime().addShutdownHook(new Thread(HostPeers::closeAll, "xensnap-itest-peers"));
    }

    private final RealXenstored xenstored;
    private final XenHost host;
    private final List<RealQemu> qemus = new ArrayList<>();

    private HostPeers(RealXenstored xenstored, XenHost host) {
        this.xenstored = xenstored;
        this.host = host;
    }

    /** Starts the peers of {@code testClass}, after stopping those of any class before it. */
    static synchronized HostPeers start(Class<?> testClass, RealXenstored.Profile profile, TestDomain... domains) {
        closeAll();
        RealXenstored xs = RealXenstored.start(profile);
        HostPeers peers = new HostPeers(xs, XenHost.create(xs.socketPath()));
        LIVE.put(testClass, peers);
        try {
            for (TestDomain d : domains) {
                peers.addRunning(d);
            }
            Files.createDirectories(peers.host.root().resolve("var/lib/xensnap"));
        } catch (Exception e) {
            peers.close();
            throw new IllegalStateException("cannot start the peers of " + testClass.getSimpleName(), e);
        }
        return peers;
    }

    private void addRunning(TestDomain d) {
        Path root = host.root();
        RealQemu qemu = RealQemu.builder(RealQemu.Profile.XEN_QDISK)
                .formats(RealQemu.Format.QCOW2, RealQemu.Format.RAW)
                .directory(d.imageDir(root))
                .libxlQmpSocket(root, d.domid())
                .withData(d.pattern(TestDomain.QCOW2))
                .start();
        qemus.add(qemu);
        host.addDomain(new XenHost.Domain(d.domid(), d.name(), d.uuid(),
                List.of(d.disk(root, TestDomain.QCOW2), d.disk(root, TestDomain.RAW))));
    }

    private static synchronized void closeAll() {
        LIVE.values().forEach(HostPeers::close);
        LIVE.clear();
    }

    /** @return the etc/io.xensnap.cfg that points xensnap at this dom0, and where the container finds the dom0 */
    List<Option> options() {
        Path root = host.root();
        String cfg = "etc/io.xensnap.cfg";
        return List.of(
                editConfigurationFilePut(cfg, "xen.run.dir", root.resolve("var/run/xen").toString()),
                editConfigurationFilePut(cfg, "xen.lib.dir", host.libxlDir().toString()),
                editConfigurationFilePut(cfg, "xenstored.socket", xenstored.socketPath().toString()),
                editConfigurationFilePut(cfg, "qemu.img", Prerequisite.QEMU_IMG.require().toString()),
                editConfigurationFilePut(cfg, "state.dir", root.resolve("var/lib/xensnap").toString()),
                editConfigurationFilePut(cfg, "overlay.roots", root.resolve("var/lib/xen/images").toString()),
                // a short wait keeps a test that hits a busy domain from hanging
                editConfigurationFilePut(cfg, "domain.busy.wait.ms", "2000"),
                systemProperty(ROOT).value(root.toString()),
                systemProperty(XENSTORED).value(xenstored.socketPath().toString()));
    }

    @Override
    public void close() {
        try {
            for (RealQemu q : qemus) {
                q.close();
            }
        } finally {
            try {
                host.close();
            } finally {
                xenstored.close();
            }
        }
    }
}
