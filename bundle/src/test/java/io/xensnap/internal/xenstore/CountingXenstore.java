package io.xensnap.internal.xenstore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Connections to a real xenstored that note every request they send (its type and first argument) and can be cut
 * from below, as when the daemon goes away. Not a fake: every byte goes to and comes from the daemon.
 */
public final class CountingXenstore {

    private final Path socket;
    private final Duration timeout;
    private final AtomicInteger opened = new AtomicInteger();
    private final List<String> sent = new ArrayList<>();
    private final List<UnixSocketTransport> transports = new ArrayList<>();
    private final List<XenstoreClient> clients = new ArrayList<>();
    private XenstoreClient last;

    public CountingXenstore(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    /** Opens a counted connection (what a {@code Connectors.Xenstore} does). */
    public XenstoreClient open() throws XenstoreException {
        UnixSocketTransport transport;
        try {
            transport = UnixSocketTransport.connect(socket, timeout);
        } catch (IOException e) {
            throw new XenstoreException(XenstoreException.ECONNREFUSED, "cannot connect to " + socket, e);
        }
        synchronized (this) {
            transports.add(transport);
        }
        opened.incrementAndGet();
        XenstoreClient client = new XenstoreClient(counted(transport), "counted", timeout,
                XenstoreClient.DEFAULT_TX_ATTEMPTS);
        synchronized (this) {
            last = client;
            clients.add(client);
        }
        return client;
    }

    /** @return the connection opened last, for a test that sets a watch of its own beside its owner's */
    public synchronized XenstoreClient lastOpened() {
        return last;
    }

    private XsTransport counted(UnixSocketTransport socketTransport) {
        return new XsTransport() {
            @Override
            public void send(ByteBuffer bytes) throws IOException {
                note(bytes);
                socketTransport.send(bytes);
            }

            @Override
            public int read(ByteBuffer into) throws IOException {
                return socketTransport.read(into);
            }

            @Override
            public String describe() {
                return socketTransport.describe();
            }

            @Override
            public void close() {
                socketTransport.close();
            }
        };
    }

    private void note(ByteBuffer bytes) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getInt(b.position());
        String payload = new String(bytes.array(), bytes.position() + 16, bytes.remaining() - 16,
                StandardCharsets.UTF_8);
        String first = payload.contains("\0") ? payload.substring(0, payload.indexOf('\0')) : payload;
        XsOp known = XsOp.of(type);
        String op = known == null ? "op" + type : known.name();
        synchronized (this) {
            sent.add(op + " " + first);
        }
    }

    /** @return how many connections were opened */
    public int opened() {
        return opened.get();
    }

    /** @return how many of the connections opened are still open */
    public synchronized long stillOpen() {
        return clients.stream().filter(XenstoreClient::isOpen).count();
    }

    /** @return every request sent so far on any connection, as "TYPE first-argument", and forgets them */
    public synchronized List<String> takeSent() {
        List<String> out = List.copyOf(sent);
        sent.clear();
        return out;
    }

    /** Closes the sockets of every connection opened so far underneath their clients, as a daemon that went away. */
    public synchronized void cutAll() {
        transports.forEach(UnixSocketTransport::close);
        transports.clear();
    }
}
