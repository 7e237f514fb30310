package io.xensnap.acceptance;

import static io.xensnap.acceptance.Acceptance.log;
import static io.xensnap.acceptance.Acceptance.minutes;
import static io.xensnap.acceptance.Acceptance.secs;
import static io.xensnap.acceptance.Acceptance.sh;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.xensnap.harness.XenBed;

/**
 * Domain snapshots (memory and disks at one instant) on a real Xen 4.17 host (docs/acceptance.md): xensnap in the
 * stock Karaf of the host the acceptance classes share ({@link Dom0Host}), with {@code xl.path} configured, driven
 * through Karaf's console. The guest is the witness:
 * its init keeps its record counter in memory and writes each record to both disks, so after a revert the counter it
 * goes on from says which instant its memory came back from, and the disks say which instant they came back from.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(Dom0Host.Shared.class)
@Order(2)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DomainSnapshotIT {

    private static final String DOMU = "dsn";
    private static final String A = "/images/dsn-a.qcow2";
    private static final String B = "/images/dsn-b.qcow2";
    private static final String B_M2 = "/images/dsn-b.m2.qcow2";
    /** the blkback disk of steps 8 and 9: a raw file on a loop device, and its overlay */
    private static final String C = "/images/dsn-c.raw";
    private static final String C_M3 = "/images/dsn-c.m3.qcow2";
    private static final int XVDC = 51744;
    private static final Pattern WROTE = Pattern.compile("^GUEST wrote (\\d+)$", Pattern.MULTILINE);
    /** the guest's memory: what every {@code xl save} and {@code xl restore} of these steps writes and reads */
    private static final int MEMORY_MIB = Guest.PV_MEMORY_MIB;

    private XenBed bed;
    private Dom0Karaf karaf;
    private Guest guest;
    private Dom0View view;
    private String uuid;
    private String image;
    /** the records the guest had written when m1's create was sent and when it returned */
    private long m1Before;
    private long m1After;
    private String loop;

    private Dom0Host host;

    @RegisterExtension
    final FailureReport report = new FailureReport(() -> bed, () -> host == null ? null : host.karafAsIs());

    @BeforeAll
    void startTheGuest(Dom0Host shared) {
        long t0 = System.nanoTime();
        host = shared;
        bed = host.bed();
        view = host.view();
        // started while the first class of the run waited for Karaf, or now
        guest = Acceptance.join(host.early(DomainSnapshotIT.class, DomainSnapshotIT::startGuest));
        guest.unpause();
        uuid = guest.uuid();
        image = image("m1");
        guest.awaitReady(1, minutes(4));
        log("guest " + uuid + " running after " + secs(t0));
        karaf = host.karaf();
    }

    /**
     * Makes the guest's disks, creates it and lets it boot, then pauses it until the class runs
     * ({@link Dom0Host#early}).
     */
    static Guest startGuest(XenBed bed) {
        Guest guest = new Guest(bed, DOMU, UUID.randomUUID().toString());
        sh(bed, minutes(2), "set -e; for f in " + A + " " + B + "; do qemu-img create -q -f qcow2 $f 64M; done");
        guest.create(guest.writeConfig(List.of(qdisk("xvda", A), qdisk("xvdb", B)), List.of("xvda", "xvdb")));
        guest.awaitReady(1, minutes(4));
        guest.pause();
        return guest;
    }

    /** The host outlives this class; the guest does not, nor does the loop device of step 8. */
    @AfterAll
    void destroyTheGuest() {
        if (guest != null) {
            guest.destroy();
        }
        if (loop != null && bed.isAlive()) {
            bed.run(minutes(1), "losetup", "-d", loop);
        }
    }

    /**
     * The save fails as on a full disk: the save images' directory of this domain is a 1 MiB tmpfs. xl resumes the
     * guest itself; xensnap must leave it running, remove the partial image and change nothing else.
     */
    @Test
    @Order(1)
    void aSaveThatFailsForAFullDiskLeavesTheDomainRunningAndNothingBehind() {
        int domid = guest.domid();
        String dir = "/var/lib/xensnap/memory/" + uuid;
        sh(bed, minutes(1), "mkdir -p " + dir + " && mount -t tmpfs -o size=1m,mode=0700 full " + dir);
        try {
            String catalog = view.catalog(uuid);
            long before = guest.awaitWritten(2, minutes(2));
            String out = karaf.execute("snapshot:create --memory " + domid + " f1", minutes(5));
            assertThat(out).as("the console").contains("HYPERVISOR_ERROR", "xl save -p " + domid)
                    .doesNotContain("Created snapshot");
            assertThat(state(DOMU)).as("xl list: running, not paused").doesNotContain("p");
            assertThat(sh(bed, minutes(1), "ls -A " + dir)).as("no partial image left").isEmpty();
            assertThat(view.catalog(uuid)).as("the catalog").isEqualTo(catalog);
            assertThat(view.internalSnapshots(A)).doesNotContain("f1");
            assertThat(guest.awaitWritten(before + 2, minutes(2))).as("the guest goes on").isGreaterThan(before);
        } finally {
            sh(bed, minutes(1), "umount " + dir + "; rmdir " + dir + " 2>/dev/null; true");
        }
    }

    @Test
    @Order(2)
    void aSnapshotWithMemoryPausesTheDomainOnlyWhileItIsTaken() {
        int domid = guest.domid();
        m1Before = guest.awaitWritten(3, minutes(2));
        String out = karaf.execute("snapshot:create --memory " + domid + " m1", minutes(5));
        m1After = guest.lastWritten().orElseThrow();
        assertThat(out).as("the console").contains("Created snapshot m1", "memory", image).doesNotContain("Error");

        assertThat(state(DOMU)).as("xl list: the domain runs again, not paused").doesNotContain("p");
        String[] stat = sh(bed, minutes(1), "stat -c '%a %U %s' " + image + "; stat -c '%a' $(dirname " + image
                + ")").split("\\s+");
        assertThat(stat).as("the save image: root's only; its directory").startsWith("600", "root").endsWith("700")
                .hasSize(4);
        // xl writes every page of the guest and a little more (its config, the page tables' frames)
        assertThat(Long.parseLong(stat[2])).as("the save image's size: about the guest's " + MEMORY_MIB + " MiB")
                .isBetween(MEMORY_MIB * 1024L * 1024 * 3 / 4, MEMORY_MIB * 1024L * 1024 * 3 / 2);
        assertThat(sh(bed, minutes(1), "head -c 27 " + image)).isEqualTo("Xen saved domain, xl format");
        assertThat(view.internalSnapshots(A)).contains("m1");
        assertThat(view.internalSnapshots(B)).contains("m1");
        assertThat(view.catalog(uuid)).contains("\"m1\"", image, "\"memory\"").doesNotContain("\"pending\"");
        assertThat(karaf.execute("snapshot:info " + domid + " m1", minutes(1))).contains("Memory", "bytes in " + image);

        long later = guest.awaitWritten(m1After + 2, minutes(2));
        assertThat(later).as("the guest goes on after the snapshot").isGreaterThan(m1After);
        Matcher paused = Pattern.compile("domain \\d+ runs again, (\\d+) ms after xl save -p began")
                .matcher(view.karafLog());
        assertThat(paused.find()).as("xensnap logs how long the domain was paused").isTrue();
        // for comparison, not a target checked here: xl save -p of the same domain alone, then its unpause
        Duration alone = view.timed("xl save -p " + DOMU + " /var/lib/xensnap/alone.xlsave && xl unpause " + DOMU
                + " && rm /var/lib/xensnap/alone.xlsave");
        log("m1 taken between records " + m1Before + " and " + m1After + "; the domain was paused for "
                + paused.group(1) + " ms (xl save -p and unpause alone: " + alone.toMillis() + " ms)");
    }

    /**
     * A save image damaged since the snapshot (one byte of its migration stream flipped, far past xl's header): the
     * revert checks the image's digest before it destroys anything, so the domain keeps running as it was.
     */
    @Test
    @Order(3)
    void aSaveImageDamagedSinceTheSnapshotIsRefusedAndTheDomainRunsOn() {
        int domid = guest.domid();
        String catalog = view.catalog(uuid);
        String flip = "perl -e 'open(F, \"+<\", $ARGV[0]) or die $!; seek(F, 50000000, 0); read(F, $b, 1);"
                + " seek(F, 50000000, 0); print F chr(ord($b) ^ 0xff); close(F) or die $!' " + image;
        sh(bed, minutes(1), flip);
        try {
            long before = guest.awaitWritten(guest.lastWritten().orElseThrow() + 1, minutes(2));
            String out = karaf.execute("snapshot:revert " + domid + " m1", minutes(5));
            assertThat(out).as("the console").contains("INVALID_STATE", "has changed since the snapshot was taken",
                    "nothing changed").doesNotContain("Reverted");
            assertThat(guest.domid()).as("the same domain").isEqualTo(domid);
            assertThat(state(DOMU)).as("xl list: running").doesNotContain("p");
            assertThat(view.catalog(uuid)).isEqualTo(catalog);
            assertThat(guest.awaitWritten(before + 2, minutes(2))).as("the guest goes on").isGreaterThan(before);
        } finally {
            sh(bed, minutes(1), flip);
        }
    }

    @Test
    @Order(4)
    void revertBringsTheRunningDomainBackToTheSnapshotsInstantMemoryAndDisks() {
        int domidBefore = guest.domid();
        // far enough past the snapshot that the resumed guest cannot have written this record again when looked at
        long written = guest.awaitWritten(m1After + 12, minutes(3));
        assertThat(view.recordIn(A, "qcow2", written)).as("record " + written + " on xvda before the revert").isTrue();
        int consoleBefore = guest.console().length();

        String out = karaf.execute("snapshot:revert " + domidBefore + " m1", minutes(6));
        // first, before the resumed guest could write that record again (it resumes at least 11 records earlier)
        boolean onA = view.recordIn(A, "qcow2", written);
        boolean onB = view.recordIn(B, "qcow2", written);
        assertThat(out).contains("Reverted to snapshot m1", "runs again").doesNotContain("Error");
        assertThat(onA).as("xvda is back at m1: record " + written + " is gone").isFalse();
        assertThat(onB).as("xvdb is back at m1").isFalse();

        int domid = guest.domid();
        assertThat(domid).as("xl restore makes a new domain").isNotEqualTo(domidBefore);
        assertThat(state(DOMU)).as("xl list: it runs").doesNotContain("p");
        assertThat(view.params(domid, 51712)).isEqualTo("qcow2:" + A);
        assertThat(view.libxlDisks(DOMU)).containsEntry("xvda", "qcow2 " + A).containsEntry("xvdb", "qcow2 " + B);

        // the guest resumes from its saved memory: no boot, and its counter goes on from the snapshot's value
        long first = firstWrittenAfter(consoleBefore, written);
        assertThat(guest.console().substring(consoleBefore)).as("a restore resumes, the guest does not boot")
                .doesNotContain("GUEST BOOT");
        assertThat(first).as("the first record after the revert continues from m1's instant, not from " + written)
                .isGreaterThan(m1Before).isLessThanOrEqualTo(m1After + 1);
        long next = guest.awaitWritten(first + 2, minutes(2));
        assertThat(view.recordIn(A, "qcow2", next)).as("its new writes reach the reverted image").isTrue();
        log("reverted: the guest went on from record " + first + " (m1 between " + m1Before + " and " + m1After
                + ", " + written + " before the revert)");
    }

    @Test
    @Order(5)
    void reconcileFindsEveryViewInAgreementAfterTheRevert() {
        assertThat(karaf.execute("snapshot:reconcile " + guest.domid(), minutes(3))).isEqualTo(uuid + " clean");
    }

    @Test
    @Order(6)
    void deleteRemovesTheSaveImage() {
        String out = karaf.execute("snapshot:delete " + guest.domid() + " m1", minutes(3));
        assertThat(out).doesNotContain("Error");
        assertThat(view.exists(image)).as("the save image").isFalse();
        assertThat(view.internalSnapshots(A)).doesNotContain("m1");
        assertThat(view.catalog(uuid)).doesNotContain("\"m1\"");
    }

    /**
     * A snapshot with memory whose second disk is external: the save image's config names xvdb's image as it was,
     * which the snapshot freezes. The revert must restore the domain on a fresh overlay on that frozen image, never on
     * the image itself: xensnap hands xl a copy of the save image whose config names the reverted images.
     */
    @Test
    @Order(7)
    void aSnapshotWithMemoryAndAnExternalDiskRevertsOntoAFreshOverlayNeverTheFrozenImage() {
        int domid = guest.domid();
        long before = guest.awaitWritten(guest.lastWritten().orElseThrow() + 2, minutes(2));
        String out = karaf.execute("snapshot:create --memory --disks xvda:internal,xvdb:external:" + B_M2 + " "
                + domid + " m2", minutes(5));
        long after = guest.lastWritten().orElseThrow();
        assertThat(out).as("the console").contains("Created snapshot m2").doesNotContain("Error");
        assertThat(view.params(domid, 51728)).as("xvdb runs on the overlay").isEqualTo("qcow2:" + B_M2);
        String frozen = view.sha256(B);
        long written = guest.awaitWritten(after + 12, minutes(3));
        assertThat(view.recordIn(B_M2, "qcow2", written)).as("record " + written + " in the overlay").isTrue();
        int consoleBefore = guest.console().length();

        String reverted = karaf.execute("snapshot:revert " + domid + " m2", minutes(6));
        Matcher fresh = Pattern.compile("xvdb\\s+(/\\S+) \\(qcow2\\)").matcher(reverted);
        assertThat(fresh.find()).as("xvdb's image in: " + reverted).isTrue();
        String top = fresh.group(1);
        // first, before the resumed guest could write that record again: the overlay holds nothing after m2
        boolean writtenInTop = view.recordIn(top, "qcow2", written);
        assertThat(reverted).contains("Reverted to snapshot m2", "runs again").doesNotContain("Error");
        // a revert replaces an overlay no other snapshot froze by a fresh one at the same path
        assertThat(top).as("never the frozen image").isNotEqualTo(B);
        assertThat(writtenInTop).as("a fresh overlay: record " + written + " written after m2 is gone").isFalse();
        int now = guest.domid();
        assertThat(state(DOMU)).as("xl list: it runs").doesNotContain("p");
        assertThat(view.params(now, 51728)).as("xenstore: the restored domain's xvdb").isEqualTo("qcow2:" + top);
        assertThat(view.libxlDisks(DOMU)).as("libxl's config of the restored domain")
                .containsEntry("xvdb", "qcow2 " + top).containsEntry("xvda", "qcow2 " + A);
        assertThat(view.chain(top)).as("a fresh overlay on the frozen image").containsExactly(top + " qcow2",
                B + " qcow2");
        assertThat(view.exists(image("m2") + ".restore")).as("the copy xl restored from").isFalse();

        long first = firstWrittenAfter(consoleBefore, written);
        assertThat(first).as("the guest goes on from m2's instant").isGreaterThan(before)
                .isLessThanOrEqualTo(after + 1);
        long next = guest.awaitWritten(guest.lastWritten().orElseThrow() + 2, minutes(2));
        assertThat(view.recordIn(top, "qcow2", next)).as("its new writes land in the fresh overlay").isTrue();
        assertThat(view.sha256(B)).as("the frozen image, untouched by the restored domain").isEqualTo(frozen);
        assertThat(view.recordIn(B, "qcow2", written)).as("nothing after m2 in the frozen image").isFalse();
        assertThat(karaf.execute("snapshot:reconcile " + now, minutes(3))).isEqualTo(uuid + " clean");
        log("m2 (external xvdb) taken between records " + before + " and " + after + "; reverted onto " + top
                + ", going on from " + first);
    }

    /**
     * A disk blkback serves (phy: a raw file on a loop device, attached with {@code xl block-attach}) of the running
     * domain: blkback cannot switch to an overlay, so the snapshot with memory saves the domain, destroys it, makes the
     * overlay on the device offline and restores the domain from a copy of the save image whose config names the
     * overlay as a qdisk. The guest's block frontend connects to its new backend; the device stays as it was.
     */
    @Test
    @Order(8)
    void aBlkbackDiskGetsItsOverlayThroughSaveAndRestore() {
        loop = sh(bed, minutes(1), "modprobe loop 2>/dev/null; truncate -s 16M " + C + "; losetup -f --show " + C)
                .strip();
        sh(bed, minutes(1), "qemu-io -f raw -c 'write -P 0xc3 0 1M' " + loop + " >/dev/null");
        int domid = guest.domid();
        bed.run(minutes(2), "xl", "block-attach", DOMU, "phy:" + loop + ",xvdc,w").orThrow();
        // libxl stores no backend for it (it chooses blkback for a block device at attach); xenstore shows blkback
        assertThat(view.libxlDisk(DOMU, "xvdc")).as("libxl's xvdc before").isEqualTo(" raw " + loop);
        assertThat(bed.run(minutes(1), "xenstore-exists", "/local/domain/0/backend/vbd/" + domid + "/" + XVDC)
                .exitCode()).as("blkback serves xvdc").isZero();
        String device = view.sha256(loop);
        long before = guest.awaitWritten(guest.lastWritten().orElseThrow() + 2, minutes(2));

        String out = karaf.execute("snapshot:create --memory --disks xvda:internal,xvdb:internal,xvdc:external:"
                + C_M3 + " " + domid + " m3", minutes(8));
        assertThat(out).as("the console").contains("Created snapshot m3").doesNotContain("Error");
        int now = guest.domid();
        assertThat(now).as("xl restore makes a new domain").isNotEqualTo(domid);
        assertThat(state(DOMU)).as("xl list: it runs").doesNotContain("p");
        assertThat(view.libxlDisk(DOMU, "xvdc")).as("libxl: xvdc is a qdisk on the overlay").isEqualTo("qdisk qcow2 "
                + C_M3);
        assertThat(view.params(now, XVDC)).as("xenstore: QEMU serves xvdc").isEqualTo("qcow2:" + C_M3);
        assertThat(sh(bed, minutes(1), "xenstore-read /local/domain/" + now + "/device/vbd/" + XVDC + "/state")
                .strip()).as("the guest's block frontend connected to its new backend").isEqualTo("4");
        assertThat(view.qemuHolds(now, C_M3)).as("the domain's QEMU has the overlay open").isTrue();
        assertThat(view.chain(C_M3)).as("the overlay on the device").containsExactly(C_M3 + " qcow2", loop + " raw");
        assertThat(view.exists(image("m3") + ".restore")).as("the copy xl restored from").isFalse();
        assertThat(view.catalog(uuid)).contains("\"m3\"", image("m3")).doesNotContain("\"pending\"");
        assertThat(guest.awaitWritten(guest.lastWritten().orElseThrow() + 2, minutes(2)))
                .as("the guest goes on after its restore").isGreaterThan(before);
        assertThat(view.sha256(loop)).as("the device, frozen").isEqualTo(device);
        assertThat(karaf.execute("snapshot:reconcile " + now, minutes(3))).isEqualTo(uuid + " clean");
        Matcher down = Pattern.compile("saved and destroyed for snapshot m3").matcher(view.karafLog());
        assertThat(down.find()).as("xensnap logs the save and destroy").isTrue();
    }

    /** The revert to that snapshot restores xvdc as a qdisk on a fresh overlay on the device, never as phy. */
    @Test
    @Order(9)
    void revertToTheBlkbackSnapshotRestoresTheDiskOnAFreshOverlay() {
        int domid = guest.domid();
        String device = view.sha256(loop);
        String reverted = karaf.execute("snapshot:revert " + domid + " m3", minutes(8));
        assertThat(reverted).contains("Reverted to snapshot m3", "runs again").doesNotContain("Error");
        Matcher fresh = Pattern.compile("xvdc\\s+(/\\S+) \\(qcow2\\)").matcher(reverted);
        assertThat(fresh.find()).as("xvdc's image in: " + reverted).isTrue();
        String top = fresh.group(1);
        int now = guest.domid();
        assertThat(state(DOMU)).as("xl list: it runs").doesNotContain("p");
        assertThat(view.libxlDisk(DOMU, "xvdc")).as("libxl: a qdisk on the fresh overlay")
                .isEqualTo("qdisk qcow2 " + top);
        assertThat(view.chain(top)).containsExactly(top + " qcow2", loop + " raw");
        assertThat(sh(bed, minutes(1), "xenstore-read /local/domain/" + now + "/device/vbd/" + XVDC + "/state")
                .strip()).as("the frontend connected").isEqualTo("4");
        assertThat(view.sha256(loop)).as("the device, frozen").isEqualTo(device);
        assertThat(karaf.execute("snapshot:reconcile " + now, minutes(3))).isEqualTo(uuid + " clean");
    }

    /**
     * A disk-only snapshot, then {@code revert --restart}: the running domain is destroyed, its disks go back, and it
     * boots again from the config the snapshot kept (an xl.cfg xensnap writes from libxl's JSON and has xl's dry run
     * check first). The guest boots — no memory was kept — and finds on its disks the records of the snapshot's
     * instant; libxl's config names the same disks as before, the qdisk on the device's overlay included.
     */
    @Test
    @Order(10)
    void revertWithRestartBootsTheDomainFromTheKeptConfigOnTheRevertedDisks() {
        int domid = guest.domid();
        Map<String, String> disksBefore = view.libxlDisks(DOMU);
        long before = guest.awaitWritten(guest.lastWritten().orElseThrow() + 1, minutes(2));
        String out = karaf.execute("snapshot:create " + domid + " d1", minutes(5));
        long after = guest.lastWritten().orElseThrow();
        assertThat(out).as("the console").contains("Created snapshot d1").doesNotContain("Error");
        long written = guest.awaitWritten(after + 4, minutes(2));
        int boots = guest.console().split("GUEST BOOT", -1).length - 1;

        String reverted = karaf.execute("snapshot:revert --restart " + domid + " d1", minutes(8));
        assertThat(reverted).contains("Reverted to snapshot d1 and started the domain again").doesNotContain("Error");
        int now = guest.domid();
        assertThat(now).as("xl create makes a new domain").isNotEqualTo(domid);
        assertThat(state(DOMU)).as("xl list: it runs").doesNotContain("p");
        String boot = guest.awaitReady(boots + 1, minutes(4));
        long found = guest.found(boots + 1, "xvda");
        assertThat(found).as("xvda holds what it held at d1's instant (written " + written + " before the revert): "
                + boot).isBetween(before, after).isLessThan(written);
        // one transaction for both disks; the guest writes a round's record to xvda, then to xvdb
        assertThat(guest.found(boots + 1, "xvdb")).as("xvdb too").isBetween(found - 1, found);
        assertThat(view.libxlDisks(DOMU)).as("libxl's config names the same disks").isEqualTo(disksBefore);
        assertThat(sh(bed, minutes(1), "xenstore-read /local/domain/" + now + "/device/vbd/" + XVDC + "/state")
                .strip()).as("xvdc, the qdisk on the device's overlay, connected").isEqualTo("4");
        assertThat(view.exists("/var/lib/xensnap/config/" + uuid + "/d1.xl.cfg")).as("the xl.cfg handed to xl")
                .isFalse();
        assertThat(karaf.execute("snapshot:list " + now, minutes(1))).as("the same uuid: its snapshots")
                .contains("d1", "m3");
        assertThat(karaf.execute("snapshot:reconcile " + now, minutes(3))).isEqualTo(uuid + " clean");
        log("revert --restart: the guest booted again and found record " + found + " (d1 taken between " + before
                + " and " + after + ", " + written + " before the revert)");
    }

    private String image(String snapshot) {
        return "/var/lib/xensnap/memory/" + uuid + "/" + snapshot + ".xlsave";
    }

    /** The six state flags {@code xl list} prints for {@code domain}, e.g. {@code -b----}. */
    private String state(String domain) {
        String[] lines = bed.run(minutes(1), "xl", "list", domain).orThrow().stdout().strip().split("\n");
        String[] cols = lines[lines.length - 1].trim().split("\\s+");
        return cols[cols.length - 2];
    }

    /**
     * The first record the guest reports written after {@code offset} of its console log that is not above
     * {@code last}: the guest went on writing while the revert began, the resumed guest starts lower again.
     */
    private long firstWrittenAfter(int offset, long last) {
        long deadline = System.nanoTime() + minutes(2).toNanos();
        while (true) {
            Matcher m = WROTE.matcher(guest.console().substring(offset));
            while (m.find()) {
                long n = Long.parseLong(m.group(1));
                if (n <= last) {
                    return n;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the guest wrote nothing after the revert:\n" + guest.console());
            }
            Acceptance.sleep(Guest.POLL_MS);
        }
    }

    private static String qdisk(String vdev, String target) {
        return "format=qcow2,vdev=" + vdev + ",access=rw,backendtype=qdisk,target=" + target;
    }
}
