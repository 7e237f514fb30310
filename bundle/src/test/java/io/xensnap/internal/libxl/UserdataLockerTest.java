package io.xensnap.internal.libxl;

import io.xensnap.harness.TempRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** libxl's lock protocol against the real flock(1) CLI as the other holder. */
class UserdataLockerTest {

    private static final LibxlDomain SAMPLE = new LibxlDomain(5, UUID.fromString("2b5a4c1e-1111-4222-8333-944455556666"));

    private TempRoot root;
    private Path xenLib;
    private Path lockFile;
    private Path config;
    private final List<FlockHolder> holders = new ArrayList<>();
    private final ExecutorService background = Executors.newCachedThreadPool();

    @BeforeEach
    void setUp() throws Exception {
        root = TempRoot.create("lk");
        xenLib = Files.createDirectory(root.path().resolve("xen"));
        lockFile = xenLib.resolve("userdata-l.5." + SAMPLE.uuid() + ".domain-userdata-lock");
        config = xenLib.resolve("userdata-d.5." + SAMPLE.uuid() + ".libxl-json");
        Files.write(config, TestFiles.resource(TestFiles.APPENDIX));
    }

    @AfterEach
    void tearDown() throws Exception {
        holders.forEach(FlockHolder::close);
        background.shutdownNow();
        assertThat(background.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        root.close();
    }

    private FlockHolder hold(Path file) {
        FlockHolder h = FlockHolder.hold(file, root.resolve("flock-" + holders.size() + ".log"));
        holders.add(h);
        return h;
    }

    private DomainConfigStore store(Duration timeout) {
        return new DomainConfigStore(xenLib, Clock.systemUTC(), timeout);
    }

    /** Reads the config without the lock, which is held by someone else. */
    private LibxlDisk unlockedRead() throws Exception {
        return DomainConfigDisks.read(DomainConfigJson.parse(Files.readAllBytes(config), "config"), "xvda", "config");
    }

    /** Waits until a descriptor of this JVM refers to {@code file}: the locker has opened it and is polling flock. */
    private static void awaitOpenInThisJvm(Path file) throws Exception {
        Instant deadline = Instant.now().plusSeconds(5);
        while (true) {
            try (var fds = Files.list(Path.of("/proc/self/fd"))) {
                if (fds.anyMatch(fd -> {
                    try {
                        return Files.readSymbolicLink(fd).equals(file);
                    } catch (java.io.IOException e) {
                        return false; // closed between list and readlink
                    }
                })) {
                    return;
                }
            }
            assertThat(Instant.now()).as("the locker never opened %s", file).isBefore(deadline);
            Thread.sleep(2);
        }
    }

    @Test
    void whileFlockHoldsTheLockTheStoreTimesOutNamingTheHolder() throws Exception {
        FlockHolder holder = hold(lockFile);
        Map<String, String> before = TestFiles.snapshot(xenLib);
        Instant start = Instant.now();

        assertThatThrownBy(() -> store(Duration.ofMillis(300)).setDisk(SAMPLE, "xvda", "/x.qcow2", LibxlDiskFormat.QCOW2))
                .isInstanceOfSatisfying(LibxlConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.LOCK_TIMEOUT))
                .hasMessageContaining(lockFile.toString())
                .hasMessageContaining("after 300 ms by")
                .hasMessageContaining("pid " + holder.pid() + " (")
                .hasMessageContaining("flock -x " + lockFile);

        assertThat(Duration.between(start, Instant.now())).isBetween(Duration.ofMillis(300), Duration.ofSeconds(5));
        assertThat(TestFiles.snapshot(xenLib)).isEqualTo(before);
    }

    @Test
    void theStoreWaitsForTheHolderAndProceedsWhenItReleases() throws Exception {
        FlockHolder holder = hold(lockFile);
        DomainConfigStore store = store(Duration.ofSeconds(10));

        Future<LibxlDisk> update = background.submit(
                () -> store.setDisk(SAMPLE, "xvda", "/x.qcow2", LibxlDiskFormat.QCOW2));
        Thread.sleep(300);
        assertThat(update).isNotDone();
        assertThat(unlockedRead())
                .isEqualTo(new LibxlDisk("xvda", "/dev/vg0/testvm-disk", LibxlDiskFormat.RAW));

        holder.release();

        assertThat(update.get(5, TimeUnit.SECONDS)).isEqualTo(new LibxlDisk("xvda", "/dev/vg0/testvm-disk", LibxlDiskFormat.RAW));
        assertThat(store.readDisk(SAMPLE, "xvda")).isEqualTo(new LibxlDisk("xvda", "/x.qcow2", LibxlDiskFormat.QCOW2));
        assertThat(lockFile).as("libxl unlinks the lock file on release").doesNotExist();
    }

