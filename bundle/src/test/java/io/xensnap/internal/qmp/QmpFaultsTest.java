package io.xensnap.internal.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.xensnap.harness.TempRoot;
import io.xensnap.internal.qmp.QmpException.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Faults a real QEMU cannot be made to produce, each played by {@link FakeQmpServer}. */
class QmpFaultsTest {

    private static final Duration SHORT = Duration.ofMillis(400);
    /** Generous slack over a timeout for a loaded 2-core machine; still far below "hangs". */
    private static final long SLACK_MS = 2000;

    private TempRoot dir;
    private Path socket;
    private FakeQmpServer server;

    @BeforeEach
    void setUp() {
        dir = TempRoot.create("xf");
        socket = dir.path().resolve("qmp");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
        dir.close();
    }

    private QmpClient client(Duration greeting, Duration reply) {
        return new QmpClient(socket, "fake", new QmpTimeouts(SHORT, greeting, reply, SHORT));
    }

    @Test
    void greetingNeverComesEndsInATimeoutWithinTheGreetingTimeout() throws Exception {
        server = FakeQmpServer.start(socket, FakeQmpServer.Peer::awaitClientGone);

        long start = System.nanoTime();
        QmpException e = catchThrowableOfType(QmpException.class, () -> client(SHORT, SHORT).connect());

        assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(e).hasMessageContaining("no QMP greeting on " + socket + " within PT0.4S");
        assertThat(elapsedMs(start)).isBetween(SHORT.toMillis() - 50, SHORT.toMillis() + SLACK_MS);
        server.awaitScript(); // the fake saw the client leave
    }

    @Test
    void replyNeverComesEndsInATimeoutAndClosesTheConnection() throws Exception {
        server = FakeQmpServer.start(socket, p -> {
            p.handshake();
            p.expect("query-status");
            p.awaitClientGone();
        });
        try (QmpConnection c = client(SHORT, SHORT).connect()) {
            long start = System.nanoTime();
            QmpException e = catchThrowableOfType(QmpException.class, () -> c.execute("query-status"));

            assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(e).hasMessageContaining("no reply to query-status within PT0.4S");
            assertThat(elapsedMs(start)).isBetween(SHORT.toMillis() - 50, SHORT.toMillis() + SLACK_MS);
            assertThat(c.isOpen()).isFalse();
            // a late reply could not be matched any more: the connection refuses further commands
            assertThatThrownBy(() -> c.execute("query-status")).isInstanceOf(QmpException.class)
                    .hasMessageContaining("while sending query-status");
        }
        server.awaitScript();
    }

    @Test
    void socketClosedMidReplyFailsTheCallNamingThePartialMessage() throws Exception {
        server = FakeQmpServer.start(socket, p -> {
            p.handshake();
            p.expect("query-status");
            p.sendRaw("{\"return\": {\"status\": \"runn");
        });
        try (QmpConnection c = client(SHORT, Duration.ofSeconds(10)).connect()) {
            long start = System.nanoTime();
            QmpException e = catchThrowableOfType(QmpException.class, () -> c.execute("query-status"));

            assertThat(e.kind()).isEqualTo(Kind.CONNECTION);
            assertThat(e).hasMessageContaining("closed by QEMU in the middle of a message: {\"return\": {\"status\": \"runn");
            assertThat(elapsedMs(start)).isLessThan(SLACK_MS);
        }
    }

    @Test
    void garbageLineIsAProtocolErrorThatClosesTheConnection() throws Exception {
        server = FakeQmpServer.start(socket, p -> {
            p.handshake();
            p.expect("query-status");
            p.send("garbage");
            p.awaitClientGone();
        });
        try (QmpConnection c = client(SHORT, Duration.ofSeconds(10)).connect()) {
            QmpException e = catchThrowableOfType(QmpException.class, () -> c.execute("query-status"));

            assertThat(e.kind()).isEqualTo(Kind.PROTOCOL);
            assertThat(e).hasMessageContaining("not a JSON message: garbage");
            assertThat(c.isOpen()).isFalse();
        }
        server.awaitScript();
    }

    /**
     * Seen with QEMU 7.2 (ReconcileTest, once in many runs): a JOB_STATUS_CHANGE emitted as the previous client left
     * arrived on the next connection before its greeting. It cannot be produced on cue, so the fake plays it.
     */
    @Test
    void anEventLeftFromThePreviousClientBeforeTheGreetingIsDropped() throws Exception {
        server = FakeQmpServer.start(socket, p -> {
            p.send("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"JOB_STATUS_CHANGE\","
                    + " \"data\": {\"status\": \"concluded\", \"id\": \"xs-commit-xvdc\"}}");
            p.handshake();
            p.reply(p.expect("query-status"), "{\"status\": \"running\", \"running\": true}");
            p.awaitClientGone();
        });

        try (QmpConnection c = client(SHORT, SHORT).connect()) {
            assertThat(c.greeting().has("QMP")).isTrue();
            assertThat(c.execute("query-status").path("status").asText()).isEqualTo("running");
        }
    }

