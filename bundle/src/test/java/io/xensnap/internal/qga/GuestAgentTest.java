package io.xensnap.internal.qga;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.xensnap.harness.AgentGuest;
import io.xensnap.harness.TempRoot;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client against Debian's real qemu-ga running inside a small TCG guest (never against an agent on this machine:
 * a freeze would freeze the machine's own file systems). One guest for the class: it boots in seconds, but TCG.
 */
class GuestAgentTest {

    private static final Duration STEP = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final LongSupplier IDS = () -> new SecureRandom().nextInt(Integer.MAX_VALUE);

    private static TempRoot dir;
    private static AgentGuest guest;

    @BeforeAll
    static void boot() {
        dir = TempRoot.create("qga");
        guest = AgentGuest.start(dir.path());
    }

    @AfterAll
    static void shutDown() {
        try {
            if (guest != null) {
                guest.qemu().close();
            }
        } finally {
            dir.close();
        }
    }

    @AfterEach
    void guestIsThawed() throws Exception {
        try (GuestAgent agent = GuestAgent.connect(guest.agentSocket(), Duration.ofSeconds(30), IDS, JSON)) {
            assertThat(agent.status()).isEqualTo(FreezeStatus.THAWED);
        }
    }

    @Test
    void freezeStallsTheGuestsWritesUntilThaw() throws Exception {
        try (GuestAgent agent = GuestAgent.connect(guest.agentSocket(), STEP, IDS, JSON)) {
            assertThat(agent.status()).isEqualTo(FreezeStatus.THAWED);
            guest.awaitWriteAfter(guest.lastWrite(), Duration.ofSeconds(20));
            int frozen;
            try {
                assertThat(agent.freeze()).isEqualTo(1);
                assertThat(agent.status()).isEqualTo(FreezeStatus.FROZEN);
                frozen = guest.lastWrite();
                // the writer appends every 0.2 s: 2 s without a completed append is the freeze, not chance
                Thread.sleep(2000);
                assertThat(guest.lastWrite()).as("appends while frozen").isLessThanOrEqualTo(frozen + 1);
            } finally {
                agent.thaw();
            }
            assertThat(agent.status()).isEqualTo(FreezeStatus.THAWED);
            guest.awaitWriteAfter(frozen + 2, Duration.ofSeconds(20));
        }
    }

    @Test
    void theGuestsSyncPutsWhatItWroteOnItsDiskBeforeAnyFreeze() throws Exception {
        try (GuestAgent agent = GuestAgent.connect(guest.agentSocket(), STEP, IDS, JSON)) {
            int written = guest.awaitWriteAfter(guest.lastWrite(), Duration.ofSeconds(20));
            assertThat(onDisk()).as("appended, in the guest's page cache only").doesNotContain("W " + written);

            assertThat(agent.syncFileSystems(Duration.ofSeconds(20))).isTrue();

            assertThat(onDisk()).as("after the guest's sync").contains("W " + written);
            assertThat(agent.status()).as("nothing frozen").isEqualTo(FreezeStatus.THAWED);
        }
    }

    @Test
    void aProgramTheAgentCannotStartIsNoFailureAndTheConversationGoesOn() throws Exception {
        try (GuestAgent agent = GuestAgent.connect(guest.agentSocket(), STEP, IDS, JSON)) {
            assertThat(agent.runToExit("/no/such/program", STEP)).isFalse();
            assertThat(agent.runToExit("false", STEP)).as("exits 1").isFalse();
            assertThat(agent.status()).isEqualTo(FreezeStatus.THAWED);
        }
    }

    /** The {@code W n} lines of /log in the guest's file system as its disk holds them now. */
    private static java.util.List<String> onDisk() throws Exception {
        java.nio.file.Path image = guest.qemu().disk(0).image();
        java.nio.file.Path raw = image.resolveSibling("now.raw");
        io.xensnap.harness.ShortCommand.run(Duration.ofSeconds(60), java.util.List.of(
                io.xensnap.harness.Prerequisite.QEMU_IMG.require().toString(), "convert", "-U", "-f", "qcow2", "-O",
                "raw", image.toString(), raw.toString())).orThrow();
        try {
            // a file system nothing was synced to may not be one yet: debugfs then fails and the log is empty
            String out = io.xensnap.harness.ShortCommand.run(Duration.ofSeconds(30), java.util.List.of(
                    io.xensnap.harness.Prerequisite.DEBUGFS.require().toString(), "-R", "cat /log", raw.toString()))
                    .output();
            return out.lines().filter(l -> l.matches("W \\d+")).toList();
        } finally {
            java.nio.file.Files.deleteIfExists(raw);
        }
    }

    @Test
    void syncSkipsWhatAnEarlierClientLeftInTheChannel() throws Exception {
        // an earlier client that gave up: a sync and a thaw whose answers it never read ({"return": 7} and
        // {"return": 0}), and half a command; read as the answer to status, either would fail the test
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(guest.agentSocket()));
            ch.write(ByteBuffer.wrap(("{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":7}}\n"
                    + "{\"execute\":\"guest-fsfreeze-thaw\"}\n{\"execute\":\"guest-fsfr")
                    .getBytes(StandardCharsets.UTF_8)));
            Thread.sleep(500);
        }
        try (GuestAgent agent = GuestAgent.connect(guest.agentSocket(), STEP, IDS, JSON)) {
            assertThat(agent.status()).isEqualTo(FreezeStatus.THAWED);
            assertThat(agent.thaw()).isZero();
        }
    }

    @Test
    void aStoppedAgentIsATimeoutOfTheStep() throws Exception {
        guest.stopAgent();
        try {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> GuestAgent.connect(guest.agentSocket(), Duration.ofSeconds(2), IDS, JSON))
                    .isInstanceOfSatisfying(AgentException.class,
                            e -> assertThat(e.kind()).isEqualTo(AgentException.Kind.TIMEOUT))
                    .hasMessageContaining("did not answer guest-sync-delimited within PT2S");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        } finally {
            guest.continueAgent();
        }
    }

    @Test
    void noSocketIsAConnectionFailure() {
        assertThatThrownBy(() -> GuestAgent.connect(dir.path().resolve("none.sock"), STEP, IDS, JSON))
                .isInstanceOfSatisfying(AgentException.class,
                        e -> assertThat(e.kind()).isEqualTo(AgentException.Kind.CONNECTION));
    }
}