    @Test
    void killingOnlyFlockLeavesItsChildHoldingAndTheErrorNamesTheChild() throws Exception {
        FlockHolder holder = hold(lockFile);
        holder.killLockerOnly();

        assertThatThrownBy(() -> store(Duration.ofMillis(200)).readDisk(SAMPLE, "xvda"))
                .isInstanceOfSatisfying(LibxlConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.LOCK_TIMEOUT))
                .hasMessageContaining("pid " + holder.childPid() + " (sleep 30)");
    }

    @Test
    void aLockOnAnUnlinkedInodeIsNotTrustedAndTheWaitStartsOver() throws Exception {
        FlockHolder first = hold(lockFile);
        UserdataLocker locker = new UserdataLocker(Clock.systemUTC(), Duration.ofMillis(800));
        Future<UserdataLock> attempt = background.submit(() -> locker.lock(lockFile));
        awaitOpenInThisJvm(lockFile);

        // What libxl's unlock does (unlink, then close) while a second holder takes the new file at the same path.
        Files.delete(lockFile);
        FlockHolder second = hold(lockFile);
        first.release();

        assertThatThrownBy(() -> attempt.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(LibxlConfigException.class)
                .cause().hasMessageContaining("pid " + second.pid() + " (");
        second.release();
        try (UserdataLock lock = locker.lock(lockFile)) {
            assertThat(lock.path()).exists();
        }
        assertThat(lockFile).doesNotExist();
    }

    @Test
    void twoLocksInOneJvmExcludeEachOther() throws Exception {
        UserdataLocker locker = new UserdataLocker(Clock.systemUTC(), Duration.ofMillis(200));
        try (UserdataLock held = locker.lock(lockFile)) {
            assertThat(held.path()).exists();
            CompletableFuture<UserdataLock> other = CompletableFuture.supplyAsync(() -> {
                try {
                    return locker.lock(lockFile);
                } catch (LibxlConfigException e) {
                    throw new IllegalStateException(e);
                }
            }, background);

            assertThatThrownBy(() -> other.get(5, TimeUnit.SECONDS)).rootCause()
                    .isInstanceOfSatisfying(LibxlConfigException.class,
                            e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.LOCK_TIMEOUT))
                    .hasMessageContaining("pid " + ProcessHandle.current().pid() + " (");
        }
        assertThat(lockFile).doesNotExist();
    }

    @Test
    void theDeadlineComesFromTheInjectedClock() throws Exception {
        hold(lockFile);
        // Every reading is an hour later than the one before: a 30-minute timeout is over at the first check.
        Clock leaping = new Clock() {
            private Instant now = Instant.parse("2030-01-01T00:00:00Z");

            @Override
            public synchronized Instant instant() {
                now = now.plus(Duration.ofHours(1));
                return now;
            }

            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }
        };
        Instant start = Instant.now();

        assertThatThrownBy(() -> new UserdataLocker(leaping, Duration.ofMinutes(30)).lock(lockFile))
                .isInstanceOfSatisfying(LibxlConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.LOCK_TIMEOUT));
        assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aLockTakenAndReleasedLeavesNoFile() throws Exception {
        UserdataLocker locker = new UserdataLocker(Clock.systemUTC(), Duration.ofSeconds(1));

        try (UserdataLock lock = locker.lock(lockFile)) {
            assertThat(lockFile).exists();
            assertThat(lock.path()).isEqualTo(lockFile);
        }

        assertThat(lockFile).doesNotExist();
    }

    @Test
    void anInterruptedWaitEndsWithInterrupted() throws Exception {
        hold(lockFile);
        UserdataLocker locker = new UserdataLocker(Clock.systemUTC(), Duration.ofSeconds(30));
        CompletableFuture<LibxlConfigException.Reason> outcome = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                locker.lock(lockFile).close();
                outcome.complete(null);
            } catch (LibxlConfigException e) {
                outcome.complete(e.reason());
            }
        });
        waiter.start();
        Thread.sleep(100);

        waiter.interrupt();

        assertThat(outcome.get(5, TimeUnit.SECONDS)).isEqualTo(LibxlConfigException.Reason.INTERRUPTED);
        waiter.join(5000);
    }
}
