package io.xensnap.internal.qmp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * QMP's framing over a UNIX stream socket: one JSON document per line. Reads are blocking and done by one thread;
 * writes come from callers. {@link #close()} from any thread unblocks a pending read.
 */
final class QmpLineChannel implements AutoCloseable {

    /** Far above any real reply (query-block for 16 disks is a few tens of KiB); protects against a runaway peer. */
    static final int MAX_LINE_BYTES = 16 * 1024 * 1024;

    /** A message that breaks QMP's framing. */
    static final class FramingException extends IOException {
        private static final long serialVersionUID = 1L;

        FramingException(String message) {
            super(message);
        }
    }

    /** The peer closed the socket; {@link #partial()} is what it sent of an unfinished line. */
    static final class ClosedByPeerException extends IOException {
        private static final long serialVersionUID = 1L;
        private final String partial;

        ClosedByPeerException(String partial, SocketException reset) {
            super((partial.isEmpty() ? "closed by QEMU"
                    : "closed by QEMU in the middle of a message: " + abbreviate(partial))
                    + (reset == null ? "" : " (" + reset.getMessage() + ")"), reset);
            this.partial = partial;
        }

        String partial() {
            return partial;
        }
    }

    private final SocketChannel channel;
    private final Object writeLock = new Object();
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private QmpLineChannel(SocketChannel channel) {
        this.channel = channel;
        in.flip();
    }

    /**
     * Connects within {@code timeout}. A UNIX connect completes at once, or fails with EAGAIN while the listener's
     * backlog is full (libxl listens with a backlog of 1); only that case is retried.
     *
     * @throws java.net.SocketTimeoutException when the backlog stays full
     * @throws IOException                     for any other failure (no such socket, nobody listening)
     */
    static QmpLineChannel connect(Path socket, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 1;
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.configureBlocking(false);
                ch.connect(UnixDomainSocketAddress.of(socket));
                ch.configureBlocking(true);
                return new QmpLineChannel(ch);
            } catch (SocketException e) {
                ch.close();
                if (!String.valueOf(e.getMessage()).contains("temporarily unavailable")) {
                    throw e;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new java.net.SocketTimeoutException("the listen backlog of " + socket
                            + " stayed full for " + timeout);
                }
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            sleep(pause);
            pause = Math.min(pause * 2, 20);
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while connecting");
        }
    }

    /** Writes {@code json} plus a newline. The caller guarantees {@code json} contains no newline. */
    void writeLine(String json) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((json + "\n").getBytes(StandardCharsets.UTF_8));
        synchronized (writeLock) {
            while (out.hasRemaining()) {
                channel.write(out);
            }
        }
    }

    /**
     * @return the next non-blank line without its terminator
     * @throws ClosedByPeerException at end of stream
     * @throws FramingException      for a line longer than {@link #MAX_LINE_BYTES}
     */
    String readLine() throws IOException {
        while (true) {
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == '\n') {
                    String s = line.toString(StandardCharsets.UTF_8).strip();
                    line.reset();
                    if (!s.isEmpty()) {
                        return s;
                    }
                } else {
                    if (line.size() >= MAX_LINE_BYTES) {
                        throw new FramingException("a QMP message longer than " + MAX_LINE_BYTES + " bytes");
                    }
                    line.write(b);
                }
            }
            in.clear();
            int n;
            try {
                n = channel.read(in);
            } catch (SocketException e) {
                // QEMU closing with unread input on its side (e.g. right after quit) arrives as a reset, not EOF
                if (String.valueOf(e.getMessage()).contains("Connection reset")) {
                    throw new ClosedByPeerException(line.toString(StandardCharsets.UTF_8), e);
                }
                throw e;
            } finally {
                in.flip();
            }
            if (n < 0) {
                throw new ClosedByPeerException(line.toString(StandardCharsets.UTF_8), null);
            }
        }
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing a socket we no longer use: nothing to recover, and the fd is released either way
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…(" + s.length() + " chars)";
    }
}
