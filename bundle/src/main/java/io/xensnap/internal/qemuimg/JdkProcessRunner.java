package io.xensnap.internal.qemuimg;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link ProcessRunner} on {@link ProcessBuilder}. Both output streams are drained while the program runs (a full
 * pipe would block it) by two short-lived threads that end with the program.
 */
public final class JdkProcessRunner implements ProcessRunner {

    /** More than any qemu-img output we parse; the rest is drained and dropped so the program never blocks. */
    private static final int MAX_CAPTURE = 8 * 1024 * 1024;

    @Override
    public ProcessResult run(List<String> argv, Duration timeout)
            throws IOException, TimeoutException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        p.getOutputStream().close();
        Drain out = new Drain(p.getInputStream(), "stdout of " + argv.get(0));
        Drain err = new Drain(p.getErrorStream(), "stderr of " + argv.get(0));
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(p);
                throw new TimeoutException(String.join(" ", argv) + " did not finish within " + timeout
                        + "; stderr so far: " + err.text());
            }
            out.join();
            err.join();
            out.rethrowFailure();
            err.rethrowFailure();
            return new ProcessResult(argv, p.exitValue(), out.text(), err.text());
        } catch (InterruptedException e) {
            kill(p);
            throw e;
        } finally {
            out.join();
            err.join();
        }
    }

    private static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
    }

    private static final class Drain {
        private final Thread thread;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private volatile IOException failure;

        Drain(InputStream in, String name) {
            thread = new Thread(() -> copy(in), name);
            thread.setDaemon(true);
            thread.start();
        }

        private void copy(InputStream in) {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    synchronized (bytes) {
                        if (bytes.size() < MAX_CAPTURE) {
                            bytes.write(buf, 0, Math.min(n, MAX_CAPTURE - bytes.size()));
                        }
                    }
                }
            } catch (IOException e) {
                failure = e;
            }
        }

        void rethrowFailure() throws IOException {
            if (failure != null) {
                throw new IOException("reading the " + thread.getName() + " failed", failure);
            }
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }

        /** The stream reaches EOF when the process (and every child holding the pipe) has ended. */
        void join() throws InterruptedException {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        }
    }
}
