package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.create.OverlayPolicy;

class EngineBasicsTest {

    @TempDir
    Path tmp;

    @Test
    void undoRunsNewestFirstAndKeepsGoingPastAFailingStep() {
        List<String> ran = new ArrayList<>();
        UndoLog log = new UndoLog();
        log.done("created a", () -> ran.add("a"));
        log.done("created b", () -> {
            ran.add("b");
            throw new IllegalStateException("b is stuck");
        });
        log.done("created c", () -> ran.add("c"));
        RuntimeException original = new RuntimeException("transaction failed");

        log.rollback(original);

        assertThat(ran).containsExactly("c", "b", "a");
        assertThat(original.getSuppressed()).singleElement()
                .satisfies(s -> assertThat(s).hasMessageContaining("could not undo: created b: b is stuck"));
        assertThat(log.isEmpty()).isTrue();
    }

    @Test
    void commitForgetsTheSteps() {
        List<String> ran = new ArrayList<>();
        UndoLog log = new UndoLog();
        log.done("x", () -> ran.add("x"));
        log.commit();
        log.rollback(new RuntimeException());
        assertThat(ran).isEmpty();
    }

    @Test
    void oneOperationPerDomainTheOthersWaitThenGetBusy() throws Exception {
        DomainLocks locks = new DomainLocks(Duration.ofMillis(200));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (DomainLocks.Held held = locks.acquire("dom-a")) {
            Future<SnapshotError> sameDomain = pool.submit(() -> {
                try (DomainLocks.Held h = locks.acquire("dom-a")) {
                    return null;
                } catch (SnapshotException e) {
                    return e.code();
                }
            });
            CountDownLatch otherGot = new CountDownLatch(1);
            pool.submit(() -> {
                try (DomainLocks.Held h = locks.acquire("dom-b")) {
                    otherGot.countDown();
                }
                return null;
            });
            assertThat(otherGot.await(5, TimeUnit.SECONDS)).as("another domain is not blocked").isTrue();
            assertThat(sameDomain.get(5, TimeUnit.SECONDS)).isEqualTo(SnapshotError.BUSY);
        } finally {
            pool.shutdownNow();
        }
        try (DomainLocks.Held again = locks.acquire("dom-a")) {
            assertThat(again).isNotNull();
        }
    }

    @Test
    void overlaysMustBeNewFilesInsideTheRootsAfterResolvingSymlinks() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("images"));
        Path outside = Files.createDirectories(tmp.resolve("elsewhere"));
        Files.createSymbolicLink(root.resolve("escape"), outside);
        Files.writeString(root.resolve("taken.qcow2"), "data");
        OverlayPolicy policy = new OverlayPolicy(List.of(root));

        assertThat(policy.check(root.resolve("new.qcow2"))).isEqualTo(root.resolve("new.qcow2"));
        assertThatThrownBy(() -> policy.check(root.resolve("taken.qcow2")))
                .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.SNAPSHOT_EXISTS));
        for (Path bad : List.of(root.resolve("escape/x.qcow2"), outside.resolve("x.qcow2"),
                root.resolve("missing-dir/x.qcow2"), Path.of("relative.qcow2"), Path.of(root + "/../elsewhere/x.qcow2"))) {
            assertThatThrownBy(() -> policy.check(bad)).as(bad.toString())
                    .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.INVALID_ARGUMENT));
        }
        assertThatThrownBy(() -> new OverlayPolicy(List.of()).check(root.resolve("new.qcow2")))
                .hasMessageContaining("outside the allowed overlay roots");
    }
}
