package io.xensnap.internal.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.RealXenstored.Profile;
import io.xensnap.harness.XenstoreCli;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every client operation against the real cxenstored and oxenstored 4.17. Each test works below its own node. */
// A watch opened in try-with-resources only has to be closed when the block ends.
@SuppressWarnings("try")
class XenstoreClientTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Map<Profile, RealXenstored> DAEMONS = new EnumMap<>(Profile.class);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private String base;

    @BeforeAll
    static void startDaemons() {
        for (Profile p : Profile.values()) {
            DAEMONS.put(p, RealXenstored.start(p));
        }
    }

    @AfterAll
    static void stopDaemons() {
        DAEMONS.values().forEach(RealXenstored::close);
        DAEMONS.clear();
    }

    @BeforeEach
    void basePath(TestInfo info) {
        String method = info.getTestMethod().orElseThrow().getName();
        base = "/test/" + method + "-" + info.getDisplayName().replaceAll("[^A-Za-z0-9]", "");
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private XenstoreClient client(Profile p) throws XenstoreException {
        return client(p, XenstoreClient.DEFAULT_TX_ATTEMPTS);
    }

    private XenstoreClient client(Profile p, int txAttempts) throws XenstoreException {
        XenstoreClient c = XenstoreClient.connect(DAEMONS.get(p).socketPath(), "test-" + p, TIMEOUT, txAttempts);
        toClose.add(c);
        return c;
    }

    private static void assertErrno(String errno, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(XenstoreException.class,
                e -> assertThat(e.errno()).isEqualTo(errno));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void writeThenReadGivesTheValueBack(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        xs.write(base + "/a", "hello");
        xs.write(base + "/empty", "");
        xs.write(base + "/bin", new byte[] {0, 1, 0, (byte) 0xff});
        assertThat(xs.read(base + "/a")).isEqualTo("hello");
        assertThat(xs.read(base + "/empty")).isEmpty();
        assertThat(xs.readBytes(base + "/bin")).containsExactly(0, 1, 0, 0xff);
        assertThat(new XenstoreCli(DAEMONS.get(p).socketPath()).read(base + "/a")).isEqualTo("hello");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void readOfAMissingNodeIsEnoent(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        assertErrno("ENOENT", () -> xs.read(base + "/missing"));
        assertThat(xs.readIfExists(base + "/missing")).isEmpty();
        assertThat(xs.exists(base + "/missing")).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void manyReadsSentAtOnceComeBackInOrderWithMissingNodesEmpty(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            if (i % 7 != 3) {
                xs.write(base + "/n" + i, "v" + i);
            }
            paths.add(base + "/n" + i);
        }
        List<Optional<String>> direct = xs.readAllIfExist(paths);
        List<Optional<String>> inTx = xs.transaction(tx -> tx.readAllIfExist(paths));
        for (int i = 0; i < 300; i++) {
            Optional<String> expected = i % 7 == 3 ? Optional.empty()
                    : Optional.of("v" + i);
            assertThat(direct.get(i)).as("n%d", i).isEqualTo(expected);
            assertThat(inTx.get(i)).as("n%d in a transaction", i).isEqualTo(expected);
        }
        // the connection is in step afterwards: nothing left over to be taken for the next reply
        assertThat(xs.read(base + "/n0")).isEqualTo("v0");
        assertThat(xs.readAllIfExist(List.of())).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void daemonRejectsAValueOverItsLimitWithE2bigOrAcceptsIt(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        byte[] value = new byte[3000];
        if (p == Profile.OXENSTORED) {
            // oxenstored's quota-maxsize (2048) applies to dom0 too (docs/xen-host.md#size-limits).
            assertErrno("E2BIG", () -> xs.write(base + "/big", value));
        } else {
            xs.write(base + "/big", value);
            assertThat(xs.readBytes(base + "/big")).hasSize(3000);
        }
        assertThatThrownBy(() -> xs.write(base + "/big", new byte[4096]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void mkdirCreatesAnEmptyNodeAndKeepsAnExistingValue(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        xs.mkdir(base + "/dir");
        assertThat(xs.read(base + "/dir")).isEmpty();
        xs.write(base + "/v", "kept");
        xs.mkdir(base + "/v");
        assertThat(xs.read(base + "/v")).isEqualTo("kept");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void rmRemovesTheSubtreeAndNeedsTheParent(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        xs.write(base + "/t/a/b", "1");
        xs.rm(base + "/t");
        assertThat(xs.exists(base + "/t/a/b")).isFalse();
        assertThat(xs.exists(base + "/t")).isFalse();
        xs.rm(base + "/t");
        assertErrno("ENOENT", () -> xs.rm(base + "/nothere/child"));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void directoryListsChildrenAndALeafHasNone(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        xs.write(base + "/d/b", "");
        xs.write(base + "/d/a", "");
        xs.write(base + "/d/c/deeper", "");
        assertThat(xs.directory(base + "/d")).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(xs.directory(base + "/d/a")).isEmpty();
        assertErrno("ENOENT", () -> xs.directory(base + "/none"));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void directoryTooLongForOneReplyIsListedWhole(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        List<String> expected = new ArrayList<>();
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String child = String.format("child-with-a-rather-long-name-to-overflow-one-page-%04d", i);
            expected.add(child);
            pairs.add(base + "/big/" + child);
            pairs.add("v");
        }
        // Seeded with the CLI in one transaction: 300 separate writes would be slower than the test.
        new XenstoreCli(DAEMONS.get(p).socketPath()).write(pairs.toArray(String[]::new));
        int listingBytes = expected.stream().mapToInt(c -> c.length() + 1).sum();
        assertThat(listingBytes).isGreaterThan(4096 * 4);

        // cxenstored: E2BIG, then DIRECTORY_PART in pages; oxenstored: the whole list in one long reply.
        assertThat(xs.directory(base + "/big")).containsExactlyInAnyOrderElementsOf(expected);
        List<String> inTransaction = xs.transaction(tx -> tx.directory(base + "/big"));
        assertThat(inTransaction).hasSize(300);
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void permissionsRoundTripOwnerFirst(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        xs.write(base + "/n", "x");
        assertThat(xs.getPerms(base + "/n")).containsExactly(new XsPerm(XsPerm.Access.NONE, 0));
        List<XsPerm> perms = List.of(XsPerm.parse("n7"), XsPerm.parse("r0"), XsPerm.parse("b3"));
        xs.setPerms(base + "/n", perms);
        assertThat(xs.getPerms(base + "/n")).isEqualTo(perms);
        assertThat(new XenstoreCli(DAEMONS.get(p).socketPath()).lsFullWithPerms(base))
                .contains("/n = \"x\"   (n7,r0,b3)");
        assertErrno("ENOENT", () -> xs.setPerms(base + "/none", perms));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void watchFiresWhenSetAndOnEveryChangeBelowUntilClosed(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        XenstoreClient other = client(p);
        BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        XsWatch watch = xs.watch(base + "/w", events::add);

        assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo(new WatchEvent(base + "/w", watch.token()));
        xs.write(base + "/w/x", "1");
        assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo(new WatchEvent(base + "/w/x", watch.token()));
        other.write(base + "/w/y", "2");
        assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo(new WatchEvent(base + "/w/y", watch.token()));
        other.rm(base + "/w/x");
        assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo(new WatchEvent(base + "/w/x", watch.token()));

        watch.close();
        other.write(base + "/w/z", "3");
        // A round trip on the watching connection: an event sent before its reply would have been routed by now.
        xs.read(base + "/w/z");
        assertThat(events.poll(200, TimeUnit.MILLISECONDS)).isNull();
        watch.close();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aListenerMayCallTheClientItListensOn(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        xs.write(base + "/w/v", "value");
        try (XsWatch ignored = xs.watch(base + "/w/v", e -> {
            try {
                seen.add(xs.read(e.path()));
            } catch (XenstoreException ex) {
                seen.add(ex.errno());
            }
        })) {
            assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo("value");
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aListenerThatThrowsDoesNotStopLaterEvents(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        try (XsWatch ignored = xs.watch(base + "/w", e -> {
            seen.add(e.path());
            throw new IllegalStateException("listener bug (expected in this test)");
        })) {
            assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo(base + "/w");
            xs.write(base + "/w/after", "1");
            assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo(base + "/w/after");
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void transactionWritesBecomeVisibleTogetherAtCommit(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        XenstoreClient other = client(p);
        String result = xs.transaction(tx -> {
            tx.write(base + "/a", "1");
            tx.write(base + "/b", "2");
            assertThat(tx.read(base + "/a")).isEqualTo("1");
            assertThat(other.exists(base + "/a")).isFalse();
            return "done";
        });
        assertThat(result).isEqualTo("done");
        assertThat(other.read(base + "/a")).isEqualTo("1");
        assertThat(other.read(base + "/b")).isEqualTo("2");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void conflictGivesEagainAndTheWholeBodyIsRetried(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        XenstoreClient other = client(p);
        xs.write(base + "/counter", "0");
        AtomicInteger attempts = new AtomicInteger();
        int committed = xs.transaction(tx -> {
            int n = Integer.parseInt(tx.read(base + "/counter"));
            if (attempts.incrementAndGet() == 1) {
                // Someone else changes the node this transaction read: its commit must fail with EAGAIN.
                other.write(base + "/counter", "10");
            }
            tx.write(base + "/counter", Integer.toString(n + 1));
            return n + 1;
        });
        assertThat(attempts).hasValue(2);
        assertThat(committed).isEqualTo(11);
        assertThat(other.read(base + "/counter")).isEqualTo("11");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void conflictsBeyondTheBoundGiveEagain(Profile p) throws Exception {
        XenstoreClient xs = client(p, 3);
        XenstoreClient other = client(p);
        xs.write(base + "/x", "0");
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> xs.transaction(tx -> {
            tx.read(base + "/x");
            other.write(base + "/x", Integer.toString(attempts.incrementAndGet()));
            tx.write(base + "/x", "mine");
            return null;
        })).isInstanceOfSatisfying(XenstoreException.class, e -> {
            assertThat(e.errno()).isEqualTo("EAGAIN");
            assertThat(e).hasMessageContaining("after 3 attempts");
            assertThat(e.getCause()).isInstanceOf(XenstoreException.class);
        });
        assertThat(attempts).hasValue(3);
        assertThat(other.read(base + "/x")).isEqualTo("3");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void failingBodyAbortsAndCommitsNothing(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        assertErrno("ENOENT", () -> xs.transaction(tx -> {
            tx.write(base + "/partial", "1");
            return tx.read(base + "/missing");
        }));
        assertThatThrownBy(() -> xs.transaction(tx -> {
            tx.write(base + "/partial", "2");
            throw new IllegalStateException("body bug");
        })).isInstanceOf(IllegalStateException.class).hasMessage("body bug");
        assertThat(xs.exists(base + "/partial")).isFalse();
        // The connection is still usable, with no transaction left open.
        xs.write(base + "/after", "ok");
        assertThat(xs.read(base + "/after")).isEqualTo("ok");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void repliesReachTheirCallersWhenManyThreadsShareTheConnection(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Void>> jobs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                jobs.add(() -> {
                    for (int i = 0; i < 50; i++) {
                        String path = base + "/t" + thread + "/n" + i;
                        String value = thread + ":" + i;
                        xs.write(path, value);
                        assertThat(xs.read(path)).isEqualTo(value);
                    }
                    return null;
                });
            }
            for (Future<Void> f : pool.invokeAll(jobs, 60, TimeUnit.SECONDS)) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(xs.directory(base)).hasSize(8);
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void invalidPathsAreRefusedBeforeTheyReachTheDaemon(Profile p) throws Exception {
        XenstoreClient xs = client(p);
        for (String bad : List.of("", "/a//b", "/a/", "/a\0b", "/a.b", "/" + "x".repeat(3072))) {
            assertThatThrownBy(() -> xs.read(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(xs.isOpen()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void closeEndsTheConnectionAndItsThreads(Profile p) throws Exception {
        XenstoreClient xs = XenstoreClient.connect(DAEMONS.get(p).socketPath(), "closing-" + p, TIMEOUT);
        xs.watch(base, e -> { });
        xs.write(base + "/x", "1");
        xs.close();
        assertThat(xs.isOpen()).isFalse();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().contains("[closing-" + p + "]"));
        assertErrno("ECONNRESET", () -> xs.read(base + "/x"));
        xs.close();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void connectingWhereNoDaemonListensIsRefused(Profile p) {
        assertErrno("ECONNREFUSED", () -> XenstoreClient.connect(
                DAEMONS.get(p).runDir().resolve("no-socket-here"), "nobody", TIMEOUT));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aDaemonThatDiesFailsWaitingAndLaterCalls(Profile p) throws Exception {
        try (RealXenstored own = RealXenstored.start(p);
             XenstoreClient xs = XenstoreClient.connect(own.socketPath(), "dying-" + p, TIMEOUT)) {
            xs.write("/x", "1");
            own.kill();
            assertErrno("ECONNRESET", () -> {
                // The first write may still reach the socket buffer; the reader notices the end either way.
                for (int i = 0; i < 100; i++) {
                    xs.read("/x");
                }
            });
            assertThat(xs.isOpen()).isFalse();
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aStoppedDaemonMakesTheCallTimeOut(Profile p) throws Exception {
        try (RealXenstored own = RealXenstored.start(p);
             XenstoreClient xs = XenstoreClient.connect(own.socketPath(), "stopped-" + p, Duration.ofMillis(300))) {
            signal("STOP", own.pid());
            try {
                long t0 = System.nanoTime();
                assertErrno("ETIMEDOUT", () -> xs.read("/tool/xenstored"));
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
            } finally {
                signal("CONT", own.pid());
            }
            // The late reply finds no caller and is dropped; the connection keeps working.
            assertThat(xs.read("/tool/xenstored")).isNotNull();
            xs.write("/after", "ok".getBytes(StandardCharsets.UTF_8));
            assertThat(xs.read("/after")).isEqualTo("ok");
        }
    }

    private static void signal(String sig, long pid) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertThat(k.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(k.exitValue()).isZero();
    }
}
