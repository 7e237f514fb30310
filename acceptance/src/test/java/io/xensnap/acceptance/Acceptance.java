package io.xensnap.acceptance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

import io.xensnap.harness.XenBed;

/** Small things every acceptance class needs: running a dom0 shell line, a host program, the suite's log. */
final class Acceptance {

    private Acceptance() {
    }

    /** Runs {@code script} with {@code sh -c} in dom0 and returns its stdout; fails with stderr when it fails. */
    static String sh(XenBed bed, Duration timeout, String script) {
        return bed.run(timeout, "sh", "-c", script).orThrow().stdout();
    }

    /** Runs a program on the host (not in the bed) and fails with its output when it fails. */
    static void ok(ProcessBuilder pb) {
        try {
            Process p = pb.redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(pb.command() + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String secs(long sinceNanos) {
        return String.format("%.1f s", (System.nanoTime() - sinceNanos) / 1e9);
    }

    static void log(String s) {
        System.out.println("[acceptance] " + s);
        System.out.flush();
    }

    /** Sleeps between two looks at something the bed does; an interrupt ends the test. */
    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs {@code work} on a thread of its own (a daemon: the bed's end ends what it waits for), for dom0 work that
     * can overlap other dom0 work: the agent runs every command in the background, so two {@code xl create} or a
     * copy and a guest's boot go side by side.
     */
    static <T> CompletableFuture<T> background(String name, Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(work.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "acceptance-" + name);
        t.setDaemon(true);
        t.start();
        return result;
    }

    /** Waits for {@link #background} work and fails as it failed (its own exception, not a wrapper). */
    static <T> T join(CompletableFuture<T> work) {
        try {
            return work.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    static Duration minutes(int n) {
        return Duration.ofMinutes(n);
    }
}
