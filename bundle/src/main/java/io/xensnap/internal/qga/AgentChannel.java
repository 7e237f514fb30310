package io.xensnap.internal.qga;

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

/**
 * The agent's byte stream with a deadline on every read and write: a non-blocking UNIX socket and a selector, because
 * an agent that was stopped (or a guest that never started one) accepts the connection and then stays silent.
 */
final class AgentChannel implements AutoCloseable {

    /** Far above any answer of the commands used here; protects against a runaway peer. */
    static final int MAX_LINE_BYTES = 1024 * 1024;

    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer in = ByteBuffer.allocate(8 * 1024);

    private AgentChannel(SocketChannel channel, Selector selector) {
        this.channel = channel;
        this.selector = selector;
        in.flip();
    }

    /**
     * Connects before {@code deadline} (System.nanoTime). A UNIX connect completes at once or fails with EAGAIN while
     * the listener's backlog is full (the device model listens with a backlog of 1, and serves one client at a time).
     */
    static AgentChannel connect(Path socket, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 1;
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            Selector sel = null;
            try {
                ch.configureBlocking(false);
                if (!ch.connect(UnixDomainSocketAddress.of(socket))) {
                    sel = Selector.open();
                    ch.register(sel, SelectionKey.OP_CONNECT);
                    if (sel.select(remainingMillis(deadline)) == 0 || !ch.finishConnect()) {
                        throw new SocketTimeoutException("connecting to " + socket + " took longer than " + timeout);
                    }
                    sel.selectedKeys().clear();
                    ch.register(sel, 0);
                } else {
                    sel = Selector.open();
                    ch.register(sel, 0);
                }
                return new AgentChannel(ch, sel);
            } catch (SocketException e) {
                closeQuietly(ch, sel);
                if (!String.valueOf(e.getMessage()).contains("temporarily unavailable")) {
                    throw e;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new SocketTimeoutException("the listen backlog of " + socket + " stayed full for " + timeout);
                }
            } catch (IOException | RuntimeException e) {
                closeQuietly(ch, sel);
                throw e;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while connecting to " + socket);
            }
            pause = Math.min(pause * 2, 20);
        }
    }

    void write(byte[] bytes, long deadline) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(bytes);
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                await(SelectionKey.OP_WRITE, deadline, "writing to the agent");
            }
        }
    }

    /** Skips bytes up to and including the next {@code delimiter}. */
    void skipPast(byte delimiter, long deadline) throws IOException {
        while (nextByte(deadline) != delimiter) {
            // stale output of an earlier client, or the agent's complaint about the delimiter itself
        }
    }

    /** @return the next non-blank line, without its terminator */
    String readLine(long deadline) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            byte b = nextByte(deadline);
            if (b == '\n') {
                String s = line.toString(StandardCharsets.UTF_8).strip();
                if (!s.isEmpty()) {
                    return s;
                }
                line.reset();
            } else {
                if (line.size() >= MAX_LINE_BYTES) {
                    throw new IOException("an answer of the agent longer than " + MAX_LINE_BYTES + " bytes");
                }
                line.write(b);
            }
        }
    }

    private byte nextByte(long deadline) throws IOException {
        while (!in.hasRemaining()) {
            in.clear();
            int n;
            try {
                n = channel.read(in);
            } finally {
                in.flip();
            }
            if (n < 0) {
                throw new java.io.EOFException("the agent's socket was closed by the device model");
            }
            if (n == 0) {
                await(SelectionKey.OP_READ, deadline, "waiting for the agent's answer");
            }
        }
        return in.get();
    }

    private void await(int op, long deadline, String what) throws IOException {
        SelectionKey key = channel.keyFor(selector);
        key.interestOps(op);
        try {
            long left = remainingMillis(deadline);
            if (left <= 0 || selector.select(left) == 0) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new java.io.InterruptedIOException("interrupted while " + what);
                }
                throw new SocketTimeoutException("timed out " + what);
            }
        } finally {
            selector.selectedKeys().clear();
            key.interestOps(0);
        }
    }

    private static long remainingMillis(long deadline) {
        long left = deadline - System.nanoTime();
        // select(0) would wait forever
        return left <= 0 ? 0 : Math.max(1, left / 1_000_000);
    }

    @Override
    public void close() {
        closeQuietly(channel, selector);
    }

    private static void closeQuietly(SocketChannel ch, Selector sel) {
        try {
            if (sel != null) {
                sel.close();
            }
        } catch (IOException e) {
            // releasing a selector we no longer use: nothing to recover
        }
        try {
            ch.close();
        } catch (IOException e) {
            // closing a socket we no longer use: the fd is released either way
        }
    }
}
