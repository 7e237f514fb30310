package io.xensnap.internal.xenstore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one reader of a connection. Replies go to the slot registered under their req_id, WATCH_EVENTs to the listener
 * registered under their token; events may come before the reply to the request that caused them (cxenstored sends
 * the event of a WRITE before its OK). Listeners run on a separate single event thread, in arrival order, so that a
 * listener may call the client without waiting on the reader it would block.
 *
 * <p>When the connection ends for any reason, every waiting and every later call fails with the reason
 * ({@code ECONNRESET}, or {@code EPROTO} after a framing error), the socket is closed and the reader ends; the event
 * thread ends with {@link #close()}.
 */
final class XsRouter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(XsRouter.class);
    private static final Duration THREAD_END_WAIT = Duration.ofSeconds(2);

    private final XsTransport transport;
    private final String name;
    private final Map<Integer, CompletableFuture<XsPacket>> pending = new ConcurrentHashMap<>();
    private final Map<String, Consumer<WatchEvent>> watches = new ConcurrentHashMap<>();
    private final ExecutorService events;
    private final Thread reader;
    private volatile Thread eventThread;
    private volatile XenstoreException closedBecause;

    XsRouter(XsTransport transport, String name) {
        this.transport = transport;
        this.name = name;
        this.events = Executors.newSingleThreadExecutor(r -> {
            eventThread = daemon(r, "xenstore-events[" + name + "]");
            return eventThread;
        });
        this.reader = daemon(this::readLoop, "xenstore-reader[" + name + "]");
    }

    private static Thread daemon(Runnable r, String threadName) {
        Thread t = new Thread(r, threadName);
        t.setDaemon(true);
        return t;
    }

    void start() {
        reader.start();
    }

    /**
     * Registers the slot for a reply; call before sending the request, which may be answered before send returns.
     *
     * @throws XenstoreException with the reason the connection ended, when it has
     */
    CompletableFuture<XsPacket> expect(int reqId) throws XenstoreException {
        CompletableFuture<XsPacket> slot = new CompletableFuture<>();
        if (pending.putIfAbsent(reqId, slot) != null) {
            throw new IllegalStateException("request id " + Integer.toUnsignedString(reqId) + " is still in flight");
        }
        XenstoreException closed = closedBecause;
        if (closed != null) {
            pending.remove(reqId);
            throw copy(closed);
        }
        return slot;
    }

    /** Drops a slot whose request failed to go out or whose caller gave up waiting. */
    void forget(int reqId) {
        pending.remove(reqId);
    }

    void addWatch(String token, Consumer<WatchEvent> listener) {
        if (watches.putIfAbsent(token, listener) != null) {
            throw new IllegalStateException("watch token " + token + " is in use");
        }
    }

    void removeWatch(String token) {
        watches.remove(token);
    }

    boolean isOpen() {
        return closedBecause == null;
    }

    /**
     * Waits until every watch event read so far has been handed to its listener. The reader queues an event for the
     * event thread before it completes the slot of any reply that came after it, so once a caller holds a reply, a
     * marker queued now runs after the listeners of every event the daemon sent before that reply.
     *
     * @throws XenstoreException {@code ECONNRESET} once the client is closed, {@code ETIMEDOUT}, {@code EINTR}
     */
    void awaitEvents(Duration timeout) throws XenstoreException {
        if (Thread.currentThread() == eventThread) {
            throw new IllegalStateException("a watch listener cannot wait for the events queued behind it");
        }
        CompletableFuture<Void> marker = new CompletableFuture<>();
        try {
            events.execute(() -> marker.complete(null));
        } catch (RejectedExecutionException e) {
            throw new XenstoreException(XenstoreException.ECONNRESET, "connection " + transport.describe()
                    + " closed: its watch events are gone", e);
        }
        try {
            marker.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new XenstoreException(XenstoreException.ETIMEDOUT, "watch listeners of " + transport.describe()
                    + " still busy after " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new XenstoreException(XenstoreException.EINTR, "interrupted waiting for watch listeners", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * The connection failed on the sending side (the daemon went away before the reader saw the end): it ends here,
     * so that {@link #isOpen()} says so at once and every other caller waiting gets the same failure.
     */
    void broken(XenstoreException why) {
        end(why);
    }

    private void readLoop() {
        XsCodec codec = new XsCodec();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (true) {
                buf.clear();
                int n = transport.read(buf);
                if (n < 0) {
                    end(new XenstoreException(XenstoreException.ECONNRESET, "xenstored closed the connection "
                            + transport.describe() + (codec.inPacket() ? " in the middle of a message" : "")));
                    return;
                }
                buf.flip();
                for (XsPacket p : codec.decode(buf)) {
                    route(p);
                }
            }
        } catch (AsynchronousCloseException e) {
            end(new XenstoreException(XenstoreException.ECONNRESET, "connection " + transport.describe()
                    + " closed", e));
        } catch (IOException e) {
            end(new XenstoreException(XenstoreException.ECONNRESET, "reading from " + transport.describe()
                    + " failed", e));
        } catch (XenstoreException e) {
            // The stream cannot be resynchronised after a framing error.
            end(e);
        }
    }

    private void route(XsPacket p) {
        LOG.trace("[{}] <- {}", name, p);
        if (p.op() == XsOp.WATCH_EVENT) {
            routeEvent(p);
            return;
        }
        CompletableFuture<XsPacket> slot = pending.remove(p.reqId());
        if (slot == null) {
            // The caller gave up waiting (timeout) before the reply came.
            LOG.debug("[{}] reply nobody waits for any more: {}", name, p);
            return;
        }
        slot.complete(p);
    }

    private void routeEvent(XsPacket p) {
        List<String> parts = XsPayload.split(p.payload());
        if (parts.size() < 2) {
            LOG.debug("[{}] malformed watch event ignored: {}", name, p);
            return;
        }
        WatchEvent event = new WatchEvent(parts.get(0), parts.get(1));
        Consumer<WatchEvent> listener = watches.get(event.token());
        if (listener == null) {
            // Events already queued by the daemon still arrive after UNWATCH.
            LOG.debug("[{}] event for no current watch: {}", name, event);
            return;
        }
        try {
            events.execute(() -> {
                if (watches.get(event.token()) != listener) {
                    return;
                }
                try {
                    listener.accept(event);
                } catch (RuntimeException e) {
                    // Nobody up the stack to hand it to: the event thread must survive for the next event.
                    LOG.warn("[{}] watch listener failed on {}", name, event, e);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("[{}] closing: event dropped: {}", name, event);
        }
    }

    private void end(XenstoreException why) {
        if (closedBecause == null) {
            closedBecause = why;
        }
        LOG.debug("[{}] connection ended: {}", name, why.getMessage());
        for (Integer id : List.copyOf(pending.keySet())) {
            CompletableFuture<XsPacket> slot = pending.remove(id);
            if (slot != null) {
                slot.completeExceptionally(copy(why));
            }
        }
        // Whatever ended the stream, the socket is of no further use: release it now, not at close().
        transport.close();
    }

    private static XenstoreException copy(XenstoreException e) {
        return new XenstoreException(e.errno(), e.detail(), e);
    }

    /** Closes the connection and waits (boundedly) for the reader and the event thread to end. */
    @Override
    public void close() {
        try {
            transport.close();
        } finally {
            events.shutdown();
            try {
                if (reader.isAlive() && reader != Thread.currentThread()) {
                    reader.join(THREAD_END_WAIT.toMillis());
                }
                // A listener may close the client: it cannot wait for its own thread to end.
                if (eventThread != Thread.currentThread()
                        && !events.awaitTermination(THREAD_END_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    // A listener that does not return: interrupt it rather than leave the thread behind.
                    events.shutdownNow();
                    events.awaitTermination(THREAD_END_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                }
                // The executor counts as terminated while its last worker is still on its way out: wait for the
                // thread itself, so that nothing of this connection runs once close() returns.
                Thread ev = eventThread;
                if (ev != null && ev != Thread.currentThread()) {
                    ev.join(THREAD_END_WAIT.toMillis());
                }
            } catch (InterruptedException e) {
                events.shutdownNow();
                Thread.currentThread().interrupt();
            }
            end(new XenstoreException(XenstoreException.ECONNRESET, "client closed"));
        }
    }
}
