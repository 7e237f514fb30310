package io.xensnap.acceptance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

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

    static Duration minutes(int n) {
        return Duration.ofMinutes(n);
    }
}
