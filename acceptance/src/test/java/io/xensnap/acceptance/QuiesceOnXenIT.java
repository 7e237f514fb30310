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
import java.util.concurrent.ThreadLocalRandom;
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
    private static final Pattern WROTE = Pattern.compile("^GUEST W (\\d+) ([0-9.]+)$", Pattern.MULTILINE);

    private XenBed bed;
    private Guest guest;
    private Dom0Host host;

    @RegisterExtension
    final FailureReport report = new FailureReport(() -> bed, () -> host == null ? null : host.karafAsIs());

    @BeforeAll
    void startTheAgentGuest(Dom0Host shared) {
        long t0 = System.nanoTime();
        host = shared;
        bed = host.bed();
        bed.put(AgentGuestImage.cached().agentPackage(), "/root/qemu-guest-agent.deb", "0644");
        bed.put(resource("qga-guest-init"), "/root/qga-guest-init", "0755");
        bed.put(resource("qga-initramfs"), "/root/qga-initramfs", "0755");
        log("agent guest's initramfs: " + sh(bed, minutes(3), "/root/qga-initramfs /root/qemu-guest-agent.deb"
                + " /root/qga-guest-init " + INITRD + " && ls -l " + INITRD).replace('\n', ' '));
        sh(bed, minutes(1), "qemu-img create -q -f qcow2 " + B + " 32M");
        guest = new Guest(bed, DOMU, UUID.randomUUID().toString(), "pv", INITRD);
        // Debian's xl 4.17 gives the first channel devid 0, the primary console's: a placeholder takes it
        guest.create(guest.writeConfig(List.of("format=qcow2,vdev=xvdb,access=rw,backendtype=qdisk,target=" + B),
                List.of("xvdb"), List.of("channel = [ \"name=placeholder.devid0,connection=socket,path="
                        + "/var/run/xen/unused-" + DOMU + ".sock\", \"name=org.qemu.guest_agent.0,connection=socket,"
                        + "path=" + SOCKET + "\" ]")));
        awaitWrites(3, minutes(4));
        log("agent guest running after " + secs(t0));
    }

    @AfterAll
    void destroyTheGuest() {
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
     * One connection to the agent: {@code guest-sync-delimited} with a fresh id (a reply a previous client left unread
     * comes before it), then {@code commands}, then {@code holdSeconds} more before the client closes.
     *
     * @return the {@code return} of each command, as JSON text
     */
    private List<String> agent(int holdSeconds, String... commands) {
        long id = ThreadLocalRandom.current().nextLong(1, Integer.MAX_VALUE);
        StringBuilder in = new StringBuilder("printf '\\377{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":"
                + id + "}}\\n'; sleep 1;");
        for (String c : commands) {
            in.append(" printf '{\"execute\":\"").append(c).append("\"}\\n';");
        }
        in.append(" sleep ").append(holdSeconds).append(';');
        // socat -t: how long it waits for the agent's answers once the commands are sent; the agent frames its reply
        // to the sync with the byte 0xFF, which is no text: tr drops it
        String script = "(" + in + ") | timeout 60 socat -t 3 - UNIX-CONNECT:" + SOCKET + " | tr -d '\\377'";
        String out = sh(bed, minutes(2), script);
        String sync = "{\"return\": " + id + "}";
        int at = out.indexOf(sync);
        assertThat(at).as("the agent's reply to guest-sync-delimited " + id + " in: " + out).isNotNegative();
        List<String> returns = new ArrayList<>();
        Matcher m = Pattern.compile("^\\{\"return\": (.*)\\}\\s*$", Pattern.MULTILINE)
                .matcher(out.substring(at + sync.length()));
        while (m.find()) {
            returns.add(m.group(1));
        }
        assertThat(out.substring(at + sync.length())).as("no error from the agent").doesNotContain("\"error\"");
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
            Acceptance.sleep(1000);
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
