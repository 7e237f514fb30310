package io.xensnap.internal.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealQemu.Profile;
import io.xensnap.harness.TempRoot;
import io.xensnap.internal.qmp.QmpException.Kind;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The client's session handling against a real QEMU. */
class QmpConnectionTest {

    private RealQemu qemu;
    private TempRoot dir;

    @AfterEach
    void tearDown() {
        if (qemu != null) {
            qemu.close();
        }
        if (dir != null) {
            dir.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void connectNegotiatesAndExecutes(Profile profile) throws Exception {
        qemu = RealQemu.builder(profile).start();

        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            assertThat(c.greeting().path("QMP").path("version").path("qemu").path("major").asInt()).isEqualTo(7);
            JsonNode status = c.execute("query-status");
            assertThat(status.path("status").asText()).isEqualTo(profile == Profile.PLAIN ? "running" : "prelaunch");
        }
        // connect per operation: the socket is free again for the next client (here: the raw one)
        assertThat(QmpTesting.rawQueryBlock(qemu)).hasSize(1);
    }

    @Test
    void anErrorReplyKeepsQemusClassAndDesc() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            QmpException unknown = catchThrowableOfType(QmpException.class, () -> c.execute("nosuch-cmd"));
            assertThat(unknown.kind()).isEqualTo(Kind.ERROR_REPLY);
            assertThat(unknown.errorClass()).isEqualTo("CommandNotFound");
            assertThat(unknown.desc()).isEqualTo("The command nosuch-cmd has not been found");
            assertThat(unknown).hasMessage("[dom1] nosuch-cmd failed: CommandNotFound: "
                    + "The command nosuch-cmd has not been found");

            QmpException again = catchThrowableOfType(QmpException.class, () -> c.execute("qmp_capabilities"));
            assertThat(again.errorClass()).isEqualTo("CommandNotFound");
            assertThat(again.desc()).isEqualTo("Capabilities negotiation is already complete, command ignored");

            QmpException extra = catchThrowableOfType(QmpException.class,
                    () -> c.execute("query-status", c.arguments().put("bogus", 1)));
            assertThat(extra.errorClass()).isEqualTo("GenericError");
            assertThat(extra.desc()).isEqualTo("Parameter 'bogus' is unexpected");

            // an error reply is an answer, not a broken connection
            assertThat(c.isOpen()).isTrue();
            assertThat(c.execute("query-status").path("running").asBoolean()).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void commandsSentTogetherAreAnsweredInOrderAndAnErrorAmongThemLeavesTheRestAnswered(Profile profile)
            throws Exception {
        qemu = RealQemu.builder(profile).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<JsonNode> together = c.executeAll(List.of("query-status", "query-block", "query-blockstats"));
            assertThat(together.get(0)).isEqualTo(c.execute("query-status"));
            assertThat(together.get(1)).isEqualTo(c.execute("query-block"));
            // the counters in blockstats move with the guest's I/O; the devices and nodes do not
            assertThat(together.get(2).findValuesAsText("node-name"))
                    .isEqualTo(c.execute("query-blockstats").findValuesAsText("node-name")).isNotEmpty();

            QmpException unknown = catchThrowableOfType(QmpException.class,
                    () -> c.executeAll(List.of("query-status", "nosuch-cmd", "query-block")));
            assertThat(unknown.kind()).isEqualTo(Kind.ERROR_REPLY);
            assertThat(unknown.errorClass()).isEqualTo("CommandNotFound");
            // every reply was taken off the connection: the next command gets its own answer
            assertThat(c.isOpen()).isTrue();
            assertThat(c.execute("query-block")).isEqualTo(together.get(1));
            assertThat(c.executeAll(List.of())).isEmpty();
        }
    }

