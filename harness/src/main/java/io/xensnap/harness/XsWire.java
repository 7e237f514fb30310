package io.xensnap.harness;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The smallest blocking xenstore wire client (docs/xen-host.md#wire-protocol): one request at a time, watch events
 * skipped. The harness uses it to see a daemon answer; its tests use it to provoke what the CLI cannot (a transaction
 * conflict). Product code has its own client.
 */
final class XsWire implements AutoCloseable {

    static final int READ = 2;
    static final int TRANSACTION_START = 6;
    static final int TRANSACTION_END = 7;
    static final int WRITE = 11;
    static final int WATCH_EVENT = 15;
    static final int ERROR = 16;

    /** A reply: its type (ERROR for errors) and raw payload. */
    record Reply(int type, byte[] payload) {
        String text() {
            int end = payload.length;
            while (end > 0 && payload[end - 1] == 0) {
                end--;
            }
            return new String(payload, 0, end, StandardCharsets.UTF_8);
        }

        boolean isError() {
            return type == ERROR;
        }
    }

    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(5);

    private final SocketChannel channel;
    private final Selector selector;
    private int nextReqId = 1;

    private XsWire(SocketChannel channel, Selector selector) {
        this.channel = channel;
        this.selector = selector;
    }

    static XsWire connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.configureBlocking(false);
            Selector selector = Selector.open();
            ch.register(selector, SelectionKey.OP_READ);
            return new XsWire(ch, selector);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    /** Sends {@code parts} joined by NULs, with a NUL after the last when {@code terminate}. */
    Reply call(int type, int txId, boolean terminate, String... parts) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                sb.append('\0');
            }
            sb.append(parts[i]);
        }
        if (terminate) {
            sb.append('\0');
        }
        byte[] payload = sb.toString().getBytes(StandardCharsets.UTF_8);
        int reqId = nextReqId++;
        ByteBuffer out = ByteBuffer.allocate(16 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(type).putInt(reqId).putInt(txId).putInt(payload.length).put(payload).flip();
        // Requests are at most a few KiB: the socket buffer takes them whole, so this loop does not spin.
        while (out.hasRemaining()) {
            channel.write(out);
        }
        while (true) {
            ByteBuffer header = readFully(16);
            int rType = header.getInt();
            int rReq = header.getInt();
            header.getInt();
            int len = header.getInt();
            if (len < 0 || len > 4096) {
                throw new IOException("bad reply length " + len);
            }
            byte[] body = readFully(len).array();
            if (rType == WATCH_EVENT) {
                continue;
            }
            if (rReq != reqId) {
                throw new IOException("reply to request " + rReq + " while waiting for " + reqId);
            }
            return new Reply(rType, body);
        }
    }

    Reply read(String path) throws IOException {
        return call(READ, 0, true, path);
    }

    Reply write(int txId, String path, String value) throws IOException {
        return call(WRITE, txId, false, path, value);
    }

    private ByteBuffer readFully(int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        long deadline = System.nanoTime() + REPLY_TIMEOUT.toNanos();
        while (buf.hasRemaining()) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new SocketTimeoutException("no reply from xenstored within " + REPLY_TIMEOUT);
            }
            if (selector.select(left) > 0) {
                selector.selectedKeys().clear();
                if (channel.read(buf) < 0) {
                    throw new EOFException("xenstored closed the connection");
                }
            }
        }
        return buf.flip();
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            channel.close();
        }
    }
}
