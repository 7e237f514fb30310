package io.xensnap.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A deliberately dumb QMP exchange for tests: connect, read the greeting, negotiate {@code qmp_capabilities}, send
 * the given command lines one at a time and return each reply line as QEMU wrote it. It shares no code with the
 * product's client, so tests can check QEMU's state independently of the code under test.
 *
 * <p>Lines are classified by their first key, which is how QEMU 7.2 writes them: {@code {"QMP"} is the greeting,
 * {@code {"timestamp"} an event (skipped), anything else the reply to the command just sent.
 */
public final class RawQmp {

    private RawQmp() {
    }

    /**
     * @param socket   the QMP UNIX socket
     * @param timeout  for the whole exchange, connect included
     * @param commands complete JSON commands, e.g. {@code {"execute":"query-block"}}; one line each
     * @return one reply line per command, in order
     * @throws SocketTimeoutException when the exchange does not finish within {@code timeout}
     * @throws IOException            when the socket cannot be reached or closes early
     */
    public static List<String> exchange(Path socket, Duration timeout, String... commands) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Selector selector = Selector.open(); SocketChannel ch = connect(socket, deadline)) {
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
            LineReader in = new LineReader(ch, selector, deadline, socket);
            String greeting = in.next();
            // an event meant for the previous client may be flushed onto this connection ahead of the greeting
            while (greeting.startsWith("{\"timestamp\"")) {
                greeting = in.next();
            }
            if (!greeting.startsWith("{\"QMP\"")) {
                throw new IOException("expected a QMP greeting on " + socket + ", got: " + greeting);
            }
            String caps = roundTrip(ch, in, "{\"execute\":\"qmp_capabilities\"}");
            if (!caps.startsWith("{\"return\"")) {
                throw new IOException("qmp_capabilities failed on " + socket + ": " + caps);
            }
            List<String> replies = new ArrayList<>();
            for (String command : commands) {
                replies.add(roundTrip(ch, in, command));
            }
            return replies;
        }
    }

    /**
     * Ends a QEMU the harness started: {@code quit} on its monitor, a wait for the exit, then the process stopped
     * whatever happened, so a QEMU that did not quit is gone too.
     *
     * @param wait how long the reply and then the exit may each take
     */
    public static void quit(ManagedProcess qemu, Path monitor, Duration wait) {
        if (qemu.isAlive()) {
            try {
                execute(monitor, wait, "{\"execute\":\"quit\"}");
            } catch (IOException e) {
                // QEMU closes the socket right after quit, sometimes before the reply is read; a QEMU that really
                // did not quit is stopped below
            }
            qemu.waitFor(wait.multipliedBy(2));
        }
        qemu.stop(wait);
    }

    /** @return the single reply line of {@code command} (see {@link #exchange}) */
    public static String execute(Path socket, Duration timeout, String command) throws IOException {
        return exchange(socket, timeout, command).get(0);
    }

    private static String roundTrip(SocketChannel ch, LineReader in, String command) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((command.strip() + "\n").getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            // a UNIX socket buffer holds far more than any command a test sends, so this never spins for long
            ch.write(out);
        }
        while (true) {
            String line = in.next();
            if (!line.startsWith("{\"timestamp\"")) {
                return line;
            }
        }
    }

    private static SocketChannel connect(Path socket, long deadline) throws IOException {
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.configureBlocking(false);
                // a UNIX connect completes at once, or fails with EAGAIN when the listen backlog is full
                ch.connect(UnixDomainSocketAddress.of(socket));
                return ch;
            } catch (SocketException e) {
                ch.close();
                if (!String.valueOf(e.getMessage()).contains("temporarily unavailable")) {
                    throw new IOException("cannot connect to " + socket + ": " + e.getMessage(), e);
                }
                if (System.nanoTime() > deadline) {
                    throw new SocketTimeoutException("listen backlog of " + socket + " stayed full");
                }
                sleep();
            }
        }
    }

    private static void sleep() throws IOException {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static final class LineReader {
        private final SocketChannel ch;
        private final Selector selector;
        private final long deadline;
        private final Path socket;
        private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineReader(SocketChannel ch, Selector selector, long deadline, Path socket) {
            this.ch = ch;
            this.selector = selector;
            this.deadline = deadline;
            this.socket = socket;
            buf.flip();
        }

        String next() throws IOException {
            while (true) {
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    if (b == '\n') {
                        String s = line.toString(StandardCharsets.UTF_8).strip();
                        line.reset();
                        if (!s.isEmpty()) {
                            return s;
                        }
                    } else {
                        line.write(b);
                    }
                }
                buf.clear();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SocketTimeoutException("no complete QMP line from " + socket + " in time; partial: "
                            + line.toString(StandardCharsets.UTF_8));
                }
                selector.select(Math.max(1, left / 1_000_000));
                selector.selectedKeys().clear();
                int n = ch.read(buf);
                buf.flip();
                if (n < 0) {
                    throw new IOException("QMP socket " + socket + " closed; partial line: "
                            + line.toString(StandardCharsets.UTF_8));
                }
            }
        }
    }
}