    @Test
    void eventsReachSubscribersInOrder() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect(); EventSubscription events = c.subscribe()) {
            VmControl vm = new VmControl(c);
            vm.stop();
            vm.cont();

            assertThat(events.await(e -> true, Duration.ofSeconds(5), "event").name()).isEqualTo("STOP");
            assertThat(events.await(e -> true, Duration.ofSeconds(5), "event").name()).isEqualTo("RESUME");
            QmpException none = catchThrowableOfType(QmpException.class,
                    () -> events.await(e -> true, Duration.ofMillis(100), "third event"));
            assertThat(none.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(none).hasMessageContaining("no third event within PT0.1S");
        }
    }

    @Test
    void aListenerHearsEventsUntilItIsRemoved() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        java.util.List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (QmpConnection c = QmpTesting.client(qemu).connect(); EventSubscription sync = c.subscribe()) {
            VmControl vm = new VmControl(c);
            try (QmpConnection.Registration r = c.addListener(e -> heard.add(e.name()))) {
                vm.stop();
                sync.await(e -> e.name().equals("STOP"), Duration.ofSeconds(5), "STOP");
            }
            vm.cont();
            sync.await(e -> e.name().equals("RESUME"), Duration.ofSeconds(5), "RESUME");
        }
        assertThat(heard).containsExactly("STOP");
    }

    @Test
    void repliesAndEventsAreReadOnTheWaitingCallersThread() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        List<Thread> heardOn = new java.util.concurrent.CopyOnWriteArrayList<>();
        int threadsBefore = Thread.activeCount();
        try (QmpConnection c = QmpTesting.client(qemu).connect(); EventSubscription sync = c.subscribe();
             QmpConnection.Registration r = c.addListener(e -> heardOn.add(Thread.currentThread()))) {
            assertThat(Thread.activeCount()).as("a connection starts no thread").isEqualTo(threadsBefore);
            VmControl vm = new VmControl(c);
            vm.stop();
            sync.await(e -> e.name().equals("STOP"), Duration.ofSeconds(5), "STOP");
            vm.cont();
            sync.await(e -> e.name().equals("RESUME"), Duration.ofSeconds(5), "RESUME");
        }
        assertThat(heardOn).hasSize(2).containsOnly(Thread.currentThread());
    }

    @Test
    void callersOnSeveralThreadsEachGetTheirOwnReplies() throws Exception {
        qemu = RealQemu.builder(Profile.XEN_QDISK).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
            try {
                List<java.util.concurrent.Future<Integer>> runs = new java.util.ArrayList<>();
                for (String command : List.of("query-status", "query-block", "query-name")) {
                    runs.add(pool.submit(() -> {
                        for (int i = 0; i < 150; i++) {
                            JsonNode reply = c.execute(command);
                            switch (command) {
                                case "query-status" -> assertThat(reply.path("status").asText()).isEqualTo("prelaunch");
                                case "query-block" -> assertThat(reply.isArray()).isTrue();
                                default -> assertThat(reply.isObject() && !reply.has("status")).isTrue();
                            }
                        }
                        return 150;
                    }));
                }
                for (java.util.concurrent.Future<Integer> run : runs) {
                    assertThat(run.get(60, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(150);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(c.isOpen()).isTrue();
        }
    }

    @Test
    void quitEndsTheConnectionAndWaitingSubscribersLearnIt() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect(); EventSubscription events = c.subscribe()) {
            c.execute("quit");

            assertThat(events.await(e -> e.name().equals("SHUTDOWN"), Duration.ofSeconds(5), "SHUTDOWN")
                    .dataText("reason")).isEqualTo("host-qmp-quit");
            QmpException gone = catchThrowableOfType(QmpException.class,
                    () -> events.poll(Duration.ofSeconds(5)));
            assertThat(gone.kind()).isEqualTo(Kind.CONNECTION);
            assertThat(gone).hasMessageContaining("closed by QEMU");
            assertThat(c.isOpen()).isFalse();
        }
    }

    @Test
    void killedQemuFailsTheNextCallAsConnectionLoss() throws Exception {
        qemu = RealQemu.builder(Profile.XEN_QDISK).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            qemu.kill();

            QmpException e = catchThrowableOfType(QmpException.class, () -> c.execute("query-status"));
            assertThat(e.kind()).isEqualTo(Kind.CONNECTION);
        }
    }

    @Test
    void aSecondClientWaitingForTheSocketTimesOutCleanlyWhileAnotherHoldsIt() throws Exception {
        qemu = RealQemu.builder(Profile.XEN_QDISK).start();
        QmpClient patient = new QmpClient(qemu.qmpSocket(), "dom2",
                new QmpTimeouts(Duration.ofSeconds(1), Duration.ofMillis(300), Duration.ofSeconds(5),
                        Duration.ofSeconds(5)));
        try (QmpConnection holder = QmpTesting.client(qemu).connect()) {
            long start = System.nanoTime();
            QmpException e = catchThrowableOfType(QmpException.class, patient::connect);
            long ms = (System.nanoTime() - start) / 1_000_000;

            assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(e).hasMessageContaining("no QMP greeting on " + qemu.qmpSocket() + " within PT0.3S")
                    .hasMessageContaining("another client");
            assertThat(ms).isBetween(250L, 2300L);
            // the holder is undisturbed
            assertThat(holder.execute("query-status").path("status").asText()).isEqualTo("prelaunch");
        }
        // and once the holder has left, the same client gets in
        try (QmpConnection c = patient.connect()) {
            assertThat(c.execute("query-status").path("status").asText()).isEqualTo("prelaunch");
        }
    }

    @Test
    void aMissingSocketIsAConnectionErrorNamingThePath() throws Exception {
        dir = TempRoot.create("xm");
        QmpClient client = new QmpClient(dir.path().resolve("qmp-libxl-9"), "dom9", QmpTesting.fastTimeouts());

        QmpException e = catchThrowableOfType(QmpException.class, client::connect);

        assertThat(e.kind()).isEqualTo(Kind.CONNECTION);
        assertThat(e).hasMessageContaining("cannot connect to QMP socket " + dir.path().resolve("qmp-libxl-9"))
                .hasMessageContaining("No such file or directory");
    }

    @Test
    void aSocketNobodyListensOnIsAConnectionError() throws Exception {
        dir = TempRoot.create("xm");
        // what a crashed QEMU leaves behind: the socket file without a listener
        qemu = RealQemu.builder(Profile.PLAIN).directory(dir.path()).start();
        qemu.kill();
        assertThat(Files.exists(qemu.qmpSocket())).isTrue();

        QmpException e = catchThrowableOfType(QmpException.class, () -> QmpTesting.client(qemu).connect());

        assertThat(e.kind()).isEqualTo(Kind.CONNECTION);
        assertThat(e).hasMessageContaining("Connection refused");
    }
}
