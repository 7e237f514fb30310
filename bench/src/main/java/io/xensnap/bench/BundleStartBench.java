package io.xensnap.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.management.remote.JMXConnector;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;

/**
 * Item 5's bundle start: the xensnap bundle stopped and started again through Karaf's bundle MBean
 * ({@code org.apache.karaf:type=bundle,name=root}) in the bench's Karaf, timed from the start call until xensnap is
 * ready — its MBean registered again and {@code listSnapshots} of the big domain answered — with Karaf's state dir
 * holding a catalog of 10,000 snapshots, and with it empty, alternating.
 *
 * <p>The catalog is a shut-off domain's chain of 10,000 external snapshots of two real qcow2 disks whose overlay files
 * exist (empty): the reconcile that xensnap starts on its own thread at every activation then finds every view in
 * agreement, as on a healthy host, instead of logging 20,000 findings about snapshots the images do not hold (an
 * internal catalog like section 5's would need 10,000 real internal snapshots in each image, which takes qemu-img far
 * longer to make than this whole run).
 */
final class BundleStartBench {

    static final ObjectName BUNDLES = name("org.apache.karaf:type=bundle,name=root");
    static final String UUID = BenchHost.uuid(1500);

    private final BenchHost host;
    private final KarafHost karaf;
    private final Runs runs;
    private final int size;
    private Stats bigRegistered;
    private Stats bigReady;
    private Stats emptyRegistered;
    private Stats emptyReady;
    private Stats bigList;
    private long catalogBytes;

    BundleStartBench(BenchHost host, KarafHost karaf, Runs runs, int size) {
        this.host = host;
        this.karaf = karaf;
        this.runs = runs;
        this.size = size;
    }

    void run() throws Exception {
        Path domains = karaf.state().resolve("domains");
        Path big = karaf.state().resolve("domains.big");
        Path empty = karaf.state().resolve("domains.empty");
        writeCatalog(big);
        Files.createDirectories(empty);
        try (JMXConnector c = karaf.connect()) {
            MBeanServerConnection mbs = c.getMBeanServerConnection();
            String id = bundleId(mbs);
            List<Long> bReg = new ArrayList<>();
            List<Long> bReady = new ArrayList<>();
            List<Long> eReg = new ArrayList<>();
            List<Long> eReady = new ArrayList<>();
            List<Long> list = new ArrayList<>();
            // the catalogs of section 2's domains go aside for good: the state dir holds the big catalog or nothing
            stop(mbs, id);
            if (Files.exists(domains)) {
                Files.move(domains, karaf.state().resolve("domains.surfaces"));
            }
            boolean running = false;
            for (int i = 0; i < 2 * runs.total(); i++) {
                boolean withBig = i % 2 == 0;
                if (running) {
                    stop(mbs, id);
                }
                Files.move(withBig ? big : empty, domains);
                long t0 = System.nanoTime();
                mbs.invoke(BUNDLES, "start", new Object[] {id}, new String[] {String.class.getName()});
                long registered = KarafHost.awaitReady(mbs, UUID, t0 + TimeUnit.SECONDS.toNanos(120));
                long ready = System.nanoTime();
                running = true;
                boolean counts = runs.counts(i / 2);
                if (withBig) {
                    long l0 = System.nanoTime();
                    TabularData rows = (TabularData) KarafHost.list(mbs, UUID);
                    long l1 = System.nanoTime();
                    if (rows.size() != size) {
                        throw new IllegalStateException("listSnapshots gave " + rows.size() + " of " + size);
                    }
                    if (counts) {
                        bReg.add(registered - t0);
                        bReady.add(ready - t0);
                        list.add(l1 - l0);
                    }
                } else if (counts) {
                    eReg.add(registered - t0);
                    eReady.add(ready - t0);
                }
                stop(mbs, id);
                running = false;
                Files.move(domains, withBig ? big : empty);
            }
            // leave xensnap running, as it was found
            mbs.invoke(BUNDLES, "start", new Object[] {id}, new String[] {String.class.getName()});
            bigRegistered = Stats.ofNanos(bReg);
            bigReady = Stats.ofNanos(bReady);
            emptyRegistered = Stats.ofNanos(eReg);
            emptyReady = Stats.ofNanos(eReady);
            bigList = Stats.ofNanos(list);
        }
        System.out.printf("bundle start: %,d snapshots ready %s (MBean %s), empty ready %s (MBean %s); list over JMX"
                + " %s%n", size, bigReady.cell(), bigRegistered.cell(), emptyReady.cell(), emptyRegistered.cell(),
                bigList.cell());
    }

