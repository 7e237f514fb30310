package io.xensnap.harness;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A short-lived tool run by the harness itself (qemu-img, qemu-io): argv only, bounded in time, output kept. */
final class ShortCommand {

    record Result(List<String> argv, int exitCode, String output) {
        Result orThrow() {
            if (exitCode != 0) {
                throw new IllegalStateException(String.join(" ", argv) + " exited with " + exitCode + ": " + output);
            }
            return this;
        }
    }

    private ShortCommand() {
    }

    static Result run(Duration timeout, List<String> argv) {
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
