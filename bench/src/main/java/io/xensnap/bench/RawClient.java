package io.xensnap.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The baseline: the least a QMP client can do. Blocking UNIX socket, no JSON parser, no reader thread, no ids; it
 * sends one command and reads lines until the reply (events before it are kept for callers that wait on them).
 * One connection per operation, like xensnap (QEMU serves one QMP client at a time).
 */
final class RawClient implements AutoCloseable {

    private final SocketChannel ch;
    private final ByteBuffer in = ByteBuffer.allocate(256 * 1024);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final List<String> events = new ArrayList<>();

    private RawClient(SocketChannel ch) {
        this.ch = ch;
        in.flip();
    }

    /** Connects, reads the greeting and negotiates capabilities. */
    static RawClient connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            RawClient c = new RawClient(ch);
            String greeting = c.readLine();
            if (!greeting.startsWith("{\"QMP\"")) {
                throw new IOException("no QMP greeting on " + socket + ": " + greeting);
            }
            c.ok("{\"execute\":\"qmp_capabilities\"}");
            return c;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Sends a command and returns its reply line, which must be a {@code return}. */
    String ok(String command) throws IOException {
        String reply = execute(command);
        if (!reply.startsWith("{\"return\"")) {
            throw new IOException("QMP refused " + command + ": " + reply);
        }
        return reply;
    }

    String execute(String command) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            ch.write(out);
        }
        while (true) {
            String l = readLine();
            if (l.startsWith("{\"timestamp\"")) {
                events.add(l);
            } else {
                return l;
            }
        }
    }

    /** Waits (blocking read) for an event line containing every one of {@code parts}. */
    String awaitEvent(String... parts) throws IOException {
        while (true) {
            for (int i = 0; i < events.size(); i++) {
                if (containsAll(events.get(i), parts)) {
                    return events.remove(i);
                }
            }
            String l = readLine();
            if (l.startsWith("{\"timestamp\"")) {
                events.add(l);
            }
        }
    }

    private static boolean containsAll(String s, String... parts) {
        for (String p : parts) {
            if (!s.contains(p)) {
                return false;
            }
        }
        return true;
    }

    private String readLine() throws IOException {
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
                    line.write(b);
                }
            }
            in.clear();
            int n = ch.read(in);
            in.flip();
            if (n < 0) {
                throw new IOException("QMP socket closed by QEMU");
            }
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
