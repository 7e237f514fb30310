package io.xensnap.itests;

import static io.xensnap.itests.TestDomain.QCOW2;
import static io.xensnap.itests.TestDomain.RAW;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Dictionary;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;
import javax.management.MBeanException;
import javax.management.MBeanServerConnection;
import javax.management.Notification;
import javax.management.NotificationListener;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.api.SnapshotTree;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;

/**
 * Every way in — the OSGi service, the MBean through the platform MBeanServer and through Karaf's RMI connector with
 * credentials, and the console — runs the same life of a snapshot against a real Xen-like QEMU, a real oxenstored and
 * libxl's files, each on its own guest: create on the running domain (live), merge a newer external snapshot back
 * while it runs, shut it down, revert, delete offline. After every step the test looks at QEMU's chains, the xenstore
 * backend, libxl's JSON and the images with tools of its own.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SurfacesIT {

    private static final TestDomain BY_SERVICE = new TestDomain(11, "by-service");
    private static final TestDomain BY_LOCAL_JMX = new TestDomain(12, "by-local-jmx");
    private static final TestDomain BY_REMOTE_JMX = new TestDomain(13, "by-remote-jmx");
    private static final TestDomain BY_CONSOLE = new TestDomain(14, "by-console");
    /** Refusals only: nothing may change on it. */
    private static final TestDomain UNTOUCHED = new TestDomain(15, "untouched");
    private static final TestDomain COMPLETED = new TestDomain(16, "completed");

    private static final String MBEAN = "io.xensnap:type=snapshots";

    /**
     * The event collector lives as long as the container: @BeforeClass would run once per method
     * (docs/karaf-build.md#pax-exam-hooks).
     */
    private static SnapshotEvents events;

    @Inject
    private BundleContext context;

    @Inject
    private DiskSnapshotProvider snapshots;

    @Inject
    private SessionFactory sessions;

    @Inject
    private ConfigurationAdmin configurations;

    @Configuration
    public Option[] config() {
        List<Option> o = KarafOptions.base();
        o.addAll(HostPeers.start(SurfacesIT.class, RealXenstored.Profile.OXENSTORED, BY_SERVICE, BY_LOCAL_JMX,
                BY_REMOTE_JMX, BY_CONSOLE, UNTOUCHED, COMPLETED).options());
        o.add(features(KarafOptions.xensnapFeatures(), "xensnap"));
        return o.toArray(new Option[0]);
    }

    @Before
    public void listenOnce() throws Exception {
        synchronized (SurfacesIT.class) {
            if (events == null) {
                events = SnapshotEvents.listen(context);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!ManagementFactory.getPlatformMBeanServer().isRegistered(new ObjectName(MBEAN))) {
            if (System.nanoTime() > deadline) {
                fail(MBEAN + " was not registered within 20 s");
            }
            Thread.sleep(50);
        }
    }

    // ------------------------------------------------------------------------------------------------ the surfaces

    @Test
    public void theServiceTakesASnapshotThroughItsWholeLife() throws Exception {
        fullLife(new Surface() {
            @Override
            public void create(String domain, String name, String disks) throws Exception {
                List<DiskSpec> specs = new ArrayList<>();
                if (!disks.isEmpty()) {
                    specs.add(DiskSpec.internal(QCOW2));
                    specs.add(DiskSpec.external(RAW, Path.of(disks.substring(disks.lastIndexOf(':') + 1))));
                }
                SnapshotInfo info = snapshots.create(new SnapshotRequest(DomainRef.parse(domain), name, "", specs));
                assertEquals(name, info.name());
            }

            @Override
            public Map<String, Boolean> list(String domain) throws Exception {
                SnapshotTree tree = snapshots.list(DomainRef.parse(domain));
                Map<String, Boolean> out = new TreeMap<>();
                tree.snapshots().forEach(s -> out.put(s.name(), s.name().equals(tree.current())));
                return out;
            }

            @Override
            public List<String> revert(String domain, String name) throws Exception {
                RevertResult r = snapshots.revert(DomainRef.parse(domain), name);
                return r.disks().stream().map(d -> d.vdev() + "=" + d.image()).toList();
            }

            @Override
            public void delete(String domain, String name) throws Exception {
                snapshots.delete(DomainRef.parse(domain), name);
            }
        }, BY_SERVICE, null);
    }

    @Test
    public void theMBeanTakesASnapshotThroughItsWholeLifeInThePlatformMBeanServer() throws Exception {
        MBeanServerConnection local = ManagementFactory.getPlatformMBeanServer();
        fullLife(new MBeanSurface(local), BY_LOCAL_JMX, local);
    }

    @Test
    public void theMBeanTakesASnapshotThroughItsWholeLifeOverKarafsRmiConnector() throws Exception {
        try (JMXConnector jmx = remote(KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD)) {
            MBeanServerConnection remote = jmx.getMBeanServerConnection();
            fullLife(new MBeanSurface(remote), BY_REMOTE_JMX, remote);
        }
    }

    @Test
    public void theConsoleTakesASnapshotThroughItsWholeLife() throws Exception {
        Console admin = Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD);
        fullLife(new Surface() {
            @Override
            public void create(String domain, String name, String disks) throws Exception {
                String out = admin.run("snapshot:create -d 'made at the console'"
                        + (disks.isEmpty() ? "" : " --disks '" + disks + "'") + " " + domain + " " + name);
                assertTrue(out, out.startsWith("Created snapshot " + name + " of domain " + domain));
                assertTrue(out, out.contains("  xvda internal"));
                assertTrue(out, out.contains("  xvdb external → "));
            }

            @Override
            public Map<String, Boolean> list(String domain) throws Exception {
                String out = admin.run("snapshot:list --no-format " + domain);
                Map<String, Boolean> rows = new TreeMap<>();
                if (out.contains("has no snapshots")) {
                    return rows;
                }
                for (String line : out.split("\n")) {
                    if (!line.contains("\t")) {
                        continue; // the line under the table: when the space figures were read
                    }
                    String[] cells = line.split("\t");
                    // the name comes after the tree drawing: "└─ s2"
                    String name = cells[0].replaceAll("^[│├└─ ]+", "").trim();
                    rows.put(name, cells[1].trim().equals("*"));
                    // the description is the last column, after the space the snapshot holds and would free
                    assertTrue(line, cells[cells.length - 1].trim().equals("made at the console"));
                }
                return rows;
            }

            @Override
            public List<String> revert(String domain, String name) throws Exception {
                String out = admin.run("snapshot:revert " + domain + " " + name);
                assertTrue(out, out.contains("Reverted to snapshot " + name + ". Start the disks from:"));
                // progress, one line per disk as it is done
                assertTrue(out, out.contains("xvda reverted (") && out.contains("xvdb reverted ("));
                List<String> disks = new ArrayList<>();
                for (String line : out.split("\n")) {
                    if (line.matches("  xvd[a-z]  /.* \\((qcow2|raw)\\)")) {
                        String[] parts = line.trim().split("\\s+");
                        disks.add(parts[0] + "=" + parts[1]);
                    }
                }
                return disks;
            }

            @Override
            public void delete(String domain, String name) throws Exception {
                String out = admin.run("snapshot:delete " + domain + " " + name);
                assertTrue(out, out.contains("Deleted snapshot " + name + "."));
                assertTrue(out, out.contains("merge") || out.contains("snapshot deleted"));
            }
        }, BY_CONSOLE, null);

        String help = admin.run("snapshot:create --help");
        assertTrue(help, help.contains("internal  the snapshot is stored inside the qcow2 image itself"));
        assertTrue(help, help.contains("its domid while it runs"));
    }

    @Test
    public void theConsoleCompletesRunningDomainsAndTheirSnapshotNames() throws Exception {
        Console admin = Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD);
        String domid = Integer.toString(COMPLETED.domid());
        admin.run("snapshot:create -d 'tab, tab' " + domid + " before-upgrade");
        admin.run("snapshot:create " + domid + " after-upgrade");

        Map<String, String> domains = admin.complete("snapshot:list ", "DomainCompleter");
        assertEquals(domains.toString(), "completed (running)", domains.get(domid));
        assertEquals(domains.toString(), "untouched (running)", domains.get(Integer.toString(UNTOUCHED.domid())));

        Map<String, String> names = admin.complete("snapshot:revert " + domid + " ", "SnapshotNameCompleter");
        assertEquals(List.of("after-upgrade", "before-upgrade"), new ArrayList<>(new TreeMap<>(names).keySet()));
        assertTrue(names.toString(), names.get("before-upgrade").endsWith(" UTC, tab, tab"));
        assertTrue("no domain, no names", admin.complete("snapshot:revert ", "SnapshotNameCompleter").isEmpty());
    }

    // ------------------------------------------------------------------------------------------ refusals and rights

    @Test
    public void aViewerMayListOverJmxButNotChange() throws Exception {
        try (JMXConnector jmx = remote(KarafOptions.VIEWER, KarafOptions.VIEWER_PASSWORD)) {
            MBeanServerConnection viewer = jmx.getMBeanServerConnection();
            TabularData rows = (TabularData) viewer.invoke(new ObjectName(MBEAN), "listSnapshots",
                    new Object[] {Integer.toString(UNTOUCHED.domid())}, new String[] {String.class.getName()});
            assertTrue(rows.isEmpty());
            try {
                viewer.invoke(new ObjectName(MBEAN), "createSnapshot",
                        new Object[] {Integer.toString(UNTOUCHED.domid()), "viewer-was-here", "", ""}, strings(4));
                fail("a viewer created a snapshot");
            } catch (SecurityException e) {
                assertEquals("Insufficient roles/credentials for operation", e.getMessage());
            }
        }
        assertTrue(snapshots.list(DomainRef.running(UNTOUCHED.domid())).snapshots().isEmpty());
        assertEquals(List.of(), dom0().liveSnapshots(UNTOUCHED, QCOW2));

        // the rules are xensnap's own, shipped with the feature, not only Karaf's defaults
        Dictionary<String, Object> acl = configurations.listConfigurations(
                "(service.pid=jmx.acl.io.xensnap.snapshots)")[0].getProperties();
        assertEquals("viewer", acl.get("listSnapshots"));
        assertEquals("viewer", acl.get("getSnapshot"));
        assertEquals("admin", acl.get("createSnapshot"));
    }

    @Test
    public void aViewerCannotUseTheSnapshotCommandsAnAdminCan() throws Exception {
        Console viewer = Console.login(sessions, KarafOptions.VIEWER, KarafOptions.VIEWER_PASSWORD);
        String domain = Integer.toString(UNTOUCHED.domid());
        try {
            viewer.run("snapshot:list " + domain);
            fail("a viewer ran snapshot:list");
        } catch (Exception e) {
            // Karaf hides commands the user may not run: to a viewer, snapshot:* does not exist
            assertTrue(e.toString(), e.getClass().getSimpleName().equals("CommandNotFoundException"));
        }
        String out = Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD)
                .run("snapshot:list " + domain);
        assertTrue(out, out.contains("has no snapshots"));
    }

    @Test
    public void reconcileOfAnUntouchedDomainIsCleanThroughTheMBeanAndTheConsole() throws Exception {
        String domid = Integer.toString(UNTOUCHED.domid());
        String[] lines = (String[]) ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName(MBEAN),
                "reconcile", new Object[] {domid}, new String[] {String.class.getName()});
        assertEquals(Arrays.toString(lines), 1, lines.length);
        assertTrue(lines[0], lines[0].matches("[0-9a-f-]{36} clean"));

        String out = Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD)
                .run("snapshot:reconcile " + domid);
        assertEquals(lines[0], out.trim());

        // changes disks: admins only, as create, revert and delete
        Dictionary<String, Object> acl = configurations.listConfigurations(
                "(service.pid=jmx.acl.io.xensnap.snapshots)")[0].getProperties();
        assertEquals("admin", acl.get("reconcile"));
        assertEquals("admin", acl.get("reconcileAll"));
    }

    @Test
    public void badArgumentsGetTheStableCodeOnEverySurface() throws Exception {
        String domid = Integer.toString(UNTOUCHED.domid());
        Path outside = Files.createTempFile("outside-", ".qcow2");
        Files.delete(outside);

        // the service
        assertCode(SnapshotError.INVALID_ARGUMENT, () -> snapshots.delete(DomainRef.running(UNTOUCHED.domid()),
                "no good"));
        assertCode(SnapshotError.INVALID_ARGUMENT, () -> snapshots.create(new SnapshotRequest(
                DomainRef.running(UNTOUCHED.domid()), "s", "", List.of(DiskSpec.external(RAW, outside)))));
        assertCode(SnapshotError.NO_SUCH_DOMAIN, () -> snapshots.list(DomainRef.running(999)));
        assertCode(SnapshotError.INVALID_STATE, () -> snapshots.revert(DomainRef.running(UNTOUCHED.domid()), "s"));
        events.await("FAILED", "no good");

        // the MBean, locally and remotely: only JDK classes, the message is [CODE] message
        List<MBeanServerConnection> connections = new ArrayList<>(List.of(ManagementFactory.getPlatformMBeanServer()));
        try (JMXConnector jmx = remote(KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD)) {
            connections.add(jmx.getMBeanServerConnection());
            for (MBeanServerConnection c : connections) {
                assertMBeanError(c, "[INVALID_ARGUMENT] 'vm-7' is neither a domid", "createSnapshot",
                        "vm-7", "s", "", "");
                assertMBeanError(c, "[INVALID_ARGUMENT] disk xvda: 'full' is not a kind", "createSnapshot",
                        domid, "s", "", "xvda:full");
                assertMBeanError(c, "[INVALID_ARGUMENT] overlay path " + outside, "createSnapshot",
                        domid, "s", "", "xvdb:external:" + outside);
                assertMBeanError(c, "[INVALID_ARGUMENT] invalid snapshot name", "deleteSnapshot", domid, "..");
                assertMBeanError(c, "[NO_SUCH_SNAPSHOT] ", "getSnapshot", domid, "nothing");
            }
        }

        // the console
        Console admin = Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD);
        assertConsoleError(admin, "[INVALID_ARGUMENT] invalid snapshot name 'bad!'", "snapshot:create " + domid
                + " bad!");
        assertConsoleError(admin, "[INVALID_ARGUMENT] disk 'xvda': expected vdev:internal", "snapshot:create --disks"
                + " xvda " + domid + " s");
        assertConsoleError(admin, "[INVALID_STATE] domain " + domid + " is running", "snapshot:revert " + domid
                + " s");
        assertConsoleError(admin, "[NO_SUCH_DOMAIN] no running domain has domid 999", "snapshot:list 999");

        assertEquals("nothing was changed", List.of(), dom0().liveSnapshots(UNTOUCHED, QCOW2));
        assertEquals(1, dom0().chain(UNTOUCHED, RAW).size());
        assertTrue(snapshots.list(DomainRef.running(UNTOUCHED.domid())).snapshots().isEmpty());
    }

    // ---------------------------------------------------------------------------------------- the shared scenario

    /** One way in: the test decides what to check, the surface only translates. */
    private interface Surface {
        /** @param disks empty for the defaults, else {@code xvda:internal,xvdb:external:<path>} */
        void create(String domain, String name, String disks) throws Exception;

        /** @return name → whether it is the current snapshot */
        Map<String, Boolean> list(String domain) throws Exception;

        /** @return {@code vdev=image} per disk, in the domain's order */
        List<String> revert(String domain, String name) throws Exception;

        void delete(String domain, String name) throws Exception;
    }

    /**
     * @param jmx where to listen for the MBean's notifications, or {@code null} when the surface is not the MBean
     */
    private void fullLife(Surface surface, TestDomain d, MBeanServerConnection jmx) throws Exception {
        Dom0 dom0 = dom0();
        Path a = dom0.image(d, QCOW2);
        Path b = dom0.image(d, RAW);
        Path bS1 = dom0.imageDir(d).resolve("disk1.s1.qcow2");
        Path bS2 = dom0.imageDir(d).resolve("second overlay.qcow2");
        String domid = Integer.toString(d.domid());
        Notifications notes = jmx == null ? null : Notifications.listen(jmx);
        try {
            // s1 with the defaults on the running domain: internal in the qcow2 image, a new overlay on the raw one
            surface.create(domid, "s1", "");
            assertEquals(List.of(a.toString()), dom0.chain(d, QCOW2));
            assertEquals(List.of("s1"), dom0.liveSnapshots(d, QCOW2));
            assertEquals(List.of(bS1.toString(), b.toString()), dom0.chain(d, RAW));
            assertEquals("qcow2:" + a, dom0.params(d, QCOW2));
            assertEquals("qcow2:" + bS1, dom0.params(d, RAW));
            assertEquals(bS1.toString(), dom0.userdataDisk(d, RAW).path("pdev_path").asText());
            assertEquals("qcow2", dom0.userdataDisk(d, RAW).path("format").asText());
            assertEquals(a.toString(), dom0.userdataDisk(d, QCOW2).path("pdev_path").asText());
            assertEquals(Map.of("s1", true), surface.list(domid));
            events.awaitSuccess("CREATED", d, "s1", QCOW2, RAW);

            // s2 on top, the overlay where we want it
            surface.create(domid, "s2", "xvda:internal,xvdb:external:" + bS2);
            assertEquals(List.of("s1", "s2"), dom0.liveSnapshots(d, QCOW2));
            assertEquals(List.of(bS2.toString(), bS1.toString(), b.toString()), dom0.chain(d, RAW));
            assertEquals("qcow2:" + bS2, dom0.params(d, RAW));
            assertEquals(bS2.toString(), dom0.userdataDisk(d, RAW).path("pdev_path").asText());
            assertEquals(Map.of("s1", false, "s2", true), surface.list(domid));
            events.awaitSuccess("CREATED", d, "s2", QCOW2, RAW);

            // delete s2 while the domain runs: QEMU merges the overlay back (block-commit), libxl and xenstore follow
            surface.delete(domid, "s2");
            assertEquals(List.of("s1"), dom0.liveSnapshots(d, QCOW2));
            assertEquals(List.of(bS1.toString(), b.toString()), dom0.chain(d, RAW));
            assertFalse("the merged overlay is removed", Files.exists(bS2));
            assertEquals("qcow2:" + bS1, dom0.params(d, RAW));
            assertEquals(bS1.toString(), dom0.userdataDisk(d, RAW).path("pdev_path").asText());
            assertEquals(Map.of("s1", true), surface.list(domid));
            events.awaitSuccess("DELETED", d, "s2", QCOW2, RAW);
            if (notes != null) {
                notes.assertLongOperation("delete", domid, "s2", "merge xvdb");
            }

            // the guest writes to both disks, then is shut down: revert works on images no QEMU holds
            dom0.shutOff(d);
            dom0.write(a, RealQemu.Format.QCOW2, 0xee);
            dom0.write(bS1, RealQemu.Format.QCOW2, 0xee);
            assertFalse(dom0.hasPattern(a, RealQemu.Format.QCOW2, d.pattern(QCOW2)));

            List<String> startFrom = surface.revert(d.uuid(), "s1");
            assertEquals(List.of("xvda=" + a, "xvdb=" + bS1), startFrom);
            assertTrue("xvda has its data of s1 again", dom0.hasPattern(a, RealQemu.Format.QCOW2, d.pattern(QCOW2)));
            assertTrue("xvdb reads its data of s1 again",
                    dom0.hasPattern(bS1, RealQemu.Format.QCOW2, d.pattern(RAW)));
            assertEquals(List.of(bS1.toString(), b.toString()), dom0.offlineChain(bS1));
            assertEquals("the revert's temporary snapshot is gone", List.of("s1"), dom0.offlineSnapshots(a));
            assertEquals(Map.of("s1", true), surface.list(d.uuid()));
            events.awaitSuccess("REVERTED", d, "s1", QCOW2, RAW);
            if (notes != null) {
                notes.assertLongOperation("revert", d.uuid(), "s1", "xvda reverted");
            }

            // delete s1 while shut off: qemu-img removes the internal snapshot and commits the overlay
            surface.delete(d.uuid(), "s1");
            assertEquals(List.of(), dom0.offlineSnapshots(a));
            assertFalse("the committed overlay is removed", Files.exists(bS1));
            assertTrue(dom0.hasPattern(b, RealQemu.Format.RAW, d.pattern(RAW)));
            assertEquals(Map.of(), surface.list(d.uuid()));
            events.awaitSuccess("DELETED", d, "s1", QCOW2, RAW);
            assertFalse(Files.exists(dom0.imageDir(d).resolve("disk1.s1.qcow2.xensnap-old")));
        } finally {
            if (notes != null) {
                notes.close();
            }
        }
    }

    /** The MBean as JConsole uses it: generic invoke with strings, open types back. */
    private static final class MBeanSurface implements Surface {
        private final MBeanServerConnection jmx;
        private final ObjectName name;

        MBeanSurface(MBeanServerConnection jmx) throws Exception {
            this.jmx = jmx;
            this.name = new ObjectName(MBEAN);
        }

        @Override
        public void create(String domain, String snapshot, String disks) throws Exception {
            CompositeData c = (CompositeData) jmx.invoke(name, "createSnapshot",
                    new Object[] {domain, snapshot, "over JMX", disks}, strings(4));
            assertEquals(snapshot, c.get("name"));
            assertEquals(true, c.get("current"));
            assertEquals(2, ((TabularData) c.get("disks")).size());
        }

        @Override
        public Map<String, Boolean> list(String domain) throws Exception {
            TabularData rows = (TabularData) jmx.invoke(name, "listSnapshots", new Object[] {domain}, strings(1));
            Map<String, Boolean> out = new TreeMap<>();
            for (CompositeData row : values(rows)) {
                out.put((String) row.get("name"), (Boolean) row.get("current"));
                CompositeData one = (CompositeData) jmx.invoke(name, "getSnapshot",
                        new Object[] {domain, row.get("name")}, strings(2));
                assertEquals("over JMX", one.get("description"));
                assertEquals(row.get("parent"), one.get("parent"));
            }
            return out;
        }

        @Override
        public List<String> revert(String domain, String snapshot) throws Exception {
            TabularData rows = (TabularData) jmx.invoke(name, "revertSnapshot", new Object[] {domain, snapshot},
                    strings(2));
            Map<String, String> disks = new TreeMap<>();
            for (CompositeData row : values(rows)) {
                disks.put((String) row.get("vdev"), (String) row.get("image"));
            }
            return disks.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
        }

        @Override
        public void delete(String domain, String snapshot) throws Exception {
            assertNull(jmx.invoke(name, "deleteSnapshot", new Object[] {domain, snapshot}, strings(2)));
        }
    }

    /** The MBean's notifications, as a JMX client receives them. */
    private static final class Notifications implements NotificationListener {
        private final MBeanServerConnection jmx;
        private final List<Notification> received = new CopyOnWriteArrayList<>();

        private Notifications(MBeanServerConnection jmx) {
            this.jmx = jmx;
        }

        static Notifications listen(MBeanServerConnection jmx) throws Exception {
            Notifications n = new Notifications(jmx);
            jmx.addNotificationListener(new ObjectName(MBEAN), n, null, null);
            return n;
        }

        @Override
        public void handleNotification(Notification notification, Object handback) {
            received.add(notification);
        }

        /** Started, then progress naming {@code step}, then finished; remote ones arrive a little later. */
        void assertLongOperation(String operation, String domain, String snapshot, String step) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            List<String> seen;
            while (true) {
                seen = new ArrayList<>();
                for (Notification n : received) {
                    CompositeData data = (CompositeData) n.getUserData();
                    if (operation.equals(data.get("operation")) && snapshot.equals(data.get("snapshot"))
                            && domain.equals(data.get("domain"))) {
                        seen.add(n.getType() + (n.getType().endsWith("progress") ? " " + data.get("step") : ""));
                    }
                }
                if (!seen.isEmpty() && seen.get(seen.size() - 1).equals("io.xensnap.operation.finished")) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    fail("no finished notification for " + operation + " of " + snapshot + ": " + seen);
                }
                Thread.sleep(20);
            }
            assertEquals(seen.toString(), "io.xensnap.operation.started", seen.get(0));
            assertTrue(seen.toString(), seen.contains("io.xensnap.operation.progress " + step));
        }

        void close() throws Exception {
            jmx.removeNotificationListener(new ObjectName(MBEAN), this);
        }
    }

    // ------------------------------------------------------------------------------------------------------ helpers

    private Dom0 dom0() {
        return Dom0.fromSystemProperties();
    }

    /** Karaf's JMX RMI connector, as JConsole would reach it: pax-exam moved its registry to a free port. */
    private JMXConnector remote(String user, String password) throws Exception {
        org.osgi.service.cm.Configuration[] found =
                configurations.listConfigurations("(service.pid=org.apache.karaf.management)");
        Object port = found[0].getProperties().get("rmiRegistryPort");
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/karaf-"
                + System.getProperty("karaf.name"));
        return JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS, new String[] {user, password}));
    }

    private static String[] strings(int n) {
        String[] s = new String[n];
        Arrays.fill(s, String.class.getName());
        return s;
    }

    @SuppressWarnings("unchecked")
    private static Collection<CompositeData> values(TabularData t) {
        return (Collection<CompositeData>) t.values();
    }

    @FunctionalInterface
    private interface Call {
        void run() throws Exception;
    }

    private static void assertCode(SnapshotError code, Call call) throws Exception {
        try {
            call.run();
            fail("expected " + code);
        } catch (SnapshotException e) {
            assertEquals(e.codedMessage(), code, e.code());
        }
    }

    private static void assertMBeanError(MBeanServerConnection c, String messageStart, String operation,
                                         Object... args) throws Exception {
        try {
            c.invoke(new ObjectName(MBEAN), operation, args, strings(args.length));
            fail(operation + " accepted " + Arrays.toString(args));
        } catch (MBeanException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(messageStart));
            // no server-side class crosses the wire: the target is a plain Exception with the same text, no trace
            assertEquals(Exception.class, e.getCause().getClass());
            assertEquals(e.getMessage(), e.getCause().getMessage());
            assertNull(e.getCause().getCause());
            assertEquals(0, e.getCause().getStackTrace().length);
        }
    }

    private static void assertConsoleError(Console console, String messageStart, String command) throws Exception {
        try {
            String out = console.run(command);
            fail(command + " succeeded: " + out);
        } catch (Exception e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(messageStart));
        }
    }
}
