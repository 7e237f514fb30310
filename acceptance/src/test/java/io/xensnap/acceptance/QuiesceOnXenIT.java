package io.xensnap.acceptance;

import static io.xensnap.acceptance.Acceptance.log;
import static io.xensnap.acceptance.Acceptance.minutes;
import static io.xensnap.acceptance.Acceptance.secs;
import static io.xensnap.acceptance.Acceptance.sh;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

import io.xensnap.harness.AgentGuestImage;
import io.xensnap.harness.XenBed;

/**
 * Quiesced snapshots on a real Xen 4.17 host (docs/acceptance.md): a PV guest runs Debian's {@code qemu-ga} on the
 * Xen console of a libxl channel ({@code qga-guest-init} beside this class), which the domain's device model serves as a
 * UNIX socket in dom0. The guest appends to a file on xvdb without syncing, and reports each append on its console
 * after it returned, so the console shows when the guest was frozen, and the snapshot's copy of the file shows whether
 * the freeze put the guest's page cache on the disk.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(Dom0Host.Shared.class)
@Order(3)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QuiesceOnXenIT {

    private static final String DOMU = "qsn";
    private static final String B = "/images/qsn-b.qcow2";
    private static final String INITRD = "/images/qga-initrd.gz";
    private static final String SOCKET = "/var/run/xen/qga-" + DOMU + ".sock";
    /** the guest's control channel, through which the faults below stop its agent */
    private static final String CONTROL = "/var/run/xen/ctl-" + DOMU + ".sock";
    /** the state of the faults' xensnap (a JVM of its own beside Karaf's, which keeps its state in /var/lib/xensnap) */
    private static final String FAULTS_STATE = "/var/lib/xensnap-faults";
    private static final Pattern QUIESCED = Pattern.compile("^quiesced (yes|no) (\\d+)$", Pattern.MULTILINE);
    private static final Pattern WROTE = Pattern.compile("^GUEST W (\\d+) ([0-9.]+)$", Pattern.MULTILINE);
    /** how long the watchdog step keeps the creating thread stuck: twice the watchdog's bound */
    private static final long STUCK_MS = 2 * ProviderMain.QUIESCE.maxFreeze().toMillis();

    private XenBed bed;
    private Guest guest;
    private Dom0Host host;
    private Dom0Provider faults;

    @RegisterExtension
    final FailureReport report = new FailureReport(() -> bed, () -> host == null ? null : host.karafAsIs());

    @BeforeAll
    void startTheAgentGuest(Dom0Host shared) {
        long t0 = System.nanoTime();
        host = shared;
        bed = host.bed();
        // started while the first class of the run waited for Karaf, or now
        Started started = Acceptance.join(host.early(QuiesceOnXenIT.class, QuiesceOnXenIT::startGuest));
        guest = started.guest();
        faults = started.faults();
        guest.unpause();
        awaitWrites(writes().size() + 3, minutes(4));
        faults.awaitReady(minutes(5));
        log("agent guest running, the faults' xensnap up after " + secs(t0));
    }

    /** The agent guest, created, and the faults' xensnap, starting. */
    record Started(Guest guest, Dom0Provider faults) {
    }

    /**
     * Makes the agent guest's initramfs and disk, starts the faults' xensnap, creates the guest and lets it boot, then
     * pauses it until the class runs ({@link Dom0Host#early}); the faults' xensnap is not waited for.
     */
    static Started startGuest(XenBed bed) {
        bed.put(AgentGuestImage.cached().agentPackage(), "/root/qemu-guest-agent.deb", "0644");
        bed.put(resource("qga-guest-init"), "/root/qga-guest-init", "0755");
        bed.put(resource("qga-initramfs"), "/root/qga-initramfs", "0755");
        bed.put(resource("qga-client"), "/root/qga-client", "0755");
        log("agent guest's initramfs: " + sh(bed, minutes(3), "/root/qga-initramfs /root/qemu-guest-agent.deb"
                + " /root/qga-guest-init " + INITRD + " && ls -l " + INITRD).replace('\n', ' '));
        sh(bed, minutes(1), "qemu-img create -q -f qcow2 " + B + " 32M");
        // the faults' JVM starts while the guest boots (a JVM's start under TCG takes the better part of a minute)
        Dom0Provider faults = Dom0Provider.start(bed, "xensnap-faults", List.of(FAULTS_STATE, CONTROL));
        Guest guest = new Guest(bed, DOMU, UUID.randomUUID().toString(), "pv", INITRD);
        // Debian's xl 4.17 gives the first channel devid 0, the primary console's: a placeholder takes it
        guest.create(guest.writeConfig(List.of("format=qcow2,vdev=xvdb,access=rw,backendtype=qdisk,target=" + B),
                List.of("xvdb"), List.of("channel = [ \"name=placeholder.devid0,connection=socket,path="
                        + "/var/run/xen/unused-" + DOMU + ".sock\", \"name=org.qemu.guest_agent.0,connection=socket,"
                        + "path=" + SOCKET + "\", \"name=io.xensnap.test.control,connection=socket,path=" + CONTROL
                        + "\" ]")));
        guest.awaitSaid("GUEST READY", minutes(4));
        guest.pause();
        return new Started(guest, faults);
    }

    @AfterAll
    void destroyTheGuest() {
        if (faults != null) {
            faults.close();
        }
        if (guest != null) {
            guest.destroy();
        }
    }

    /** A plain client in dom0 talks to the agent through the socket the domain's QEMU serves for the channel. */
    @Test
    @Order(1)
    void theAgentAnswersOverThePvChannelFromDom0() {
        long t0 = System.nanoTime();
        assertThat(guest.console()).as("the guest's console").contains("GUEST AGENT")
                .doesNotContain("GUEST CHANNEL missing", "GUEST MOUNT failed", "failed");
        assertThat(agent(0, "guest-fsfreeze-status")).containsExactly("\"thawed\"");
        List<String> info = agent(0, "guest-info");
        assertThat(info.get(0)).as("guest-info").contains("\"version\": \"7.2", "guest-fsfreeze-freeze");
        log("the agent answered from dom0 (" + secs(t0) + ")");
    }

    /**
     * The same client freezes the guest's file systems for a few seconds: the guest's appends stall until the thaw.
     * This is the agent's own freeze, without xensnap: it shows that what the console says is the freeze.
     */
    @Test
    @Order(2)
    void aFreezeFromDom0StallsTheGuestsWriterUntilTheThaw() {
        long t0 = System.nanoTime();
        int before = writes().size();
        List<String> out;
        List<String> thaw;
        try {
            out = agent(4, "guest-fsfreeze-freeze", "guest-fsfreeze-status");
        } finally {
            // the client waited 4 s after its commands; the agent answers the thaw on a fresh connection, also when
            // the freeze's answer was not what this test expects (a guest left frozen would fail every later step)
            thaw = agent(0, "guest-fsfreeze-thaw", "guest-fsfreeze-status");
        }
        assertThat(out).as("freeze, status").hasSize(2);
        assertThat(Integer.parseInt(out.get(0))).as("file systems frozen").isPositive();
        assertThat(out.get(1)).isEqualTo("\"frozen\"");
        assertThat(thaw).as("thaw, status").hasSize(2);
        assertThat(thaw.get(1)).isEqualTo("\"thawed\"");
        awaitWrites(before + 12, minutes(2));
        double gap = longestGap(before);
        assertThat(gap).as("the longest pause between two appends after the freeze (s)").isGreaterThan(3.5);
        log("frozen from dom0: the guest's appends paused for " + gap + " s (the step took " + secs(t0) + ")");
    }

    /**
     * Through xensnap, a {@code never} snapshot first: it holds none of the appends the guest has not synced (the
     * guest's page cache is not on the disk). Then {@code require}: xensnap freezes the guest, the snapshot holds every
     * append the guest had made before it, the guest is thawed and writes on.
     */
    @Test
    @Order(3)
    void aQuiescedSnapshotHoldsTheUnsyncedAppendsAndTheGuestIsThawed() {
        int domid = guest.domid();
        Dom0Karaf karaf = host.karaf();
        long t0 = System.nanoTime();
        // a freeze syncs: the appends since the previous step's thaw are in the page cache alone
        long last0 = awaitWrites(writes().size() + 4, minutes(2));
        String never = karaf.execute("snapshot:create --quiesce never " + domid + " q0", minutes(5));
        assertThat(never).as("the console").contains("Created snapshot q0", "quiesced: no").doesNotContain("Error");
        List<String> q0 = snapshotLog("q0");

        long last1 = awaitWrites(writes().size() + 2, minutes(2));
        int lines = writes().size();
        String out = karaf.execute("snapshot:create --quiesce require " + domid + " q1", minutes(5));
        assertThat(out).as("the console").contains("Created snapshot q1", "quiesced: yes (guest frozen")
                .doesNotContain("Error");
        Matcher frozen = Pattern.compile("guest frozen (\\d+) ms").matcher(out);
        assertThat(frozen.find()).isTrue();
        assertThat(karaf.execute("snapshot:info " + domid + " q1", minutes(1))).contains("Quiesced", "yes (guest frozen "
                + frozen.group(1) + " ms)");

        assertThat(agent(0, "guest-fsfreeze-status")).as("the agent after the snapshot").containsExactly("\"thawed\"");
        long later = awaitWrites(lines + 4, minutes(2));
        assertThat(later).as("the guest writes on after the snapshot").isGreaterThan(last1 + 2);

        List<String> q1 = snapshotLog("q1");
        assertThat(q1).as("q1's /log holds the appends made before it, never synced by the guest")
                .contains("W " + last1);
        assertThat(q0).as("q0's /log (not quiesced) lacks appends made before it: they were in the page cache")
                .doesNotContain("W " + last0);
        log("q0 (never) holds " + q0.size() + " appends of " + last0 + "; q1 (require) holds " + q1.size()
                + ", the guest had made " + last1 + " when it was sent; frozen " + frozen.group(1)
                + " ms; longest pause of the appends since: " + longestGap(lines - 4) + " s");
        assertThat(karaf.execute("snapshot:reconcile " + domid, minutes(3))).isEqualTo(guest.uuid() + " clean");
        log("the snapshots' step took " + secs(t0) + " once Karaf was up");
    }

    /**
     * A transaction QEMU refuses while the guest is frozen (the overlay xensnap prepared made an empty file): the guest
     * is thawed, and nothing is changed: no overlay, libxl's config, xenstore and the image's snapshots as before, no
     * catalog entry.
     */
    @Test
    @Order(4)
    void aTransactionQemuRefusesThawsTheGuestAndChangesNothing() {
        int domid = guest.domid();
        String overlay = "/images/qsn-b.x1.qcow2";
        String before = disks();
        XenBed.Result r = faults.run(minutes(3), "qcreate", "" + domid, "x1", "require", "empty-overlay:" + overlay,
                "xvdb:external:" + overlay);
        assertThat(r.exitCode()).as(r.stdout()).isEqualTo(3);
        assertThat(r.stdout()).contains("HYPERVISOR_ERROR");
        assertThat(agent(0, "guest-fsfreeze-status")).containsExactly("\"thawed\"");
        awaitWrites(writes().size() + 2, minutes(1));
        assertThat(disks()).as("xenstore, libxl, the image's snapshots, the catalog").isEqualTo(before);
        assertThat(sh(bed, minutes(1), "ls /images")).doesNotContain("x1");
        log("a refused transaction: " + r.stdout().strip());
    }

    /**
     * The creating thread stops for 8 s while the guest is frozen: the watchdog thaws the guest after the longest
     * freeze (4 s for this xensnap), and the snapshot, taken once the thread goes on, is not called quiesced. The
     * bounds tell the three cases apart: a thaw by the create itself freezes for well under 2 s (300-500 ms measured),
     * the watchdog's for its 4 s and the thaw's answer, and no watchdog for the stuck thread's whole 8 s at least.
     */
    @Test
    @Order(5)
    void theWatchdogThawsTheGuestWhileTheCreateIsStuck() {
        int from = writes().size();
        XenBed.Result r = faults.run(minutes(3), "qcreate", "" + guest.domid(), "w1", "require", "stuck:" + STUCK_MS,
                "xvdb:internal");
        assertThat(r.exitCode()).as(r.stdout()).isZero();
        Matcher q = QUIESCED.matcher(r.stdout());
        assertThat(q.find()).as(r.stdout()).isTrue();
        assertThat(q.group(1)).as("quiesced").isEqualTo("no");
        long maxFreeze = ProviderMain.QUIESCE.maxFreeze().toMillis();
        assertThat(Long.parseLong(q.group(2))).as("frozen (ms)").isBetween(maxFreeze - 500, STUCK_MS - 500L);
        awaitWrites(writes().size() + 2, minutes(1));
        double gap = longestGap(from);
        // without the watchdog the guest would have stalled for the whole 8 s of the stuck thread; with it, for the
        // watchdog's 4 s and the thaw's answer (a second or two under TCG on a busy machine); a normal thaw, under 1 s
        assertThat(gap).as("the guest's longest pause (s)").isBetween((maxFreeze - 1000) / 1000.0,
                (STUCK_MS - 500) / 1000.0);
        assertThat(agent(0, "guest-fsfreeze-status")).containsExactly("\"thawed\"");
        log("the watchdog thawed the guest: frozen " + q.group(2) + " ms, the guest paused " + gap + " s");
    }

    /**
     * The agent is stopped (SIGSTOP) after it froze the guest: the snapshot is taken, the thaw is not answered and the
     * create says so; the guest stays frozen until the agent runs again, and then carries out the thaw that waited in
     * the channel. Reconcile finishes the create's bookkeeping.
     */
    @Test
    @Order(6)
    void anAgentStoppedWhileTheGuestIsFrozenThawsItWhenItRunsAgain() {
        int domid = guest.domid();
        XenBed.Result r = faults.run(minutes(3), "qcreate", "" + domid, "s1", "try", "stop-agent", "xvdb:internal");
        assertThat(r.exitCode()).as(r.stdout()).isEqualTo(3);
        assertThat(r.stdout()).contains("INTERNAL", "was taken", "did not confirm the thaw");
        int stalled = writes().size();
        Acceptance.sleep(3000);
        assertThat(writes().size()).as("appends while the agent is stopped").isLessThanOrEqualTo(stalled + 1);
        control("CONT");
        awaitWrites(stalled + 3, minutes(1));
        assertThat(agent(0, "guest-fsfreeze-status")).containsExactly("\"thawed\"");
        assertThat(faults.run(minutes(2), "reconcile", "" + domid).stdout()).contains("CREATE_FINISHED");
        assertThat(snapshotLog("s1")).as("s1 was taken while frozen: its /log is there").isNotEmpty();
        log("a stopped agent: " + r.stdout().strip() + "; thawed once it ran again");
    }

    /**
     * The agent answers the sync and is stopped before the freeze: the freeze times out, {@code try} takes the
     * snapshot without it, and the thaw xensnap queued behind the freeze undoes the freeze the agent carries out once
     * it runs again.
     */
    @Test
    @Order(7)
    void aFreezeThatTimesOutIsUndoneWhenTheAgentRunsAgain() {
        XenBed.Result r = faults.run(minutes(3), "qcreate", "" + guest.domid(), "t1", "try",
                "stop-agent-before-freeze", "xvdb:internal");
        assertThat(r.exitCode()).as(r.stdout()).isZero();
        assertThat(r.stdout()).contains("quiesced no 0");
        int stalled = writes().size();
        control("CONT");
        awaitWrites(stalled + 3, minutes(1));
        assertThat(agent(0, "guest-fsfreeze-status")).containsExactly("\"thawed\"");
        log("a freeze that timed out, undone: " + r.stdout().strip());
    }

    /**
     * xensnap dies while the guest is frozen (its JVM halts: no thaw, no watchdog). The guest stays frozen; the next
     * start's reconcile finds the pending create's mark naming the agent, thaws the guest and rolls the create back.
     */
    @Test
    @Order(8)
    void aGuestLeftFrozenByADeadXensnapIsThawedByTheReconcileAtItsNextStart() {
        long t0 = System.nanoTime();
        int domid = guest.domid();
        faults.submit("qcreate", "" + domid, "h1", "try", "halt", "xvdb:internal");
        faults.awaitDeath("GuestFaults: halting", minutes(3));
        int stalled = writes().size();
        Acceptance.sleep(3000);
        assertThat(writes().size()).as("appends after xensnap died").isLessThanOrEqualTo(stalled + 1);
        assertThat(agent(0, "guest-fsfreeze-status")).containsExactly("\"frozen\"");
        faults.restart();
        faults.awaitReady(minutes(5));
        assertThat(faults.log()).contains("GUEST_THAWED");
        awaitWrites(stalled + 3, minutes(1));
        assertThat(agent(0, "guest-fsfreeze-status")).containsExactly("\"thawed\"");
        // Karaf's xensnap took q0 and q1 on the same image: this one's catalog does not know them, nothing else is left
        assertThat(faults.run(minutes(2), "reconcile", "" + domid).stdout().strip())
                .isEqualTo("findings UNKNOWN_SNAPSHOT UNKNOWN_SNAPSHOT");
        log("xensnap died with the guest frozen; its next start thawed it (" + secs(t0) + ")");
    }

    /**
     * After {@code xl save} and {@code xl restore} the guest's agent no longer answers on the channel (it must be
     * restarted in the guest): {@code require} is refused with nothing changed, {@code try} takes the snapshot
     * without a freeze within the agent's timeout.
     */
    @Test
    @Order(9)
    void afterARestoreASilentAgentMakesRequireRefuseAndTryGoOn() {
        long t0 = System.nanoTime();
        sh(bed, minutes(4), "xl save " + DOMU + " /images/qsn.save && xl restore /images/qsn.save"
                + " && rm -f /images/qsn.save");
        int domid = guest.domid();
        awaitWrites(writes().size() + 2, minutes(2));
        String before = disks();
        XenBed.Result require = faults.run(minutes(3), "qcreate", "" + domid, "r1", "require", "none",
                "xvdb:internal");
        assertThat(require.exitCode()).as(require.stdout()).isEqualTo(3);
        assertThat(require.stdout()).contains("QUIESCE_FAILED", "nothing was changed");
        assertThat(disks()).isEqualTo(before);
        long t1 = System.nanoTime();
        XenBed.Result tried = faults.run(minutes(3), "qcreate", "" + domid, "t2", "try", "none", "xvdb:internal");
        assertThat(tried.exitCode()).as(tried.stdout()).isZero();
        assertThat(tried.stdout()).contains("quiesced no 0");
        awaitWrites(writes().size() + 2, minutes(1));
        log("after the restore: " + require.stdout().strip() + "; try took " + secs(t1) + " (step " + secs(t0) + ")");
    }

    /**
     * What a create that changed nothing must leave as it was: xenstore's and libxl's view of xvdb, the image's
     * internal snapshots, and the faults' xensnap's catalogs.
     */
    private String disks() {
        return sh(bed, minutes(1), "xl list -l " + DOMU + " | grep -E '\"(pdev_path|target)\"';"
                + " xenstore-ls -f /local/domain/0/backend | grep -E '/params '; qemu-img snapshot -l -U " + B
                + " | awk 'NR>2 {print $2}'; cat " + FAULTS_STATE + "/domains/* 2>/dev/null | md5sum");
    }

    /** Sends one command on the guest's control channel and waits for its answer. */
    private void control(String word) {
        String out = sh(bed, minutes(2), "/root/qga-client " + CONTROL + " --control " + word);
        assertThat(out).as("the guest's control channel").contains(word + " done");
    }

    /**
     * One conversation with the agent through the channel's socket ({@code qga-client} beside this class, a plain
     * client in dom0): {@code guest-sync-delimited} with a fresh id, then {@code commands}, then {@code holdSeconds}
     * more before the client closes.
     *
     * @return the {@code return} of each command, as JSON text
     */
    private List<String> agent(int holdSeconds, String... commands) {
        StringBuilder words = new StringBuilder("/root/qga-client " + SOCKET + " " + holdSeconds);
        for (String c : commands) {
            words.append(' ').append(c);
        }
        String out = sh(bed, minutes(2), words.toString());
        assertThat(out).as("the agent's answers").startsWith("SYNC ").doesNotContain("\"error\"", "TIMEOUT");
        List<String> returns = new ArrayList<>();
        Matcher m = Pattern.compile("^\\{\"return\": (.*)\\}\\s*$", Pattern.MULTILINE).matcher(out);
        while (m.find()) {
            returns.add(m.group(1));
        }
        return returns;
    }

    /** The appends the guest has reported: number and uptime. */
    private List<long[]> writes() {
        List<long[]> all = new ArrayList<>();
        Matcher m = WROTE.matcher(guest.console());
        while (m.find()) {
            all.add(new long[] {Long.parseLong(m.group(1)), Math.round(Double.parseDouble(m.group(2)) * 1000)});
        }
        return all;
    }

    /** Waits until the guest reported {@code count} appends; returns the last one's number. */
    private long awaitWrites(int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<long[]> w = writes();
            if (w.size() >= count) {
                return w.get(w.size() - 1)[0];
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the agent guest reported " + w.size() + " appends, not " + count
                        + ", within " + timeout + "; its console:\n" + guest.console());
            }
            Acceptance.sleep(Guest.POLL_MS);
        }
    }

    /** The longest pause, in seconds, between two reported appends from the {@code from}-th on. */
    private double longestGap(int from) {
        List<long[]> w = writes();
        long gap = 0;
        for (int i = Math.max(1, from); i < w.size(); i++) {
            gap = Math.max(gap, w.get(i)[1] - w.get(i - 1)[1]);
        }
        return gap / 1000.0;
    }

    /** The lines of /log in the guest's file system as internal snapshot {@code snapshot} of xvdb holds it. */
    private List<String> snapshotLog(String snapshot) {
        String raw = "/images/qsn-" + snapshot + ".raw";
        // an unsynced file system may lack /log altogether: debugfs then prints nothing for it
        String out = sh(bed, minutes(2), "qemu-img convert -U -f qcow2 -O raw -l snapshot.name=" + snapshot + " " + B
                + " " + raw + " && debugfs -R 'cat /log' " + raw + " 2>/dev/null; rm -f " + raw);
        return out.lines().filter(l -> l.startsWith("W ")).toList();
    }

    private static byte[] resource(String name) {
        try (InputStream in = QuiesceOnXenIT.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
