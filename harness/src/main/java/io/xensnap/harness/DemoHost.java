package io.xensnap.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The demo's dom0, all real parts: Debian's oxenstored (what Debian dom0s run), a domain "demo" (domid 1) laid out as
 * libxl 4.17 lays it out, and its Xen-like QEMU serving three qdisks — xvda and xvdb qcow2, xvdc raw — whose first MiB
 * holds 0x41, 0x42 and 0x43.
 *
 * <p>Usage: {@code DemoHost <env-file>}. Writes the paths xensnap must be configured with to {@code env-file} as
 * {@code KEY=value} lines, prints {@code READY}, then reads commands from standard input, one per line:
 * {@code shutdown} (the domain stops: QEMU exits and its xenstore nodes go, as {@code xl shutdown} does),
 * {@code quit}. End of input quits too. Everything it started stops with it, also when it is killed.
 */
public final class DemoHost implements AutoCloseable {

    public static final int DOMID = 1;
    public static final String NAME = "demo";
    public static final String UUID = "5a6e0c1d-2f3b-4a5c-8d7e-9f0a1b2c3d4e";

    private final Dom0Fixture dom0;
    private final XenHost host;
    private final List<XenHost.Disk> disks;
    private RealQemu qemu;

    private DemoHost(Dom0Fixture dom0, RealQemu qemu) {
        this.dom0 = dom0;
        this.host = dom0.host();
        this.qemu = qemu;
        this.disks = Dom0Fixture.disksOf(qemu);
    }

    public static DemoHost start() throws IOException {
        Dom0Fixture dom0 = Dom0Fixture.start(RealXenstored.Profile.OXENSTORED);
        try {
            RealQemu qemu = dom0.startQemu(DOMID, dom0.images(), b -> b.formats(RealQemu.Format.QCOW2,
                    RealQemu.Format.QCOW2, RealQemu.Format.RAW).withData(0x41));
            dom0.addDomain(DOMID, NAME, UUID, qemu, List.of());
            return new DemoHost(dom0, qemu);
        } catch (IOException | RuntimeException e) {
            dom0.close();
            throw e;
        }
    }

    /** @return what xensnap needs to know to work on this dom0, and what the demo script prints */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DEMO_ROOT", host.root().toString());
        env.put("XEN_RUN_DIR", host.root().resolve("var/run/xen").toString());
        env.put("XEN_LIB_DIR", host.libxlDir().toString());
        env.put("XENSTORED_SOCKET", dom0.xenstored().socketPath().toString());
        env.put("IMAGES_DIR", dom0.images().toString());
        env.put("STATE_DIR", dom0.state().toString());
        env.put("QMP_SOCKET", host.qmpSocketPath(DOMID).toString());
        env.put("USERDATA", host.userdataPath(DOMID).toString());
        for (XenHost.Disk d : disks) {
            String id = d.vdev().toUpperCase(java.util.Locale.ROOT);
            env.put("DISK_" + id, d.image().toString());
            // the script checks xenstore by disk name, without knowing libxl's device numbers
            env.put("BACKEND_" + id, XenHost.backendPath(DOMID, d));
        }
        env.put("DOMID", Integer.toString(DOMID));
        env.put("DOMAIN_UUID", UUID);
        return env;
    }

    /** The domain shuts down: its QEMU exits and libxl removes its xenstore nodes; images and userdata stay. */
    public void shutdownDomain() {
        if (qemu == null) {
            return;
        }
        dom0.shutDown(DOMID, UUID, qemu);
        qemu = null;
    }

    @Override
    public void close() {
        dom0.close();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: DemoHost <env-file>");
            System.exit(2);
        }
        DemoHost demo = start();
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            demo.close();
            closed.countDown();
        }, "demo-host-stop"));
        StringBuilder out = new StringBuilder();
        demo.environment().forEach((k, v) -> out.append(k).append('=').append(v).append('\n'));
        Files.writeString(Path.of(args[0]), out, StandardCharsets.UTF_8);
        System.out.println("READY");
        System.out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                switch (line.trim()) {
                    case "shutdown" -> {
                        demo.shutdownDomain();
                        System.out.println("DOMAIN-SHUT-DOWN");
                    }
                    case "quit" -> {
                        System.exit(0);
                        return;
                    }
                    case "" -> { }
                    default -> System.out.println("unknown command: " + line);
                }
                System.out.flush();
            }
        }
        System.exit(0);
    }
}
