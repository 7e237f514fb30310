package io.xensnap.itests;

import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.ops4j.pax.exam.Option;

import io.xensnap.harness.Dom0Fixture;
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

    private final Dom0Fixture dom0;

    private HostPeers(Dom0Fixture dom0) {
        this.dom0 = dom0;
    }

    /** Starts the peers of {@code testClass}, after stopping those of any class before it. */
    static synchronized HostPeers start(Class<?> testClass, RealXenstored.Profile profile, TestDomain... domains) {
        closeAll();
        Dom0Fixture dom0;
        try {
            dom0 = Dom0Fixture.start(profile);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the peers of " + testClass.getSimpleName(), e);
        }
        HostPeers peers = new HostPeers(dom0);
        LIVE.put(testClass, peers);
        try {
            for (TestDomain d : domains) {
                peers.addRunning(d);
            }
        } catch (Exception e) {
            peers.close();
            throw new IllegalStateException("cannot start the peers of " + testClass.getSimpleName(), e);
        }
        return peers;
    }

    private void addRunning(TestDomain d) throws IOException {
        Path root = dom0.root();
        dom0.startQemu(d.domid(), d.imageDir(root), b -> b.formats(RealQemu.Format.QCOW2, RealQemu.Format.RAW)
                .withData(d.pattern(TestDomain.QCOW2)));
        dom0.host().addDomain(new XenHost.Domain(d.domid(), d.name(), d.uuid(),
                List.of(d.disk(root, TestDomain.QCOW2), d.disk(root, TestDomain.RAW))));
    }

    private static synchronized void closeAll() {
        LIVE.values().forEach(HostPeers::close);
        LIVE.clear();
    }

    /** @return the etc/io.xensnap.cfg that points xensnap at this dom0, and where the container finds the dom0 */
    List<Option> options() {
        Path root = dom0.root();
        String cfg = "etc/io.xensnap.cfg";
        return List.of(
                editConfigurationFilePut(cfg, "xen.run.dir", root.resolve("var/run/xen").toString()),
                editConfigurationFilePut(cfg, "xen.lib.dir", dom0.host().libxlDir().toString()),
                editConfigurationFilePut(cfg, "xenstored.socket", dom0.xenstored().socketPath().toString()),
                editConfigurationFilePut(cfg, "qemu.img", Prerequisite.QEMU_IMG.require().toString()),
                editConfigurationFilePut(cfg, "state.dir", dom0.state().toString()),
                editConfigurationFilePut(cfg, "overlay.roots", dom0.images().toString()),
                // a short wait keeps a test that hits a busy domain from hanging
                editConfigurationFilePut(cfg, "domain.busy.wait.ms", "2000"),
                systemProperty(ROOT).value(root.toString()),
                systemProperty(XENSTORED).value(dom0.xenstored().socketPath().toString()));
    }

    @Override
    public void close() {
        dom0.close();
    }
}