    @Test
    void garbageInsteadOfTheGreetingIsAProtocolError() throws Exception {
        server = FakeQmpServer.start(socket, p -> {
            p.send("{\"return\": {}}");
            p.awaitClientGone();
        });

        QmpException e = catchThrowableOfType(QmpException.class, () -> client(SHORT, SHORT).connect());

        assertThat(e.kind()).isEqualTo(Kind.PROTOCOL);
        assertThat(e).hasMessageContaining("expected the QMP greeting, got: {\"return\": {}}");
    }

    @Test
    void manyEventsBeforeTheReplyAreRoutedInOrderAndTheReplyStillArrives() throws Exception {
        int events = 20_000;
        server = FakeQmpServer.start(socket, p -> {
            p.handshake();
            String id = p.expect("query-status");
            for (int i = 0; i < events; i++) {
                p.event("BLOCK_IO_ERROR", i);
            }
            p.reply(id, "{\"status\": \"running\", \"running\": true}");
            p.awaitClientGone();
        });
        try (QmpConnection c = client(SHORT, Duration.ofSeconds(10)).connect();
             EventSubscription sub = c.subscribe()) {
            RunState state = new VmControl(c).status();

            assertThat(state).isEqualTo(new RunState("running", true));
            List<Long> seen = new ArrayList<>();
            for (int i = 0; i < events; i++) {
                QmpEvent ev = sub.poll(Duration.ofSeconds(1)).orElseThrow();
                seen.add(ev.data().path("n").asLong());
            }
            assertThat(seen).hasSize(events).isSorted().startsWith(0L).endsWith((long) events - 1);
            assertThat(sub.poll(Duration.ZERO)).isEmpty();
        }
        server.awaitScript();
    }

    @Test
    void endlessEventsWithoutAReplyStillEndInTheReplyTimeout() throws Exception {
        server = FakeQmpServer.start(socket, p -> {
            p.handshake();
            p.expect("query-status");
            try {
                for (int i = 0; ; i++) {
                    p.event("BLOCK_IO_ERROR", i);
                    Thread.sleep(1);
                }
            } catch (java.io.IOException clientGone) {
                // the client closed: the script is over
            }
        });
        try (QmpConnection c = client(SHORT, SHORT).connect()) {
            long start = System.nanoTime();
            QmpException e = catchThrowableOfType(QmpException.class, () -> c.execute("query-status"));

            assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(elapsedMs(start)).isBetween(SHORT.toMillis() - 50, SHORT.toMillis() + SLACK_MS);
        }
    }

    @Test
    void replyWithAnUnknownIdIsAProtocolErrorThatFailsThePendingCall() throws Exception {
        server = FakeQmpServer.start(socket, p -> {
            p.handshake();
            p.expect("query-status");
            p.reply("\"somebody-else-7\"", "{}");
            p.awaitClientGone();
        });
        try (QmpConnection c = client(SHORT, Duration.ofSeconds(10)).connect()) {
            long start = System.nanoTime();
            QmpException e = catchThrowableOfType(QmpException.class, () -> c.execute("query-status"));

            assertThat(e.kind()).isEqualTo(Kind.PROTOCOL);
            assertThat(e).hasMessageContaining("a reply with unknown id \"somebody-else-7\"");
            assertThat(elapsedMs(start)).isLessThan(SLACK_MS);
        }
        server.awaitScript();
    }

    @Test
    void connectionDroppedWhileTwoCallsWaitFailsBothCalls() throws Exception {
        CompletableFuture<Void> bothSent = new CompletableFuture<>();
        server = FakeQmpServer.start(socket, p -> {
            p.handshake();
            p.expect(null);
            p.expect(null);
            bothSent.complete(null);
            // returning closes the socket with two calls pending
        });
        try (QmpConnection c = client(SHORT, Duration.ofSeconds(10)).connect()) {
            CompletableFuture<QmpException> first = CompletableFuture.supplyAsync(
                    () -> catchThrowableOfType(QmpException.class, () -> c.execute("query-status")));
            Thread.sleep(50);
            QmpException second = catchThrowableOfType(QmpException.class, () -> c.execute("query-block"));

            assertThat(second.kind()).isEqualTo(Kind.CONNECTION);
            assertThat(second).hasMessageContaining("closed by QEMU");
            QmpException firstFailure = first.get(5, TimeUnit.SECONDS);
            assertThat(firstFailure.kind()).isEqualTo(Kind.CONNECTION);
            assertThat(firstFailure).hasMessageContaining("while waiting for the reply to query-status");
        }
        assertThat(bothSent).isDone();
    }

    @Test
    void closingTheConnectionFailsACallThatIsStillWaiting() throws Exception {
        server = FakeQmpServer.start(socket, p -> {
            p.handshake();
            p.expect("query-status");
            p.awaitClientGone();
        });
        QmpConnection c = client(SHORT, Duration.ofSeconds(10)).connect();
        CompletableFuture<QmpException> waiting = CompletableFuture.supplyAsync(
                () -> catchThrowableOfType(QmpException.class, () -> c.execute("query-status")));
        Thread.sleep(100);

        c.close();

        QmpException e = waiting.get(5, TimeUnit.SECONDS);
        assertThat(e.kind()).isEqualTo(Kind.CONNECTION);
        assertThat(e).hasMessageContaining("closed by xensnap");
    }

    private static long elapsedMs(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
