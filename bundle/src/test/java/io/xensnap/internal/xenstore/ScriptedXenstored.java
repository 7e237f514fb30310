package io.xensnap.internal.xenstore;

import io.xensnap.harness.TempRoot;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scripted stand-in for xenstored, only for faults the real daemons cannot be made to produce (a torn frame, a
 * length beyond the protocol). It accepts one connection and runs the script on it.
 */
final class ScriptedXenstored implements AutoCloseable {

    interface Script {
        void run(SocketChannel peer) throws Exception;
    }

    private final TempRoot dir = TempRoot.create("xsfake-");
    private final Path socket = dir.path().resolve("socket");
    private final ServerSocketChannel server;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final Thread thread;

    ScriptedXenstored(Script script) throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        thread = new Thread(() -> {
            try (SocketChannel peer = server.accept()) {
                script.run(peer);
                done.complete(null);
            } catch (Exception e) {
                done.completeExceptionally(e);
            }
        }, "scripted-xenstored");
        thread.setDaemon(true);
        thread.start();
    }

    Path socket() {
        return socket;
    }

    /** Reads one request (header and payload) and returns its header fields. */
    static int[] readRequest(SocketChannel peer) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        while (header.hasRemaining()) {
            if (peer.read(header) < 0) {
                throw new IOException("client went away");
            }
        }
        header.flip();
        int[] fields = {header.getInt(), header.getInt(), header.getInt(), header.getInt()};
        ByteBuffer payload = ByteBuffer.allocate(fields[3]);
        while (payload.hasRemaining()) {
            if (peer.read(payload) < 0) {
                throw new IOException("client went away");
            }
        }
        return fields;
    }

    static void send(SocketChannel peer, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            peer.write(b);
        }
    }

    /** Waits for the script to finish and rethrows what it threw. */
    void awaitScript() throws Exception {
        done.get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws IOException {
        try {
            server.close();
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the scripted server", e);
        } finally {
            dir.close();
        }
    }
}
