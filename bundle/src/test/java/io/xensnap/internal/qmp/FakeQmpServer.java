package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scripted QMP peer, only for faults a real QEMU cannot be made to produce (a greeting or reply that never comes,
 * a torn or garbage message, an unknown id). It accepts one client and runs the script on its own thread.
 */
final class FakeQmpServer implements AutoCloseable {

    static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7},"
            + " \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}";

    interface Script {
        void run(Peer peer) throws Exception;
    }

    private final ServerSocketChannel server;
    private final Thread thread;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile SocketChannel client;

    private FakeQmpServer(Path socket, Script script) throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        thread = new Thread(() -> {
            try (SocketChannel c = server.accept()) {
                client = c;
                script.run(new Peer(c));
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "fake-qmp-server");
        thread.setDaemon(true);
        thread.start();
    }

    static FakeQmpServer start(Path socket, Script script) throws IOException {
        return new FakeQmpServer(socket, script);
    }

    /** Waits for the script to end and rethrows what it threw (a failed expectation). */
    void awaitScript() throws Exception {
        done.get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws IOException {
        server.close();
        SocketChannel c = client;
        if (c != null) {
            c.close();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            throw new IllegalStateException("fake QMP server thread did not end");
        }
    }

    static final class Peer {
        private final SocketChannel channel;
        private final BufferedReader in;
        private final ObjectMapper json = new ObjectMapper();

        Peer(SocketChannel channel) {
            this.channel = channel;
            this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel),
                    StandardCharsets.UTF_8));
        }

        void sendRaw(String text) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }

        void send(String line) throws IOException {
            sendRaw(line + "\n");
        }

        /** Greeting, then the capabilities negotiation, as QEMU does it. */
        void handshake() throws IOException {
            send(GREETING);
            reply(expect("qmp_capabilities"), "{}");
        }

        /** @return the command's id, as JSON text; {@code execute == null} accepts any command */
        String expect(String execute) throws IOException {
            String line = in.readLine();
            if (line == null) {
                throw new IllegalStateException("client closed, expected " + execute);
            }
            JsonNode cmd = json.readTree(line);
            if (execute != null && !execute.equals(cmd.path("execute").asText())) {
                throw new IllegalStateException("expected " + execute + ", got " + line);
            }
            return cmd.get("id").toString();
        }

        void reply(String idJson, String returnJson) throws IOException {
            send("{\"return\": " + returnJson + ", \"id\": " + idJson + "}");
        }

        void event(String name, int n) throws IOException {
            send("{\"timestamp\": {\"seconds\": 1, \"microseconds\": " + n + "}, \"event\": \"" + name
                    + "\", \"data\": {\"n\": " + n + "}}");
        }

        /** Blocks until the client closes its end. */
        void awaitClientGone() throws IOException {
            while (in.readLine() != null) {
                // drain: the client may still send commands the script chose not to answer
            }
        }
    }
}