    /** Stops the bundle (synchronous in Karaf) and waits until the whiteboard has taken the MBean away. */
    private static void stop(MBeanServerConnection mbs, String id) throws Exception {
        mbs.invoke(BUNDLES, "stop", new Object[] {id}, new String[] {String.class.getName()});
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (mbs.isRegistered(KarafHost.SNAPSHOTS)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the snapshots MBean is still registered 30 s after bundle stop");
            }
            Thread.sleep(5);
        }
    }

    /** @return the bundle id of {@code io.xensnap}, from the bundle MBean's list */
    private static String bundleId(MBeanServerConnection mbs) throws Exception {
        TabularData all = (TabularData) mbs.getAttribute(BUNDLES, "Bundles");
        List<String> seen = new ArrayList<>();
        for (Object row : all.values()) {
            CompositeData b = (CompositeData) row;
            Object symbolic = b.containsKey("Symbolic Name") ? b.get("Symbolic Name") : null;
            if ("io.xensnap".equals(symbolic)) {
                return String.valueOf(b.get("ID"));
            }
            seen.add(String.valueOf(symbolic));
        }
        throw new IllegalStateException("no bundle io.xensnap among " + seen + " (keys "
                + all.getTabularType().getRowType().keySet() + ")");
    }

    private void writeCatalog(Path dir) throws Exception {
        List<DiskImage> disks = host.offlineDisks("vm1500", 2);
        Path overlays = Files.createDirectories(host.images().resolve("vm1500/overlays"));
        List<SnapshotInfo> snaps = new ArrayList<>(size);
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        String parent = null;
        for (int i = 0; i < size; i++) {
            String name = String.format(Locale.ROOT, "nightly-%05d", i);
            List<DiskSnapshot> ds = new ArrayList<>();
            for (DiskImage d : disks) {
                Path overlay = Files.createFile(overlays.resolve(d.vdev() + "." + name + ".qcow2"));
                ds.add(new DiskSnapshot(d.vdev(), SnapshotKind.EXTERNAL, d.image(), DiskFormat.QCOW2, overlay));
            }
            snaps.add(new SnapshotInfo(UUID, name, "nightly backup " + i, t.plusSeconds(3600L * i), parent, ds));
            parent = name;
        }
        // CatalogStore writes <state>/domains/<uuid>.json: build it beside, then take its domains/ directory
        Path build = Files.createDirectories(karaf.state().resolve("build"));
        CatalogStore store = new CatalogStore(build);
        store.save(new DomainCatalog(UUID, "vm1500", parent, disks, Optional.empty(), snaps));
        catalogBytes = Files.size(store.file(UUID));
        Files.move(store.file(UUID).getParent(), dir);
        Files.delete(build);
    }

    void report(Report out) {
        out.section("5. A catalog of many snapshots on one domain");
        out.para("**Bundle start in Karaf.** In the Karaf of section 2: the xensnap bundle is stopped and started"
                + " through Karaf's bundle MBean (`org.apache.karaf:type=bundle,name=root`, `stop`/`start` over"
                + " JMX), timed from the `start` call until `io.xensnap:type=snapshots` is registered again and"
                + " until `listSnapshots` of the big domain answered (with an empty state dir: answered with"
                + " `[NO_SUCH_DOMAIN]`). The state dir holds either a catalog of "
                + String.format(Locale.ROOT, "%,d", size) + " snapshots (" + String.format(Locale.ROOT, "%,d KiB",
                catalogBytes / 1024) + "; a shut-off domain, each snapshot external over its two qcow2 disks,"
                + " the overlay files present, so the reconcile xensnap starts at every activation finds nothing)"
                + " or nothing, alternating; " + runs.warmup() + " warm-up starts of each excluded, "
                + runs.measured() + " measured; ms median [p10–p90]. The reconcile runs on its own thread and is not"
                + " waited for.");
        out.table(List.of("state dir", "start → MBean registered", "start → list answered",
                        "listSnapshots over JMX, after the start"),
                List.of(List.of(String.format(Locale.ROOT, "%,d snapshots", size), bigRegistered.cell(),
                                bigReady.cell(), bigList.cell()),
                        List.of("empty", emptyRegistered.cell(), emptyReady.cell(), "–")));
        out.para("Karaf itself, launch of `bin/karaf daemon` until xensnap answered over JMX (state dir empty, one"
                + " launch): " + Stats.ms(karaf.launchToReady().median()) + " ms.");
    }

    private static ObjectName name(String n) {
        try {
            return new ObjectName(n);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalArgumentException(n, e);
        }
    }
}
