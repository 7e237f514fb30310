package io.xensnap.internal.libxl;

import io.xensnap.harness.ManagedProcess;
import io.xensnap.harness.Prerequisite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The flock(1) CLI holding a file, as another tool (xl, libxl) would: {@code flock -x FILE sh -c 'echo held; exec
 * sleep 30'}. flock(1) forks its command and the child inherits the locked descriptor, so the lock lasts until the
 * whole tree is gone (docs/karaf-build.md#flock-children).
 */
final class FlockHolder implements AutoCloseable {

    private final ManagedProcess process;
    private final List<ProcessHandle> children;

    private FlockHolder(ManagedProcess process, List<ProcessHandle> children) {
        this.process = process;
        this.children = children;
    }

    /** Starts the holder and returns once it holds the lock. */
    static FlockHolder hold(Path file, Path log) {
        ManagedProcess p = ManagedProcess.start("flock", List.of(Prerequisite.FLOCK.require().toString(), "-x",
                file.toString(), "sh", "-c", "echo held; exec sleep 30"), Map.of(), log);
        Instant deadline = Instant.now().plusSeconds(5);
        while (!p.logText().contains("held")) {
            if (!p.isAlive() || Instant.now().isAfter(deadline)) {
                p.kill();
                throw new IllegalStateException("flock(1) did not take " + file + ": " + p.logText());
            }
            sleep(5);
        }
        // Remember the child now: once flock(1) itself dies, the child is re-parented and no longer its descendant.
        List<ProcessHandle> children = ProcessHandle.of(p.pid()).orElseThrow().descendants().toList();
        return new FlockHolder(p, children);
    }

    /** @return the pid of flock(1) itself, the one /proc/locks names */
    long pid() {
        return process.pid();
    }

    /** @return the pid of the command flock(1) runs, which holds the inherited descriptor */
    long childPid() {
        return children.get(0).pid();
    }

    /** Kills flock(1) only: its child keeps the lock. */
    void killLockerOnly() {
        ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly);
        await(ProcessHandle.of(process.pid()).stream().toList());
    }

    /** Kills flock(1) and its child: the lock is released. */
    void release() {
        children.forEach(ProcessHandle::destroyForcibly);
        process.kill();
        await(children);
    }

    @Override
    public void close() {
        release();
    }

    // Polled rather than onExit(): for a process that is not our child (the re-parented command) the JDK polls from
    // 300 ms upwards. A zombie counts as gone: it holds no descriptors any more, and reaping it is up to its new
    // parent, which here takes more than a second.
    private static void await(List<ProcessHandle> handles) {
        Instant deadline = Instant.now().plusSeconds(5);
        for (ProcessHandle h : handles) {
            while (h.isAlive() && !isZombie(h.pid())) {
                if (Instant.now().isAfter(deadline)) {
                    throw new IllegalStateException("pid " + h.pid() + " survived SIGKILL for 5 s");
                }
                sleep(2);
            }
        }
    }

    private static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
