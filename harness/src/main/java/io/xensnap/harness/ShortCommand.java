package io.xensnap.harness;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A short-lived tool run by the harness or a test to set up or inspect a peer independently of the code under test
 * (qemu-img, qemu-io): argv only, bounded in time, stdout and stderr kept together.
 */
public final class ShortCommand {

    public record Result(List<String> argv, int exitCode, String output) {
        /** @return this result; throws naming the command and its output when it exited non-zero */
        public Result orThrow() {
            if (exitCode != 0) {
                throw new IllegalStateException(String.join(" ", argv) + " exited with " + exitCode + ": " + output);
            }
            return this;
        }
    }

    private ShortCommand() {
    }

    /** Runs {@code argv} with a 30 s bound and fails unless it exits 0. */
    public static Result ok(String... argv) {
        return run(Duration.ofSeconds(30), List.of(argv)).orThrow();
    }

    public static Result run(Duration timeout, List<String> argv) {
        ProcessBuilder pb = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(java.nio.file.Path.of("/dev/null").toFile()))
                .redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + argv, e);
        }
        try (InputStream out = p.getInputStream()) {
            // the tools print a few lines at most, so reading after the wait cannot fill the pipe
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new IllegalStateException(String.join(" ", argv) + " did not finish within " + timeout);
            }
            return new Result(List.copyOf(argv), p.exitValue(), new String(out.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the output of " + argv, e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + argv, e);
        }
    }
}
