package io.xensnap.internal.qmp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * QMP's framing over a UNIX stream socket: one JSON document per line. The socket is non-blocking: a read waits on a
 * selector until its deadline, so that the thread waiting for a reply can read it itself (no reader thread, no hand-off
 * between threads) and still give up in time. One thread reads at a time; writes come from callers.
 * {@link #close()} from any thread ends a pending read.
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

    /** How long a write waits between tries while the socket's buffer is full (QEMU is not reading). */
    private static final long FULL_BUFFER_PAUSE_MS = 1;

    private final SocketChannel channel;
    private final Selector selector;
    private final Object writeLock = new Object();
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private QmpLineChannel(SocketChannel channel, Selector selector) {
        this.channel = channel;
        this.selector = selector;
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
                Selector selector = Selector.open();
                try {
                    ch.register(selector, SelectionKey.OP_READ);
                } catch (IOException | RuntimeException e) {
                    selector.close();
                    throw e;
                }
                return new QmpLineChannel(ch, selector);
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
            throw new java.io.InterruptedIOException("interrupted while waiting for the socket");
        }
    }

    /**
     * Writes {@code json} plus a newline. The caller guarantees {@code json} contains no newline.
     *
     * @throws java.net.SocketTimeoutException when QEMU took none of it for {@code timeout} (the socket's buffer of
     *                                         a few hundred KiB stays full only when QEMU no longer reads)
     */
    void writeLine(String json, Duration timeout) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((json + "\n").getBytes(StandardCharsets.UTF_8));
        synchronized (writeLock) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.hasRemaining()) {
                if (channel.write(out) > 0) {
                    deadline = System.nanoTime() + timeout.toNanos();
                } else if (System.nanoTime() - deadline > 0) {
                    throw new java.net.SocketTimeoutException("QEMU took no bytes of a command for " + timeout);
                } else {
                    sleep(FULL_BUFFER_PAUSE_MS);
                }
            }
        }
    }

    /**
     * @param deadline a {@link System#nanoTime()} after which to give up
     * @return the next non-blank line without its terminator, or null when none was complete by {@code deadline} (the
     *         part read so far is kept for the next call)
     * @throws ClosedByPeerException at end of stream
     * @throws FramingException      for a line longer than {@link #MAX_LINE_BYTES}
     * @throws java.io.InterruptedIOException when the thread was interrupted while it waited
     */
    String readLine(long deadline) throws IOException {
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
            if (n == 0 && !awaitInput(deadline)) {
                return null;
            }
        }
    }

    /** @return false when nothing came to read by {@code deadline} */
    private boolean awaitInput(long deadline) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        try {
            // select(0) would wait for ever: the last part of a millisecond is waited as a whole one
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (ClosedSelectorException e) {
            throw new ClosedChannelException();
        }
        selector.selectedKeys().clear();
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for QEMU");
        }
        return true;
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    /** Closes the socket; a thread waiting in {@link #readLine} wakes and fails. */
    @Override
    public void close() {
        try {
            // the selector first: its close wakes a waiting read and releases the socket's registration
            selector.close();
        } catch (IOException e) {
            // closing what we no longer use: nothing to recover, and the fds are released either way
        }
        try {
            channel.close();
        } catch (IOException e) {
            // as above
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…(" + s.length() + " chars)";
    }
}
