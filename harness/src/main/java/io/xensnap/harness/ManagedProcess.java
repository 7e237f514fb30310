package io.xensnap.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A peer process (QEMU, xenstored) started by a test and guaranteed to end with it.
 *
 * <ul>
 *   <li>It runs under {@code setpriv --pdeathsig KILL}, spawned from a keeper thread that lives exactly as long as the
 *       process: PR_SET_PDEATHSIG fires when the spawning <em>thread</em> dies, so a short-lived thread would kill the
 *       peer early, and a dying JVM (even {@code kill -9}) takes the peer with it.</li>
 *   <li>Its stdout and stderr go to a log file, never to an unread pipe: QEMU blocks once a 64 KiB pipe is full.</li>
 *   <li>Every live process is also stopped by a JVM shutdown hook, for a test that forgets {@link #close()}.</li>
 * </ul>
 */
public final class ManagedProcess implements AutoCloseable {

    private static final Set<ManagedProcess> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(ManagedProcess::kill), "xensnap-harness-reaper"));
    }

    private final String name;
    private final Process process;
    private final Path log;

    private ManagedProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code argv} with the extra environment {@code env}, output appended to {@code log}.
     *
     * @param name a short name for messages ("qemu", "xenstored")
     */
    public static ManagedProcess start(String name, List<String> argv, Map<String, String> env, Path log) {
        List<String> cmd = new ArrayList<>(List.of(Prerequisite.SETPRIV.require().toString(), "--pdeathsig", "KILL", "--"));
        cmd.addAll(argv);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        CompletableFuture<Process> started = new CompletableFuture<>();
        Thread keeper = new Thread(() -> {
            Process p;
            try {
                p = pb.start();
            } catch (Throwable e) {
                started.completeExceptionally(e);
                return;
            }
            started.complete(p);
            // This thread must outlive the process: see the class comment.
            while (p.isAlive()) {
                try {
                    p.waitFor();
                } catch (InterruptedException e) {
                    // keep waiting: leaving early would SIGKILL the peer
                }
            }
        }, "keeper-" + name);
        keeper.setDaemon(true);
        keeper.start();
        try {
            ManagedProcess mp = new ManagedProcess(name, started.get(10, TimeUnit.SECONDS), log);
            LIVE.add(mp);
            return mp;
        } catch (Exception e) {
            throw new IllegalStateException("could not start " + name + ": " + argv, e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** @return {@code true} when the process ended within {@code timeout} */
    public boolean waitFor(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** @return the exit code, or -1 when the process is still running */
    public int exitCode() {
        return process.isAlive() ? -1 : process.exitValue();
    }

    public Path logFile() {
        return log;
    }

    /** @return what the process printed so far (for failure messages) */
    public String logText() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends SIGTERM, waits up to {@code grace}, then SIGKILL; waits until the process is gone. */
    public void stop(Duration grace) {
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    kill();
                }
            }
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            kill();
            Thread.currentThread().interrupt();
        } finally {
            LIVE.remove(this);
        }
    }

    /** SIGKILL to the process and everything it started. */
    public void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LIVE.remove(this);
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(5));
    }

    @Override
    public String toString() {
        return name + "[pid " + pid() + "]";
    }
}
