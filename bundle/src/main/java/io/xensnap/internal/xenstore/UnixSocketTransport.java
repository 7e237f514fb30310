package io.xensnap.internal.xenstore;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's UNIX stream socket, through the JDK's own UNIX-domain channel (no native code). Non-blocking underneath,
 * so that a write to a daemon that stopped reading gives up after the send timeout instead of hanging its caller.
 */
final class UnixSocketTransport implements XsTransport {

    private final Path path;
    private final SocketChannel channel;
    private final Selector readSelector;
    private final Selector writeSelector;
    private final Duration sendTimeout;
    private final Object writeLock = new Object();

    private UnixSocketTransport(Path path, SocketChannel channel, Selector readSelector, Selector writeSelector,
            Duration sendTimeout) {
        this.path = path;
        this.channel = channel;
        this.readSelector = readSelector;
        this.writeSelector = writeSelector;
        this.sendTimeout = sendTimeout;
    }

    /** Connecting a UNIX socket does not wait: it succeeds or fails at once (ENOENT, ECONNREFUSED, EACCES). */
    static UnixSocketTransport connect(Path socket, Duration sendTimeout) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        Selector reads = null;
        Selector writes = null;
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.configureBlocking(false);
            reads = Selector.open();
            writes = Selector.open();
            ch.register(reads, SelectionKey.OP_READ);
            ch.register(writes, SelectionKey.OP_WRITE);
            return new UnixSocketTransport(socket, ch, reads, writes, sendTimeout);
        } catch (IOException | RuntimeException e) {
            closeQuietly(e, ch, reads, writes);
            throw e;
        }
    }

    @Override
    public void send(ByteBuffer bytes) throws IOException {
        // One packet must not interleave with another thread's.
        synchronized (writeLock) {
            long deadline = System.nanoTime() + sendTimeout.toNanos();
            while (bytes.hasRemaining()) {
                if (channel.write(bytes) > 0) {
                    continue;
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new SocketTimeoutException("xenstored on " + path + " took no bytes for " + sendTimeout);
                }
                awaitReady(writeSelector, left);
            }
        }
    }

    @Override
    public int read(ByteBuffer into) throws IOException {
        while (true) {
            int n = channel.read(into);
            if (n != 0) {
                return n;
            }
            awaitReady(readSelector, 0);
        }
    }

    // close() closes the channel and then the selectors, which wakes a thread blocked here.
    private void awaitReady(Selector selector, long timeoutMillis) throws IOException {
        try {
            selector.select(timeoutMillis);
            selector.selectedKeys().clear();
        } catch (ClosedSelectorException e) {
            throw new AsynchronousCloseException();
        }
        if (!channel.isOpen()) {
            throw new AsynchronousCloseException();
        }
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public void close() {
        IOException first = null;
        for (AutoCloseableIo c : new AutoCloseableIo[] {channel::close, readSelector::close, writeSelector::close}) {
            try {
                c.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            // Both the channel and the selectors release their descriptors even when close reports an error.
            throw new IllegalStateException("closing the xenstore socket " + path + " failed", first);
        }
    }

    private interface AutoCloseableIo {
        void close() throws IOException;
    }

    private static void closeQuietly(Exception primary, AutoCloseable... all) {
        for (AutoCloseable c : all) {
            if (c == null) {
                continue;
            }
            try {
                c.close();
            } catch (Exception e) {
                primary.addSuppressed(e);
            }
        }
    }
}
