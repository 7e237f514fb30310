package io.xensnap.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import javax.inject.Inject;

import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.harness.RealXenstored;

/**
 * A schedule as an operator writes it, {@code etc/io.xensnap.schedule-<name>.cfg}, in a stock Karaf: Karaf's file
 * installer makes it a factory configuration, the schedule takes snapshots of the real guest every two seconds and
 * keeps the last ones of its own, an edit of the file takes effect while Karaf runs, and deleting the file stops it.
 * A schedule of external snapshots rolls the same way.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ScheduleIT {

    private static final TestDomain GUEST = new TestDomain(23, "scheduled");
    private static final String PREFIX = "rolling-";

    @Inject
    private DiskSnapshotProvider snapshots;

    @Inject
    private SessionFactory sessions;

    @Inject
    private org.osgi.framework.BundleContext context;

    @Configuration
    public Option[] config() {
        List<Option> o = KarafOptions.base();
        o.addAll(HostPeers.start(ScheduleIT.class, RealXenstored.Profile.CXENSTORED, GUEST).options());
        o.add(features(KarafOptions.xensnapFeatures(), "xensnap"));
        return o.toArray(new Option[0]);
    }

    @Test
    public void aCfgFileSchedulesSnapshotsAndItsEditAndRemovalTakeEffect() throws Exception {
        Path cfg = Path.of(System.getProperty("karaf.etc")).resolve("io.xensnap.schedule-rolling.cfg");
        DomainRef guest = DomainRef.running(GUEST.domid());
        java.util.concurrent.BlockingQueue<org.osgi.service.event.Event> runs =
                new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.Dictionary<String, Object> topics = new java.util.Hashtable<>();
        topics.put(org.osgi.service.event.EventConstants.EVENT_TOPIC, "io/xensnap/schedule/*");
        context.registerService(org.osgi.service.event.EventHandler.class, runs::add, topics);

        write(cfg, 3);
        org.osgi.service.event.Event ran = runs.poll(30, TimeUnit.SECONDS);
        assertTrue("a run announced: " + ran, ran != null && ran.getTopic().equals("io/xensnap/schedule/RAN")
                && "rolling".equals(ran.getProperty("schedule")) && ((String[]) ran.getProperty("created")).length == 1);
        await("three snapshots of the schedule's own, older ones deleted", () -> own(guest).size() == 3
                && schedules().contains("1 deleted"));
        Console admin = Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD);
        String listed = admin.run("snapshot:schedules --no-format");
        assertTrue(listed, listed.contains("rolling") && listed.contains("'*/2 * * * * *' UTC"));

        write(cfg, 1);
        await("the edited keep.last = 1 applied", () -> own(guest).size() == 1);

        Files.delete(cfg);
        await("the schedule gone with its file", () -> !schedules().contains("rolling"));
        // a run that had begun ends (it takes well under a second)
        Thread.sleep(2_000);
        List<String> left = own(guest);
        Thread.sleep(5_000);
        assertEquals("no run after the file was deleted", left, own(guest));
    }

    /**
     * A schedule of external snapshots of the raw disk rolls too: each run deletes the oldest, whose overlay the next
     * one froze, by merging that overlay down into the raw image. It keeps exactly keep.last, and the oldest one kept
     * freezes the raw image itself.
     */
    @Test
    public void aScheduleOfExternalSnapshotsRolls() throws Exception {
        Path cfg = Path.of(System.getProperty("karaf.etc")).resolve("io.xensnap.schedule-rollext.cfg");
        DomainRef guest = DomainRef.running(GUEST.domid());
        Path temp = cfg.resolveSibling("rollext.tmp");
        Files.writeString(temp, "domains = " + GUEST.name() + "\ncron = */2 * * * * *\nkind = external\n"
                + "disks = " + TestDomain.RAW + "\nkeep.last = 2\n", StandardCharsets.UTF_8);
        Files.move(temp, cfg, java.nio.file.StandardCopyOption.ATOMIC_MOVE);

        await("two snapshots kept", () -> own(guest, "rollext-").size() == 2);
        List<String> first = own(guest, "rollext-");
        await("rolled past the first two, two kept", () -> {
            List<String> now = own(guest, "rollext-");
            return now.size() == 2 && now.stream().noneMatch(first::contains);
        });
        Files.delete(cfg);
        await("the schedule gone with its file", () -> !schedules().contains("rollext"));
        Thread.sleep(2_000);
        List<SnapshotInfo> kept = snapshots.list(guest).snapshots().stream()
                .filter(s -> s.name().startsWith("rollext-")).toList();
        assertEquals(2, kept.size());
        assertEquals("the oldest kept freezes the raw image", "disk1.raw",
                kept.get(0).disks().get(0).image().getFileName().toString());
        assertEquals(kept.get(0).disks().get(0).overlay(), kept.get(1).disks().get(0).image());
    }

    private static void write(Path cfg, int keepLast) throws Exception {
        // written beside and renamed: the file installer must never read half a file
        Path temp = cfg.resolveSibling("rolling.tmp");
        Files.writeString(temp, "domains = " + GUEST.name() + "\ncron = */2 * * * * *\nkind = internal\n"
                + "disks = " + TestDomain.QCOW2 + "\nkeep.last = " + keepLast + "\n", StandardCharsets.UTF_8);
        Files.move(temp, cfg, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private List<String> own(DomainRef guest) {
        return own(guest, PREFIX);
    }

    private List<String> own(DomainRef guest, String prefix) {
        try {
            return snapshots.list(guest).snapshots().stream().map(SnapshotInfo::name)
                    .filter(n -> n.startsWith(prefix)).toList();
        } catch (io.xensnap.api.SnapshotException e) {
            throw new AssertionError(e.codedMessage(), e);
        }
    }

    private String schedules() {
        try {
            return Console.login(sessions, KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD)
                    .run("snapshot:schedules --no-format");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 60 s: " + what);
            }
            Thread.sleep(250);
        }
    }
}
