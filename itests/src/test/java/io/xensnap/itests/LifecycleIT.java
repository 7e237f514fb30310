package io.xensnap.itests;

import static io.xensnap.itests.TestDomain.QCOW2;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import javax.inject.Inject;

import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;

/**
 * The bundle's life in a stock Karaf 4.4.10: the feature installs, every component comes up, a configuration change
 * is picked up while Karaf runs, a bad configuration is refused with one log line while the previous one stays in
 * force, and EventAdmin can come and go. The guest runs on a real QEMU with the C xenstored (the other itest uses
 * oxenstored).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LifecycleIT {

    private static final String BSN = "io.xensnap";
    private static final String PID = "io.xensnap";
    private static final TestDomain GUEST = new TestDomain(21, "lifecycle");
    private static final List<String> COMPONENTS = List.of(
            "io.xensnap.internal.config.SettingsPublisher", "io.xensnap.internal.service.QmpConnector",
            "io.xensnap.internal.service.XenstoreConnector", "io.xensnap.internal.service.QemuImgRunner",
            "io.xensnap.internal.service.LibxlConfigUpdater", "io.xensnap.internal.service.DomainLockRegistry",
            "io.xensnap.internal.service.SnapshotService",
            "io.xensnap.internal.events.EventAdminPublisher", "io.xensnap.internal.jmx.SnapshotsMBeanImpl",
            // bound by the MBean; the schedules' own components exist only with a schedule configuration
            "io.xensnap.internal.schedule.ScheduleService");

    @Inject
    private BundleContext context;

    @Inject
    private FeaturesService features;

    @Inject
    private ConfigurationAdmin configurations;

    @Inject
    private ServiceComponentRuntime scr;

    @Inject
    private SessionFactory sessions;

    @Configuration
    public Option[] config() {
        List<Option> o = KarafOptions.base();
        o.addAll(HostPeers.start(LifecycleIT.class, RealXenstored.Profile.CXENSTORED, GUEST).options());
        // At boot, as a distribution would: installing it later refreshes jline and the shell (JNA is an optional
        // import of jline), and with them this probe. A broken feature shows in karaf.log and in the features
        // module's karaf:verify, which resolves it at build time.
        o.add(features(KarafOptions.xensnapFeatures(), "xensnap"));
        return o.toArray(new Option[0]);
    }

    @Test
    public void theFeatureInstallsOnAStockKarafAndExportsTheApi() throws Exception {
        assertTrue("feature xensnap installed", features.isInstalled(features.getFeature("xensnap")));
        Bundle bundle = xensnapBundle();
        assertEquals("state of " + BSN + " (32 = ACTIVE)", Bundle.ACTIVE, bundle.getState());
        String exported = bundle.getHeaders().get("Export-Package");
        assertTrue("exports the API with a version: " + exported,
                exported.contains("io.xensnap.api;version=\"1.3.0\""));
    }

    @Test
    public void theInstalledBundleIsTheOneThisBuildMade() throws Exception {
        Path fresh;
        try (Stream<Path> s = Files.walk(Path.of(System.getProperty("xensnap.itestRepo")))) {
            fresh = s.filter(p -> p.getFileName().toString().matches("xensnap-bundle-.*\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no xensnap-bundle jar in the itest repo"));
        }
        assertEquals("class files of the bundle Karaf runs vs. the jar this build made",
                digestOfJar(fresh), digestOfBundle(xensnapBundle()));
    }

    @Test
    public void everyComponentComesUpActive() throws Exception {
        awaitTrue(() -> "every xensnap component ACTIVE: " + states(), () -> {
            Map<String, String> states = states();
            return states.keySet().containsAll(COMPONENTS) && states.values().stream().allMatch("ACTIVE"::equals);
        });
        assertEquals(COMPONENTS.size(), states().size());
    }

    @Test
    public void aNewStateDirectoryIsUsedWithoutRestartingKaraf() throws Exception {
        Dom0 dom0 = Dom0.fromSystemProperties();
        Path first = dom0.root().resolve("var/lib/xensnap");
        Path second = dom0.root().resolve("var/lib/xensnap-moved");
        DomainRef guest = DomainRef.running(GUEST.domid());
        String catalog = "domains/" + GUEST.uuid() + ".json";

        ServiceReference<DiskSnapshotProvider> before = awaitProvider(-1);
        context.getService(before).create(SnapshotRequest.allDisks(guest, "kept-in-first", ""));
        assertTrue(Files.exists(first.resolve(catalog)));

        Console admin = Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD);
        admin.run("config:property-set -p " + PID + " state.dir " + second);
        DiskSnapshotProvider moved = context.getService(awaitProvider(serviceId(before)));
        assertTrue("the new state directory starts empty", moved.list(guest).snapshots().isEmpty());
        moved.create(SnapshotRequest.allDisks(guest, "kept-in-second", ""));
        assertTrue(Files.exists(second.resolve(catalog)));
        assertEquals(List.of("kept-in-first", "kept-in-second"), dom0.liveSnapshots(GUEST, QCOW2));
        moved.delete(guest, "kept-in-second");

        ServiceReference<DiskSnapshotProvider> now = context.getServiceReference(DiskSnapshotProvider.class);
        admin.run("config:property-set -p " + PID + " state.dir " + first);
        DiskSnapshotProvider back = context.getService(awaitProvider(serviceId(now)));
        assertEquals(List.of("kept-in-first"), back.list(guest).snapshots().stream().map(SnapshotInfo::name).toList());
        back.delete(guest, "kept-in-first");
        assertEquals(List.of(), dom0.liveSnapshots(GUEST, QCOW2));
    }

    @Test
    public void aBadConfigurationIsRefusedWithOneLogLineNamingTheKeysAndThePreviousOneStaysInForce()
            throws Exception {
        org.osgi.service.cm.Configuration cfg = configurations.listConfigurations("(service.pid=" + PID + ")")[0];
        Dictionary<String, Object> good = cfg.getProperties();
        Path log = Path.of(System.getProperty("karaf.data"), "log", "karaf.log");
        long mark = Files.size(log);
        ServiceReference<DiskSnapshotProvider> before = awaitProvider(-1);

        Dictionary<String, Object> bad = copy(good);
        bad.put("parallelism", "0");
        bad.put("state.dir", "var/lib/xensnap");
        bad.put("qmp.reply.timeout.ms", "thirty seconds");
        cfg.update(bad);
        try {
            List<String> lines = awaitLogLines(log, mark, "configuration io.xensnap is invalid");
            assertEquals(lines.toString(), 1, lines.size());
            String line = lines.get(0);
            assertTrue(line, line.contains("ERROR"));
            assertTrue(line,
                    line.contains("it was not applied, xensnap keeps running with the previous configuration"));
            // the engine built on the previous settings goes on: not even re-created
            assertEquals(serviceId(before), serviceId(context.getServiceReference(DiskSnapshotProvider.class)));
            assertTrue("every component still up: " + states(), states().values().stream()
                    .allMatch(s -> s.equals("ACTIVE") || s.equals("SATISFIED")));
            context.getService(before).list(DomainRef.running(GUEST.domid()));
            assertTrue(line, line.contains("parallelism = 0: must be 1 to 64"));
            assertTrue(line, line.contains("state.dir = 'var/lib/xensnap': must be an absolute path"));
            assertTrue(line, line.contains("qmp.reply.timeout.ms"));
            String after = Files.readString(log, StandardCharsets.UTF_8).substring((int) mark);
            assertFalse("no stack trace of xensnap's\n" + after, after.contains("at io.xensnap."));
        } finally {
            cfg.update(good);
        }
        awaitProvider(-1);
        awaitTrue(() -> "every component ACTIVE again: " + states(), () -> states().values().stream()
                .allMatch(s -> s.equals("ACTIVE") || s.equals("SATISFIED")));
    }

    @Test
    public void eventsArriveWithEventAdminAndNothingBreaksWithoutIt() throws Exception {
        DomainRef guest = DomainRef.running(GUEST.domid());
        SnapshotEvents events = SnapshotEvents.listen(context);
        Bundle eventAdmin = context.getServiceReference(org.osgi.service.event.EventAdmin.class).getBundle();
        try {
            DiskSnapshotProvider provider = context.getService(awaitProvider(-1));
            provider.create(SnapshotRequest.allDisks(guest, "with-events", ""));
            events.awaitSuccess("CREATED", GUEST, "with-events", "xvda", "xvdb");

            eventAdmin.stop();
            awaitTrue(() -> "the publisher waits for an EventAdmin",
                    () -> unsatisfied("io.xensnap.internal.events.EventAdminPublisher").contains("eventAdmin"));
            provider = context.getService(awaitProvider(-1));
            provider.delete(guest, "with-events");
            provider.create(SnapshotRequest.allDisks(guest, "without-events", ""));
            assertEquals(List.of("without-events"),
                    provider.list(guest).snapshots().stream().map(SnapshotInfo::name).toList());

            eventAdmin.start();
            awaitTrue(() -> "the publisher is back", () -> "ACTIVE".equals(states()
                    .get("io.xensnap.internal.events.EventAdminPublisher")) || "SATISFIED".equals(states()
                    .get("io.xensnap.internal.events.EventAdminPublisher")));
            provider = context.getService(awaitProvider(-1));
            provider.delete(guest, "without-events");
            events.awaitSuccess("DELETED", GUEST, "without-events", "xvda", "xvdb");
            List<org.osgi.service.event.Event> rest = events.drain();
            assertTrue("nothing was delivered while EventAdmin was away: " + rest, rest.isEmpty());
        } finally {
            if (eventAdmin.getState() != Bundle.ACTIVE) {
                eventAdmin.start();
            }
            events.close();
        }
    }

    // ------------------------------------------------------------------------------------------------------ helpers

    private Map<String, String> states() {
        Map<String, String> out = new TreeMap<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(xensnapBundle())) {
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                out.put(d.name, switch (c.state) {
                    case ComponentConfigurationDTO.ACTIVE -> "ACTIVE";
                    case ComponentConfigurationDTO.SATISFIED -> "SATISFIED";
                    case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> "UNSATISFIED_REFERENCE";
                    case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> "UNSATISFIED_CONFIGURATION";
                    case ComponentConfigurationDTO.FAILED_ACTIVATION -> "FAILED_ACTIVATION: " + c.failure;
                    default -> "STATE " + c.state;
                });
            }
        }
        return out;
    }

    private List<String> unsatisfied(String component) {
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(xensnapBundle())) {
            if (d.name.equals(component)) {
                for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                    return Stream.of(c.unsatisfiedReferences).map((UnsatisfiedReferenceDTO r) -> r.name).toList();
                }
            }
        }
        return List.of();
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
                fail("no new DiskSnapshotProvider within 20 s; components: " + states());
            }
            Thread.sleep(50);
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
                return tail.lines().filter(l -> l.contains(text)).toList();
            }
            Thread.sleep(50);
        }
    }

    /** @param what the expectation; called only on failure, so it may describe the state at that moment */
    private static void awaitTrue(Supplier<String> what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(what.get() + " (not within 20 s)");
            }
            Thread.sleep(50);
        }
    }

    private static Dictionary<String, Object> copy(Dictionary<String, Object> d) {
        Dictionary<String, Object> c = new Hashtable<>();
        for (Enumeration<String> keys = d.keys(); keys.hasMoreElements(); ) {
            String k = keys.nextElement();
            c.put(k, d.get(k));
        }
        return c;
    }

    private Bundle xensnapBundle() {
        return bundle(BSN);
    }

    private Bundle bundle(String bsn) {
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + bsn + " is not installed");
    }

    private static String digestOfJar(Path jar) throws Exception {
        TreeMap<String, byte[]> entries = new TreeMap<>();
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (JarEntry e : Collections.list(jf.entries())) {
                if (e.getName().endsWith(".class")) {
                    try (InputStream in = jf.getInputStream(e)) {
                        entries.put(e.getName(), in.readAllBytes());
                    }
                }
            }
        }
        return digest(entries);
    }

    private static String digestOfBundle(Bundle bundle) throws Exception {
        TreeMap<String, byte[]> entries = new TreeMap<>();
        for (java.net.URL url : Collections.list(bundle.findEntries("/", "*.class", true))) {
            String name = url.getPath().startsWith("/") ? url.getPath().substring(1) : url.getPath();
            try (InputStream in = url.openStream()) {
                entries.put(name, in.readAllBytes());
            }
        }
        assertNotNull("bundle has no class files", entries.isEmpty() ? null : entries);
        return digest(entries);
    }

    private static String digest(TreeMap<String, byte[]> entries) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        entries.forEach((name, bytes) -> {
            md.update(name.getBytes(StandardCharsets.UTF_8));
            md.update(bytes);
        });
        StringBuilder sb = new StringBuilder(entries.size() + " classes ");
        for (byte b : md.digest()) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }
}
