package io.xensnap.internal.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xensnap.internal.qmp.QmpException.Kind;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One negotiated QMP session. There is no reader thread: a caller waiting for a reply (or an event) reads the socket
 * itself, one message at a time, matches replies to pending calls by {@code id} and hands events to listeners, until
 * what it waits for has come. While one caller reads, any other waits for its news; so a reply reaches its caller
 * without a hand-off between threads, which on a busy host cost a create more than QEMU's own answers. Any failure of
 * the connection (peer closed, framing error, malformed or unexpected message, a reply that did not come in time)
 * closes it and fails every pending call; the connection is not usable afterwards.
 *
 * <p>Thread-safe: commands may be executed from several threads; each waits for its own reply.
 */
public final class QmpConnection implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QmpConnection.class);

    private final String domain;
    private final Path socket;
    private final QmpTimeouts timeouts;
    private final ObjectMapper json;
    private final QmpLineChannel channel;
    /** Guards {@link #reading}; notified after every message read and when the connection fails. */
    private final Object readState = new Object();
    private boolean reading;
    private final AtomicLong ids = new AtomicLong();
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final CopyOnWriteArrayList<QmpEventListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicReference<QmpException> failure = new AtomicReference<>();

    private QmpConnection(String domain, Path socket, QmpTimeouts timeouts, ObjectMapper json, QmpLineChannel channel) {
        this.domain = domain;
        this.socket = socket;
        this.timeouts = timeouts;
        this.json = json;
        this.channel = channel;
    }

    /**
     * Connects, waits for the greeting and negotiates capabilities, each bounded by {@code timeouts}. The negotiation
     * is sent right after the connect: QEMU reads it once it has greeted, so it costs no round trip of its own.
     */
    static QmpConnection open(String domain, Path socket, QmpTimeouts timeouts, ObjectMapper json) throws QmpException {
        QmpLineChannel channel;
        try {
            channel = QmpLineChannel.connect(socket, timeouts.connect());
        } catch (SocketTimeoutException e) {
            throw QmpException.of(Kind.TIMEOUT, domain, "cannot connect to QMP socket " + socket + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw QmpException.of(Kind.CONNECTION, domain, "cannot connect to QMP socket " + socket + ": "
                    + e.getMessage(), e);
        }
        QmpConnection c = new QmpConnection(domain, socket, timeouts, json, channel);
        LOG.trace("[{}] connected to {}", domain, socket);
        try {
            Sent negotiation = c.send("qmp_capabilities", null);
            c.awaitGreeting();
            c.await(negotiation, timeouts.reply());
            return c;
        } catch (QmpException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void awaitGreeting() throws QmpException {
        if (!readUntil(greeting::isDone, System.nanoTime() + timeouts.greeting().toNanos(), "the greeting")) {
            // QEMU greets a client only once the previous one has left (docs/qemu.md#one-client-at-a-time)
            throw abort(QmpException.of(Kind.TIMEOUT, domain, "no QMP greeting on " + socket + " within "
                    + timeouts.greeting() + " (is another client connected to this monitor?)"));
        }
        if (!greeting.isDone()) {
            throw rethrow(failure.get(), "waiting for the greeting");
        }
        try {
            greeting.join();
        } catch (CompletionException e) {
            throw rethrow(e.getCause(), "waiting for the greeting");
        }
    }

    /** @return QEMU's greeting, e.g. {@code {"QMP": {"version": …, "capabilities": ["oob"]}}} */
    public JsonNode greeting() {
        return greeting.getNow(null);
    }

    public String domain() {
        return domain;
    }

    /** A new, empty arguments object to fill and pass to {@link #execute(String, ObjectNode)}. */
    public ObjectNode arguments() {
        return json.createObjectNode();
    }

    public JsonNode execute(String command) throws QmpException {
        return execute(command, null, timeouts.reply());
    }

    public JsonNode execute(String command, ObjectNode arguments) throws QmpException {
        return execute(command, arguments, timeouts.reply());
    }

    /**
     * Sends {@code command} and waits for its reply.
     *
     * @return the {@code return} member of the reply
     * @throws QmpException ERROR_REPLY when QEMU answered with an error; TIMEOUT (and the connection is closed, since
     *                      a late reply would be unmatched) when no reply came within {@code timeout}; CONNECTION or
     *                      PROTOCOL when the connection failed
     */
    public JsonNode execute(String command, ObjectNode arguments, Duration timeout) throws QmpException {
        Sent sent = send(command, arguments);
        return await(sent, timeout);
    }

    /**
     * Sends several commands without arguments before waiting for the first reply, so they cost about one round trip;
     * QEMU runs them in order. Used for the queries an operation makes before it acts.
     *
     * @return the {@code return} member of each reply, in order
     * @throws QmpException as {@link #execute(String, ObjectNode, Duration)}, for the first command that failed
     */
    public List<JsonNode> executeAll(List<String> commands) throws QmpException {
        return sendAll(commands).await();
    }

    /**
     * Sends several commands without arguments and returns at once: the caller does other work while QEMU answers, and
     * collects the replies with {@link Batch#await()}. Replies that come meanwhile wait in the socket.
     */
    public Batch sendAll(List<String> commands) throws QmpException {
        List<Sent> sent = new ArrayList<>();
        for (String command : commands) {
            sent.add(send(command, null));
        }
        return new Batch(sent);
    }

    /** Commands sent together whose replies are still to be collected. */
    public final class Batch {
        private final List<Sent> sent;

        private Batch(List<Sent> sent) {
            this.sent = sent;
        }

        /**
         * @return the {@code return} member of each reply, in order
         * @throws QmpException as {@link #execute(String, ObjectNode, Duration)}, for the first command that failed;
         *                      the replies to the others are still read
         */
        public List<JsonNode> await() throws QmpException {
            List<JsonNode> replies = new ArrayList<>();
            QmpException failed = null;
            for (Sent s : sent) {
                try {
                    replies.add(QmpConnection.this.await(s, timeouts.reply()));
                } catch (QmpException e) {
                    if (e.kind() != Kind.ERROR_REPLY) {
                        // the connection is closed (timeout, broken): the others will never be answered
                        throw e;
                    }
                    failed = failed == null ? e : failed;
                }
            }
            if (failed != null) {
                throw failed;
            }
            return replies;
        }
    }

    /** A command on its way: the id and the slot its reply will fill. */
    private record Sent(String command, String id, CompletableFuture<JsonNode> reply) {
    }

    private Sent send(String command, ObjectNode arguments) throws QmpException {
        QmpException broken = failure.get();
        if (broken != null) {
            throw broken.rethrownFor("sending " + command);
        }
        String id = domain + "-" + ids.incrementAndGet();
        ObjectNode request = json.createObjectNode().put("execute", command);
        if (arguments != null) {
            request.set("arguments", arguments);
        }
        request.put("id", id);
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        // registered before the write: the reply may arrive before write() returns
        pending.put(id, reply);
        String line = request.toString();
        try {
            LOG.trace("[{}] -> {}", domain, line);
            channel.writeLine(line, timeouts.reply());
        } catch (IOException e) {
            pending.remove(id);
            throw abort(QmpException.of(Kind.CONNECTION, domain, "cannot send " + command + ": " + e.getMessage(), e));
        }
        return new Sent(command, id, reply);
    }

    private JsonNode await(Sent sent, Duration timeout) throws QmpException {
        String command = sent.command();
        if (!readUntil(sent.reply()::isDone, System.nanoTime() + timeout.toNanos(), command)) {
            pending.remove(sent.id());
            throw abort(QmpException.of(Kind.TIMEOUT, domain, "no reply to " + command + " within " + timeout));
        }
        if (!sent.reply().isDone()) {
            // the connection failed between the check in send() and the reply's registration
            throw rethrow(failure.get(), "waiting for the reply to " + command);
        }
        JsonNode message;
        try {
            message = sent.reply().join();
        } catch (CompletionException e) {
            throw rethrow(e.getCause(), "waiting for the reply to " + command);
        }
        JsonNode error = message.get("error");
        if (error != null) {
            throw QmpException.errorReply(domain, command, error.path("class").asText(""),
                    error.path("desc").asText(""));
        }
        JsonNode ret = message.get("return");
        if (ret == null) {
            throw abort(QmpException.of(Kind.PROTOCOL, domain, "reply to " + command
                    + " has neither return nor error: " + QmpLineChannel.abbreviate(message.toString())));
        }
        return ret;
    }

    /**
     * Registers {@code listener} for every event from now on. Events are read while some caller waits on this
     * connection (for a reply or through an {@link EventSubscription}); listeners run on that caller's thread and must
     * not block.
     *
     * @return a handle that removes the listener when closed
     */
    public Registration addListener(QmpEventListener listener) {
        listeners.add(listener);
        QmpException broken = failure.get();
        if (broken != null) {
            listener.onClose(broken);
        }
        return () -> listeners.remove(listener);
    }

    /**
     * Starts collecting events. Subscribe <em>before</em> sending the command that triggers them: QEMU may emit
     * them before its reply.
     */
    public EventSubscription subscribe() {
        EventSubscription s = new EventSubscription(domain, listeners::remove, this::readUntil);
        addListener(s);
        return s;
    }

    /** @return {@code true} until the connection failed or was closed */
    public boolean isOpen() {
        return failure.get() == null;
    }

    /** Closes the socket and fails every pending call; a caller reading at the time wakes and fails. */
    @Override
    public void close() {
        fail(QmpException.of(Kind.CONNECTION, domain, "the connection to " + socket + " was closed by xensnap"));
    }

    /**
     * Reads and dispatches messages on the calling thread until {@code done} holds, the connection failed or
     * {@code deadline} passed. One caller reads at a time; the others wait to be told that a message was read.
     *
     * @param deadline a {@link System#nanoTime()}
     * @param what     what the caller waits for, for the message of an interrupt
     * @return whether {@code done} holds or the connection failed (the caller's future or queue then says how)
     * @throws QmpException CONNECTION when the thread was interrupted (the connection is closed then)
     */
    boolean readUntil(BooleanSupplier done, long deadline, String what) throws QmpException {
        while (true) {
            synchronized (readState) {
                while (true) {
                    if (done.getAsBoolean() || failure.get() != null) {
                        return true;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    if (!reading) {
                        reading = true;
                        break;
                    }
                    try {
                        readState.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw abort(QmpException.of(Kind.CONNECTION, domain, "interrupted while waiting for "
                                + what, e));
                    }
                }
            }
            try {
                readOne(deadline);
            } finally {
                synchronized (readState) {
                    reading = false;
                    readState.notifyAll();
                }
            }
        }
    }

    /** Reads one message (or nothing by the deadline) and dispatches it; any failure fails the connection. */
    private void readOne(long deadline) {
        try {
            String line = channel.readLine(deadline);
            if (line != null) {
                LOG.trace("[{}] <- {}", domain, line);
                dispatch(line);
            }
        } catch (QmpLineChannel.ClosedByPeerException e) {
            fail(QmpException.of(Kind.CONNECTION, domain, "QMP connection " + e.getMessage(), e));
        } catch (QmpLineChannel.FramingException e) {
            fail(QmpException.of(Kind.PROTOCOL, domain, e.getMessage(), e));
        } catch (IOException e) {
            fail(QmpException.of(Kind.CONNECTION, domain, "reading from " + socket + " failed: " + e, e));
        } catch (QmpException e) {
            fail(e);
        } catch (RuntimeException e) {
            fail(QmpException.of(Kind.PROTOCOL, domain, "handling a QMP message failed: " + e, e));
        }
    }

    private void dispatch(String line) throws QmpException {
        JsonNode message;
        try {
            message = json.readTree(line);
        } catch (JsonProcessingException e) {
            throw QmpException.of(Kind.PROTOCOL, domain, "not a JSON message: " + QmpLineChannel.abbreviate(line), e);
        }
        if (message == null || !message.isObject()) {
            throw QmpException.of(Kind.PROTOCOL, domain, "not a JSON object: " + QmpLineChannel.abbreviate(line));
        }
        if (!greeting.isDone()) {
            if (message.has("event")) {
                // QEMU can flush an event meant for the previous client onto a new connection ahead of the greeting
                LOG.trace("[{}] dropped an event that came before the greeting: {}", domain,
                        QmpLineChannel.abbreviate(line));
                return;
            }
            if (!message.has("QMP")) {
                throw QmpException.of(Kind.PROTOCOL, domain, "expected the QMP greeting, got: "
                        + QmpLineChannel.abbreviate(line));
            }
            greeting.complete(message);
            return;
        }
        if (message.has("event")) {
            JsonNode ts = message.path("timestamp");
            QmpEvent event = new QmpEvent(message.path("event").asText(), message.get("data"),
                    ts.path("seconds").asLong() * 1_000_000 + ts.path("microseconds").asLong());
            for (QmpEventListener l : listeners) {
                l.onEvent(event);
            }
            return;
        }
        JsonNode id = message.get("id");
        if (id == null) {
            // every command we send carries an id; QEMU drops it only when it could not parse the command
            throw QmpException.of(Kind.PROTOCOL, domain, "a message without id: " + QmpLineChannel.abbreviate(line));
        }
        CompletableFuture<JsonNode> waiting = pending.remove(id.asText());
        if (waiting == null) {
            throw QmpException.of(Kind.PROTOCOL, domain, "a reply with unknown id " + id + ": "
                    + QmpLineChannel.abbreviate(line));
        }
        waiting.complete(message);
    }

    /** Marks the connection failed (first failure wins), closes the socket, fails all waiters. */
    private QmpException fail(QmpException cause) {
        QmpException first = failure.compareAndExchange(null, cause);
        QmpException effective = first == null ? cause : first;
        if (first == null) {
            LOG.trace("[{}] connection ends: {}", domain, cause.getMessage());
            channel.close();
            greeting.completeExceptionally(effective);
            pending.values().forEach(f -> f.completeExceptionally(effective));
            pending.clear();
            listeners.forEach(l -> l.onClose(effective));
            synchronized (readState) {
                readState.notifyAll();
            }
        }
        return cause;
    }

    /** {@link #fail} and {@link #close}: once a call gives up, nothing of this connection keeps running. */
    private QmpException abort(QmpException cause) {
        fail(cause);
        close();
        return cause;
    }

    private QmpException rethrow(Throwable cause, String what) {
        if (cause instanceof QmpException q) {
            close();
            return q.rethrownFor(what);
        }
        close();
        return QmpException.of(Kind.PROTOCOL, domain, "unexpected failure while " + what + ": " + cause, cause);
    }

    @Override
    public String toString() {
        return "QmpConnection[" + domain + ", " + socket + (isOpen() ? "" : ", closed") + "]";
    }

    /** Removes a listener again. */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /** Receives events on the thread that read them. */
    public interface QmpEventListener {
        void onEvent(QmpEvent event);

        /** The connection failed or was closed; no more events will come. */
        default void onClose(QmpException cause) {
        }
    }
}
