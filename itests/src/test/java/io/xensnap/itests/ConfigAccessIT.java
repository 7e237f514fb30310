package io.xensnap.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;
import javax.management.openmbean.TabularDataSupport;
import javax.management.openmbean.TabularType;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;

/**
 * Who may change xensnap's configuration in a stock Karaf 4.4.10 with the feature: its PIDs name the qemu-img that
 * xensnap runs as root, so only an admin may change them, at the console and over JMX (Karaf's ConfigMBean and the
 * OSGi ConfigurationAdminMBean), while a manager keeps Karaf's rights over every other PID. And xensnap itself refuses
 * a qemu-img that someone other than root could have put there, keeping the configuration it runs with.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ConfigAccessIT {

    private static final String PID = "io.xensnap";
    /** A factory PID xensnap may use one day: io.xensnap.* is xensnap's too. */
    private static final String FACTORY_PID = "io.xensnap.schedule-x";
    /** Not xensnap's: a manager may change it, which shows the user really has Karaf's manager rights. */
    private static final String OTHER_PID = "org.example.managed";
    private static final TestDomain GUEST = new TestDomain(31, "config-access");
    private static final String EVIL = "/tmp/evil.sh";
    private static final String DENIED_JMX = "Insufficient roles/credentials for operation";

    @Inject
    private BundleContext context;

    @Inject
    private SessionFactory sessions;

    @Inject
    private ConfigurationAdmin configurations;

    @Configuration
    public Option[] config() {
        List<Option> o = KarafOptions.base();
        o.addAll(HostPeers.start(ConfigAccessIT.class, RealXenstored.Profile.CXENSTORED, GUEST).options());
        o.add(features(KarafOptions.xensnapFeatures(), "xensnap"));
        return o.toArray(new Option[0]);
    }

    /** xensnap's configuration as the class began, restored after each test that changed it. */
    private static Map<String, Object> original;

    @Before
    public void rememberTheConfiguration() throws Exception {
        synchronized (ConfigAccessIT.class) {
            if (original == null) {
                awaitProvider();
                original = xensnapConfig();
            }
        }
    }

    @After
    public void restoreTheConfiguration() throws Exception {
        if (!original.equals(xensnapConfig())) {
            configurations.listConfigurations("(service.pid=" + PID + ")")[0].update(new Hashtable<>(original));
        }
        settledProvider();
    }

    // ------------------------------------------------------------------------------------------------ the console

    @Test
    public void aManagerCannotChangeXensnapsConfigurationAtTheConsole() throws Exception {
        awaitProvider();
        Map<String, Object> before = xensnapConfig();
        Console manager = Console.login(sessions, KarafOptions.MANAGER, KarafOptions.MANAGER_PASSWORD);
        Path evilCfg = Files.createTempFile("evil-", ".cfg");
        Files.writeString(evilCfg, "qemu.img = " + EVIL + "\n", StandardCharsets.UTF_8);

        for (String command : List.of(
                "config:property-set -p " + PID + " qemu.img " + EVIL,
                "config:property-set --pid " + PID + " qemu.img " + EVIL,
                "config:property-set -p " + FACTORY_PID + " qemu.img " + EVIL,
                "config:property-append -p " + PID + " qemu.img .sh",
                "config:property-delete -p " + PID + " qemu.img",
                "config:edit " + PID,
                "config:edit --factory --alias x " + FACTORY_PID,
                // an LDAP filter names the PID without spelling it
                "config:edit '(service.pid=io.xen*)'",
                "config:meta -c " + PID,
                "config:delete " + PID,
                // a file under etc/ is a configuration too (Karaf's file install applies it)
                "config:install " + evilCfg.toUri() + " " + PID + ".cfg --override",
                "config:install " + evilCfg.toUri() + " " + FACTORY_PID + ".cfg",
                // config:update writes to the PID in a session variable, which the user may set
                "config:edit " + OTHER_PID + "\nConfigCommand.PID = ('" + PID + "' toString)"
                        + "\nconfig:property-set qemu.img "
                        + EVIL + "\nconfig:update",
                // a newline in an argument must not carry the command past the rule
                "config:property-set -p " + PID + " qemu.img '" + EVIL + "\n'")) {
            try {
                String out = manager.run(command);
                fail("a manager ran: " + command + "\n" + out);
            } catch (SecurityException e) {
                assertEquals(command, "Insufficient credentials.", e.getMessage());
            } catch (Exception e) {
                // a command with rules for admins only does not exist for others (config:meta, config:install)
                assertEquals(command + ": " + e, "CommandNotFoundException", e.getClass().getSimpleName());
            }
        }

        assertEquals("io.xensnap is as it was", before, xensnapConfig());
        assertNull("no factory configuration of xensnap was made",
                configurations.listConfigurations("(|(service.pid=io.xensnap.*)(service.factoryPid=io.xensnap.*))"));
        assertFalse(Files.exists(etc().resolve(FACTORY_PID + ".cfg")));

        // everything else stays a manager's: the refusals above are xensnap's rules, not a missing role
        manager.run("config:property-set -p " + OTHER_PID + " k v");
        assertEquals("v", configurations.getConfiguration(OTHER_PID, null).getProperties().get("k"));
        manager.run("config:edit " + OTHER_PID + "\nconfig:property-set k w");
    }

    @Test
    public void anAdminMayChangeXensnapsConfigurationAtTheConsole() throws Exception {
        long first = serviceId(awaitProvider());
        Console admin = Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD);
        admin.run("config:property-set -p " + PID + " domain.busy.wait.ms 2500");
        assertEquals("2500", xensnapConfig().get("domain.busy.wait.ms"));
        long second = serviceId(awaitProvider(first));

        // the session variable does redirect config:update: the reason it is an admin's command now
        // a string, not gogo's token, so that config:update's cast succeeds; the edited properties, the other PID's,
        // replace xensnap's whole configuration
        admin.run("config:edit " + OTHER_PID + "\nConfigCommand.PID = ('" + PID + "' toString)"
                + "\nconfig:property-set domain.busy.wait.ms 2000\nconfig:update");
        assertEquals("2000", xensnapConfig().get("domain.busy.wait.ms"));
        assertNull(xensnapConfig().get("xen.run.dir"));
        awaitProvider(second);
    }

    // ----------------------------------------------------------------------------------------------------- JMX

    @Test
    public void aManagerCannotChangeXensnapsConfigurationOverJmx() throws Exception {
        awaitProvider();
        Map<String, Object> before = xensnapConfig();
        ObjectName config = new ObjectName("org.apache.karaf:type=config,name=" + System.getProperty("karaf.name"));
        String s = String.class.getName();
        String map = Map.class.getName();
        try (JMXConnector jmx = remote(KarafOptions.MANAGER, KarafOptions.MANAGER_PASSWORD)) {
            MBeanServerConnection manager = jmx.getMBeanServerConnection();
            for (Object[] call : List.of(
                    new Object[] {"setProperty", new Object[] {PID, "qemu.img", EVIL}, new String[] {s, s, s}},
                    new Object[] {"setProperty", new Object[] {FACTORY_PID, "qemu.img", EVIL}, new String[] {s, s, s}},
                    new Object[] {"setProperty", new Object[] {PID, "qemu.img", EVIL + "\n"}, new String[] {s, s, s}},
                    new Object[] {"appendProperty", new Object[] {PID, "qemu.img", ".sh"}, new String[] {s, s, s}},
                    new Object[] {"deleteProperty", new Object[] {PID, "qemu.img"}, new String[] {s, s}},
                    new Object[] {"update", new Object[] {PID, Map.of("qemu.img", EVIL)}, new String[] {s, map}},
                    new Object[] {"append", new Object[] {PID, Map.of("qemu.img", EVIL)}, new String[] {s, map}},
                    new Object[] {"delete", new Object[] {PID, List.of("qemu.img")},
                            new String[] {s, List.class.getName()}},
                    new Object[] {"create", new Object[] {FACTORY_PID}, new String[] {s}},
                    new Object[] {"delete", new Object[] {PID}, new String[] {s}},
                    new Object[] {"createFactoryConfiguration", new Object[] {"io.xensnap.schedule"}, new String[] {s}},
                    new Object[] {"createFactoryConfiguration", new Object[] {"io.xensnap.schedule", "x"},
                            new String[] {s, s}},
                    new Object[] {"createFactoryConfiguration", new Object[] {"io.xensnap.schedule",
                            Map.of("qemu.img", EVIL)}, new String[] {s, map}},
                    new Object[] {"createFactoryConfiguration", new Object[] {"io.xensnap.schedule", "x",
                            Map.of("qemu.img", EVIL)}, new String[] {s, s, map}},
                    new Object[] {"install", new Object[] {"file:/dev/null", PID + ".cfg", true},
                            new String[] {s, s, boolean.class.getName()}},
                    // null matches no argument rule: these must not fall back to Karaf's "= manager"
                    new Object[] {"setProperty", new Object[] {PID, "state.dir", null}, new String[] {s, s, s}},
                    new Object[] {"appendProperty", new Object[] {PID, "state.dir", null}, new String[] {s, s, s}},
                    new Object[] {"deleteProperty", new Object[] {PID, null}, new String[] {s, s}},
                    new Object[] {"createFactoryConfiguration", new Object[] {"io.xensnap.schedule", null},
                            new String[] {s, s}},
                    new Object[] {"createFactoryConfiguration", new Object[] {"io.xensnap.schedule", null,
                            Map.of("qemu.img", EVIL)}, new String[] {s, s, map}})) {
                refusedOverJmx(manager, config, call);
            }

            // the OSGi compendium's ConfigurationAdminMBean: Karaf's management feature brings it (Aries JMX)
            Set<ObjectName> cm = manager.queryNames(new ObjectName("osgi.compendium:service=cm,*"), null);
            assertEquals("one ConfigurationAdminMBean: " + cm, 1, cm.size());
            ObjectName cmName = cm.iterator().next();
            String tabular = javax.management.openmbean.TabularData.class.getName();
            for (Object[] call : List.of(
                    new Object[] {"update", new Object[] {PID, properties("qemu.img", EVIL)},
                            new String[] {s, tabular}},
                    new Object[] {"updateForLocation", new Object[] {PID, null, properties("qemu.img", EVIL)},
                            new String[] {s, s, tabular}},
                    new Object[] {"updateForLocation", new Object[] {PID, "?", properties("qemu.img", EVIL)},
                            new String[] {s, s, tabular}},
                    new Object[] {"delete", new Object[] {PID}, new String[] {s}},
                    new Object[] {"deleteForLocation", new Object[] {PID, "?"}, new String[] {s, s}},
                    new Object[] {"createFactoryConfiguration", new Object[] {"io.xensnap.schedule"}, new String[] {s}},
                    new Object[] {"createFactoryConfigurationForLocation", new Object[] {"io.xensnap.schedule", "?"},
                            new String[] {s, s}},
                    new Object[] {"deleteForLocation", new Object[] {PID, null}, new String[] {s, s}},
                    new Object[] {"createFactoryConfigurationForLocation", new Object[] {"io.xensnap.schedule", null},
                            new String[] {s, s}},
                    // nor may a manager rewrite the ACLs that protect xensnap's PIDs, with or without a location
                    new Object[] {"updateForLocation", new Object[] {"jmx.acl.org.apache.karaf.config", null,
                            properties("setProperty", "manager")}, new String[] {s, s, tabular}},
                    new Object[] {"updateForLocation", new Object[] {"org.apache.karaf.command.acl.config", "?",
                            properties("property-set", "manager")}, new String[] {s, s, tabular}})) {
                refusedOverJmx(manager, cmName, call);
            }

            // a manager still manages every other PID, through both MBeans
            manager.invoke(config, "setProperty", new Object[] {OTHER_PID, "jmx", "yes"}, new String[] {s, s, s});
            manager.invoke(cmName, "update", new Object[] {OTHER_PID + ".cm", properties("cm", "yes")},
                    new String[] {s, tabular});
            manager.invoke(cmName, "updateForLocation", new Object[] {OTHER_PID + ".loc", "?",
                    properties("loc", "yes")}, new String[] {s, s, tabular});
        }
        assertEquals("io.xensnap is as it was", before, xensnapConfig());
        assertNull("no factory configuration of xensnap was made",
                configurations.listConfigurations("(|(service.pid=io.xensnap.*)(service.factoryPid=io.xensnap.*))"));
        assertEquals("yes", configurations.getConfiguration(OTHER_PID, null).getProperties().get("jmx"));
        assertEquals("yes", configurations.getConfiguration(OTHER_PID + ".cm", null).getProperties().get("cm"));
        assertEquals("yes", configurations.getConfiguration(OTHER_PID + ".loc", "?").getProperties().get("loc"));
    }

    @Test
    public void anAdminMayChangeXensnapsConfigurationOverJmx() throws Exception {
        long first = serviceId(awaitProvider());
        ObjectName config = new ObjectName("org.apache.karaf:type=config,name=" + System.getProperty("karaf.name"));
        String s = String.class.getName();
        try (JMXConnector jmx = remote(KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD)) {
            jmx.getMBeanServerConnection().invoke(config, "setProperty",
                    new Object[] {PID, "domain.busy.wait.ms", "2600"}, new String[] {s, s, s});
        }
        assertEquals("2600", xensnapConfig().get("domain.busy.wait.ms"));
        awaitProvider(first);
    }

    // ---------------------------------------------------------------------------------- xensnap's own refusal

    @Test
    public void anUnsafeQemuImgIsRefusedAndXensnapKeepsRunningWithThePreviousOne() throws Exception {
        DomainRef guest = DomainRef.running(GUEST.domid());
        Path root = Path.of(System.getProperty(HostPeers.ROOT));
        // a qemu-img in a directory anyone may write: it would run and leave a mark
        Path open = Files.createDirectories(root.resolve("open"));
        Files.setAttribute(open, "unix:mode", 0777);
        Path mark = root.resolve("evil-ran");
        Path evil = open.resolve("qemu-img");
        Files.writeString(evil, "#!/bin/sh\ntouch " + mark + "\nexec /usr/bin/qemu-img \"$@\"\n",
                StandardCharsets.UTF_8);
        Files.setAttribute(evil, "unix:mode", 0755);

        ServiceReference<DiskSnapshotProvider> ref = settledProvider();
        Path log = Path.of(System.getProperty("karaf.data"), "log", "karaf.log");
        long from = Files.size(log);
        Console admin = Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD);
        try {
            admin.run("config:property-set -p " + PID + " qemu.img " + evil);

            List<String> lines = awaitLogLines(log, from, "configuration io.xensnap is invalid");
            assertEquals(lines.toString(), 1, lines.size());
            String line = lines.get(0);
            assertTrue(line, line.contains("ERROR"));
            assertTrue(line, line.contains("it was not applied, xensnap keeps running with the previous"
                    + " configuration until it is fixed: qemu.img = '" + evil + "': not a program only root can"
                    + " change: " + open + " is writable by group or others (mode 0777)"));

            // the same engine goes on, with the qemu-img it had
            assertEquals(serviceId(ref), serviceId(context.getServiceReference(DiskSnapshotProvider.class)));
            DiskSnapshotProvider provider = context.getService(ref);
            provider.create(SnapshotRequest.allDisks(guest, "after-refusal", ""));
            String out = admin.run("snapshot:reconcile " + GUEST.domid());
            assertTrue(out, out.trim().endsWith(GUEST.uuid() + " clean"));
            provider.delete(guest, "after-refusal");
            assertFalse("the refused qemu-img never ran", Files.exists(mark));
        } finally {
            admin.run("config:property-set -p " + PID + " qemu.img /usr/bin/qemu-img");
        }
        awaitProvider(serviceId(ref));
    }

    @Test
    public void theShellRulesAreMergedIntoKarafsAndTheJmxRulesHaveTheirOwnPids() throws Exception {
        // append: xensnap's keys are added, Karaf's defaults stay
        Dictionary<String, Object> shell = properties("org.apache.karaf.command.acl.config");
        assertEquals("manager", shell.get("property-set"));
        assertEquals("admin", shell.get("property-set[/(?s).*io[.]xensnap.*/]"));
        assertEquals("admin", shell.get("property-set[/.*jmx[.]acl.*/]"));
        assertEquals("admin", shell.get("delete"));
        String file = Files.readString(etc().resolve("org.apache.karaf.command.acl.config.cfg"));
        assertTrue("etc/ has both:\n" + file, file.contains("property-set[/(?s).*io[.]xensnap.*/]")
                && file.contains("property-set[/.*org[.]apache[.]karaf[.]service[.]acl[.].+/]"));

        // Karaf's JMX ACLs are left as they are; xensnap's are consulted first
        String sig = "setProperty(java.lang.String,java.lang.String,java.lang.String)";
        assertEquals("manager", properties("jmx.acl.org.apache.karaf.config").get(sig));
        assertEquals("admin", properties("jmx.acl.org.apache.karaf.config._").get(sig));
        assertEquals("manager", properties("jmx.acl.osgi.compendium.cm").get(
                "updateForLocation(java.lang.String,java.lang.String,javax.management.openmbean.TabularData)"));
        assertEquals("admin", properties("jmx.acl.osgi.compendium.cm._._").get(
                "updateForLocation(java.lang.String,java.lang.String,javax.management.openmbean.TabularData)"));
    }

    // ------------------------------------------------------------------------------------------------------ helpers

    private static void refusedOverJmx(MBeanServerConnection user, ObjectName mbean, Object[] call) throws Exception {
        String operation = (String) call[0];
        try {
            user.invoke(mbean, operation, (Object[]) call[1], (String[]) call[2]);
            fail("a manager invoked " + operation + java.util.Arrays.toString((Object[]) call[1]) + " on " + mbean);
        } catch (SecurityException e) {
            assertEquals(operation, DENIED_JMX, e.getMessage());
        }
    }

    /** @return a TabularData of the ConfigurationAdminMBean's PROPERTIES_TYPE with one String property */
    private static TabularDataSupport properties(String key, String value) throws Exception {
        CompositeType property = new CompositeType("PROPERTY", "a property", new String[] {"Key", "Value", "Type"},
                new String[] {"key", "value", "type"},
                new OpenType<?>[] {SimpleType.STRING, SimpleType.STRING, SimpleType.STRING});
        TabularDataSupport t = new TabularDataSupport(new TabularType("PROPERTIES", "properties", property,
                new String[] {"Key"}));
        CompositeData row = new CompositeDataSupport(property, new String[] {"Key", "Value", "Type"},
                new Object[] {key, value, "String"});
        t.put(row);
        return t;
    }

    private Map<String, Object> xensnapConfig() throws Exception {
        Dictionary<String, Object> d = properties(PID);
        Map<String, Object> m = new TreeMap<>();
        for (Enumeration<String> keys = d.keys(); keys.hasMoreElements(); ) {
            String k = keys.nextElement();
            m.put(k, d.get(k));
        }
        return m;
    }

    private Dictionary<String, Object> properties(String pid) throws Exception {
        org.osgi.service.cm.Configuration[] found = configurations.listConfigurations("(service.pid=" + pid + ")");
        assertNotNull("no configuration " + pid, found);
        return found[0].getProperties();
    }

    private static Path etc() {
        return Path.of(System.getProperty("karaf.etc"));
    }

    private ServiceReference<DiskSnapshotProvider> awaitProvider() throws Exception {
        return awaitProvider(-1);
    }

    /** @return the provider's reference once one with another service id than {@code notThis} is registered */
    private ServiceReference<DiskSnapshotProvider> awaitProvider(long notThis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            ServiceReference<DiskSnapshotProvider> ref = context.getServiceReference(DiskSnapshotProvider.class);
            if (ref != null && serviceId(ref) != notThis) {
                return ref;
            }
            if (System.nanoTime() > deadline) {
                fail("no new DiskSnapshotProvider within 20 s");
            }
            Thread.sleep(50);
        }
    }

    /** @return the provider once it was not re-registered for a second: earlier changes have all been applied */
    private ServiceReference<DiskSnapshotProvider> settledProvider() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        ServiceReference<DiskSnapshotProvider> ref = awaitProvider();
        while (true) {
            Thread.sleep(1000);
            ServiceReference<DiskSnapshotProvider> now = awaitProvider();
            if (serviceId(now) == serviceId(ref)) {
                return now;
            }
            if (System.nanoTime() > deadline) {
                fail("the DiskSnapshotProvider did not settle within 30 s");
            }
            ref = now;
        }
    }

    private static long serviceId(ServiceReference<?> ref) {
        return (Long) ref.getProperty(Constants.SERVICE_ID);
    }

    private static List<String> awaitLogLines(Path log, long from, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            String tail = Files.readString(log, StandardCharsets.UTF_8).substring((int) from);
            List<String> lines = tail.lines().filter(l -> l.contains(text)).toList();
            if (!lines.isEmpty() || System.nanoTime() > deadline) {
                // give a second line, if one were logged, the chance to show up
                Thread.sleep(300);
                tail = Files.readString(log, StandardCharsets.UTF_8).substring((int) from);
                return new ArrayList<>(tail.lines().filter(l -> l.contains(text)).toList());
            }
            Thread.sleep(50);
        }
    }

    private JMXConnector remote(String user, String password) throws Exception {
        org.osgi.service.cm.Configuration[] found =
                configurations.listConfigurations("(service.pid=org.apache.karaf.management)");
        Object port = found[0].getProperties().get("rmiRegistryPort");
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/karaf-"
                + System.getProperty("karaf.name"));
        return JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS, new String[] {user, password}));
    }
}
