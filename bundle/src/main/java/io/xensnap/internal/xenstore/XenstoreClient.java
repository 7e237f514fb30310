package io.xensnap.internal.xenstore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A xenstore client over one connection (docs/xen-host.md#wire-protocol). Thread-safe: calls from several threads are
 * in flight together, each matched to its reply by request id. Works with cxenstored and oxenstored 4.17 alike
 * (docs/xen-host.md#daemon-differences: oxenstored answers DIRECTORY_PART with ENOSYS but sends long DIRECTORY replies
 * whole; cxenstored does the opposite).
 *
 * <p>Every call waits at most the timeout given at construction. {@link #close()} ends the connection and both of its
 * threads.
 */
public final class XenstoreClient implements XenstoreOps, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(XenstoreClient.class);

    /** Conflicts beyond this many attempts mean something keeps rewriting the same nodes: give up, loudly. */
    public static final int DEFAULT_TX_ATTEMPTS = 16;
    private static final int MAX_PATH = 3072;
    private static final int DIRECTORY_PART_RESTARTS = 8;

    /** A transaction body: runs against the transaction's view; may run several times (retried as a whole). */
    @FunctionalInterface
    public interface TxBody<T> {
        T run(XenstoreOps tx) throws XenstoreException;
    }

    private final XsTransport transport;
    private final XsRouter router;
    private final String name;
    private final Duration timeout;
    private final int txAttempts;
    private final AtomicInteger reqIds = new AtomicInteger();
    private final AtomicInteger watchIds = new AtomicInteger();

    XenstoreClient(XsTransport transport, String name, Duration timeout, int txAttempts) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.name = Objects.requireNonNull(name, "name");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        if (txAttempts < 1) {
            throw new IllegalArgumentException("at least one transaction attempt: " + txAttempts);
        }
        this.txAttempts = txAttempts;
        this.router = new XsRouter(transport, name);
        router.start();
    }

    /**
     * Connects to the daemon's socket (see {@link XenstoreSocketPath} for where it is).
     *
     * @param name    for log lines and thread names, e.g. the domain or component using the connection
     * @param timeout how long any single call may wait for its reply
     * @throws XenstoreException {@code ECONNREFUSED} when the socket is missing or nobody listens, with the cause
     */
    public static XenstoreClient connect(Path socket, String name, Duration timeout) throws XenstoreException {
        return connect(socket, name, timeout, DEFAULT_TX_ATTEMPTS);
    }

    /** As {@link #connect(Path, String, Duration)}, with its own bound on transaction attempts. */
    public static XenstoreClient connect(Path socket, String name, Duration timeout, int txAttempts)
            throws XenstoreException {
        UnixSocketTransport transport;
        try {
            transport = UnixSocketTransport.connect(socket, timeout);
        } catch (IOException e) {
            throw new XenstoreException(XenstoreException.ECONNREFUSED, "cannot connect to xenstored on " + socket
                    + ": " + e, e);
        }
        try {
            return new XenstoreClient(transport, name, timeout, txAttempts);
        } catch (RuntimeException e) {
            transport.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------- node operations outside a transaction

    @Override
    public byte[] readBytes(String path) throws XenstoreException {
        return readBytes(0, path);
    }

    @Override
    public void write(String path, byte[] value) throws XenstoreException {
        write(0, path, value);
    }

    @Override
    public void mkdir(String path) throws XenstoreException {
        mkdir(0, path);
    }

    @Override
    public void rm(String path) throws XenstoreException {
        rm(0, path);
    }

    @Override
    public List<String> directory(String path) throws XenstoreException {
        return directory(0, path);
    }

    @Override
    public List<XsPerm> getPerms(String path) throws XenstoreException {
        return getPerms(0, path);
    }

    @Override
    public void setPerms(String path, List<XsPerm> perms) throws XenstoreException {
        setPerms(0, path, perms);
    }

    @Override
    public List<Optional<String>> readAllIfExist(List<String> paths) throws XenstoreException {
        return readAllIfExist(0, paths);
    }

    // ---------------------------------------------------------------- the same, for a transaction id

    /*
     * Pipelined: every READ goes out before the first reply is awaited. The daemon answers one connection's requests
     * in order, and the router matches replies by request id either way; the limit on outstanding requests (xenstored
     * 4.17's quota) applies to guest connections, not to dom0's socket.
     */
    List<Optional<String>> readAllIfExist(int tx, List<String> paths) throws XenstoreException {
        List<XsPacket> requests = new ArrayList<>();
        List<CompletableFuture<XsPacket>> slots = new ArrayList<>();
        sendReads(tx, paths, requests, slots);
        List<Optional<String>> values = new ArrayList<>();
        XenstoreException failed = null;
        for (int i = 0; i < requests.size(); i++) {
            XsPacket request = requests.get(i);
            XsPacket reply;
            try {
                reply = await(slots.get(i), request);
            } catch (XenstoreException e) {
                // what is still in flight would never be awaited
                for (int j = i + 1; j < requests.size(); j++) {
                    router.forget(requests.get(j).reqId());
                }
                throw e;
            }
            if (reply.op() == XsOp.ERROR) {
                XenstoreException x = new XenstoreException(XsPayload.firstString(reply.payload()),
                        "READ " + describe(request));
                if (!x.is(XenstoreException.ENOENT) && failed == null) {
                    failed = x;
                }
                values.add(Optional.empty());
            } else if (reply.op() != XsOp.READ || reply.txId() != tx) {
                if (failed == null) {
                    failed = new XenstoreException(XenstoreException.EPROTO, "reply " + reply + " to " + request);
                }
                values.add(Optional.empty());
            } else {
                values.add(Optional.of(new String(reply.payload(), StandardCharsets.UTF_8)));
            }
        }
        if (failed != null) {
            throw failed;
        }
        return values;
    }

    /** Sends one READ per path, each with its reply slot; on a failure no slot stays behind. */
    private void sendReads(int tx, List<String> paths, List<XsPacket> requests,
            List<CompletableFuture<XsPacket>> slots) throws XenstoreException {
        try {
            for (String path : paths) {
                XsPacket request = new XsPacket(XsOp.READ, nextReqId(), tx, XsPayload.terminated(checkPath(path)));
                slots.add(router.expect(request.reqId()));
                requests.add(request);
                LOG.trace("[{}] -> {}", name, request);
                transport.send(XsCodec.encode(request));
            }
        } catch (IOException e) {
            requests.forEach(r -> router.forget(r.reqId()));
            XenstoreException x = new XenstoreException(XenstoreException.ECONNRESET, "sending READ to "
                    + transport.describe() + " failed: " + e, e);
            router.broken(x);
            throw x;
        } catch (XenstoreException | RuntimeException e) {
            requests.forEach(r -> router.forget(r.reqId()));
            throw e;
        }
    }

    byte[] readBytes(int tx, String path) throws XenstoreException {
        return call(XsOp.READ, tx, XsPayload.terminated(checkPath(path))).payload();
    }

    void write(int tx, String path, byte[] value) throws XenstoreException {
        call(XsOp.WRITE, tx, XsPayload.pathAndValue(checkPath(path), value));
    }

    void mkdir(int tx, String path) throws XenstoreException {
        call(XsOp.MKDIR, tx, XsPayload.terminated(checkPath(path)));
    }

    void rm(int tx, String path) throws XenstoreException {
        call(XsOp.RM, tx, XsPayload.terminated(checkPath(path)));
    }

    List<XsPerm> getPerms(int tx, String path) throws XenstoreException {
        List<XsPerm> perms = new ArrayList<>();
        for (String p : XsPayload.split(call(XsOp.GET_PERMS, tx, XsPayload.terminated(checkPath(path))).payload())) {
            try {
                perms.add(XsPerm.parse(p));
            } catch (IllegalArgumentException e) {
                throw new XenstoreException(XenstoreException.EPROTO, "GET_PERMS " + path + " answered '" + p + "'", e);
            }
        }
        return List.copyOf(perms);
    }

    void setPerms(int tx, String path, List<XsPerm> perms) throws XenstoreException {
        if (perms.isEmpty()) {
            throw new IllegalArgumentException("a node needs at least its owner");
        }
        List<String> parts = new ArrayList<>();
        parts.add(checkPath(path));
        perms.forEach(p -> parts.add(p.toString()));
        call(XsOp.SET_PERMS, tx, XsPayload.terminated(parts.toArray(String[]::new)));
    }

    List<String> directory(int tx, String path) throws XenstoreException {
        checkPath(path);
        try {
            return XsPayload.split(call(XsOp.DIRECTORY, tx, XsPayload.terminated(path)).payload());
        } catch (XenstoreException e) {
            if (!e.is(XenstoreException.E2BIG)) {
                throw e;
            }
            return directoryInParts(tx, path, e);
        }
    }

    /*
     * DIRECTORY_PART path|offset| answers gen|child|child|... and one more NUL once the list is complete; offset counts
     * bytes of the concatenated "child|" list. A changed generation means the directory changed between pages: start
     * over, or the pages would not fit together.
     */
    private List<String> directoryInParts(int tx, String path, XenstoreException tooBig) throws XenstoreException {
        List<String> children = new ArrayList<>();
        String generation = null;
        long offset = 0;
        int restarts = 0;
        while (true) {
            byte[] reply;
            try {
                reply = call(XsOp.DIRECTORY_PART, tx, XsPayload.terminated(path, Long.toString(offset))).payload();
            } catch (XenstoreException e) {
                if (e.is(XenstoreException.ENOSYS)) {
                    // A daemon that answers E2BIG but has no DIRECTORY_PART cannot list this node at all.
                    e.addSuppressed(tooBig);
                    throw new XenstoreException(XenstoreException.E2BIG, "the listing of " + path
                            + " is too long for one reply and the daemon has no DIRECTORY_PART", e);
                }
                throw e;
            }
            int genEnd = indexOf(reply, 0, (byte) 0);
            if (genEnd < 0) {
                throw new XenstoreException(XenstoreException.EPROTO, "DIRECTORY_PART " + path + " without generation");
            }
            String gen = new String(reply, 0, genEnd, StandardCharsets.US_ASCII);
            if (generation != null && !generation.equals(gen)) {
                if (++restarts > DIRECTORY_PART_RESTARTS) {
                    throw new XenstoreException(XenstoreException.EAGAIN, path + " kept changing while being listed");
                }
                children.clear();
                offset = 0;
                generation = null;
                continue;
            }
            generation = gen;
            byte[] rest = Arrays.copyOfRange(reply, genEnd + 1, reply.length);
            int n = rest.length;
            boolean complete = n >= 1 && rest[n - 1] == 0 && (n == 1 || rest[n - 2] == 0);
            List<String> page = XsPayload.split(complete ? Arrays.copyOf(rest, n - 1) : rest);
            if (!complete && page.isEmpty()) {
                throw new XenstoreException(XenstoreException.EPROTO, "DIRECTORY_PART " + path + " at " + offset
                        + " returned nothing and is not complete");
            }
            for (String child : page) {
                children.add(child);
                offset += child.getBytes(StandardCharsets.UTF_8).length + 1;
            }
            if (complete) {
                return List.copyOf(children);
            }
        }
    }

    private static int indexOf(byte[] a, int from, byte b) {
        for (int i = from; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- watches

    /**
     * Sets a watch on {@code path} and everything below it. The listener runs on the connection's event thread, in
     * order; it also gets the event the daemon fires when the watch is set.
     *
     * @return the watch; closing it removes it
     */
    public XsWatch watch(String path, Consumer<WatchEvent> listener) throws XenstoreException {
        checkPath(path);
        Objects.requireNonNull(listener, "listener");
        String token = "xensnap-" + Integer.toUnsignedString(watchIds.incrementAndGet());
        // Registered before the request goes out: the first event may come before the reply.
        router.addWatch(token, listener);
        try {
            call(XsOp.WATCH, 0, XsPayload.terminated(path, token));
        } catch (XenstoreException | RuntimeException e) {
            router.removeWatch(token);
            throw e;
        }
        return new XsWatch(this, path, token);
    }

    void unwatch(String path, String token) throws XenstoreException {
        try {
            call(XsOp.UNWATCH, 0, XsPayload.terminated(path, token));
        } finally {
            router.removeWatch(token);
        }
    }

    // ---------------------------------------------------------------- transactions

    /**
     * Runs {@code body} in a transaction and commits it. On EAGAIN (a conflicting change by someone else, reported by
     * the commit or by an operation) the whole body runs again in a new transaction, up to the attempt bound of this
     * client. Any other failure aborts the transaction and propagates.
     *
     * @return what the body returned in the attempt that committed
     * @throws XenstoreException {@code EAGAIN} once the attempts are used up, or the body's or daemon's failure
     */
    public <T> T transaction(TxBody<T> body) throws XenstoreException {
        XenstoreException lastConflict = null;
        for (int attempt = 1; attempt <= txAttempts; attempt++) {
            if (attempt > 1) {
                backOff(attempt);
            }
            int tx = startTransaction();
            T result;
            try {
                result = body.run(new XsTransaction(this, tx));
            } catch (XenstoreException e) {
                abort(tx, e);
                if (e.is(XenstoreException.EAGAIN)) {
                    lastConflict = e;
                    continue;
                }
                throw e;
            } catch (RuntimeException e) {
                abort(tx, e);
                throw e;
            }
            try {
                // The daemon forgets the transaction whatever the outcome of TRANSACTION_END: nothing to abort here.
                call(XsOp.TRANSACTION_END, tx, XsPayload.terminated("T"));
                return result;
            } catch (XenstoreException e) {
                if (!e.is(XenstoreException.EAGAIN)) {
                    throw e;
                }
                LOG.debug("[{}] transaction {} conflicted (attempt {} of {})", name, Integer.toUnsignedString(tx),
                        attempt, txAttempts);
                lastConflict = e;
            }
        }
        throw new XenstoreException(XenstoreException.EAGAIN, "transaction still conflicting after " + txAttempts
                + " attempts", lastConflict);
    }

    private int startTransaction() throws XenstoreException {
        String id = XsPayload.firstString(call(XsOp.TRANSACTION_START, 0, XsPayload.terminated("")).payload());
        try {
            int tx = Integer.parseUnsignedInt(id);
            if (tx == 0) {
                throw new NumberFormatException("0 means no transaction");
            }
            return tx;
        } catch (NumberFormatException e) {
            throw new XenstoreException(XenstoreException.EPROTO, "TRANSACTION_START answered '" + id + "'", e);
        }
    }

    private void abort(int tx, Exception cause) {
        try {
            call(XsOp.TRANSACTION_END, tx, XsPayload.terminated("F"));
        } catch (XenstoreException e) {
            // After a failed operation the daemon may already have dropped the transaction (EAGAIN does).
            cause.addSuppressed(e);
        }
    }

    private static void backOff(int attempt) throws XenstoreException {
        // Short and growing: the other writer is usually done within milliseconds.
        long millis = Math.min(1L << Math.min(attempt, 6), 50L);
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new XenstoreException(XenstoreException.EINTR, "interrupted between transaction attempts", e);
        }
    }

    // ---------------------------------------------------------------- the exchange

    private XsPacket call(XsOp op, int tx, byte[] payload) throws XenstoreException {
        int reqId = nextReqId();
        XsPacket request = new XsPacket(op, reqId, tx, payload);
        CompletableFuture<XsPacket> slot = router.expect(reqId);
        LOG.trace("[{}] -> {}", name, request);
        try {
            transport.send(XsCodec.encode(request));
        } catch (IOException e) {
            router.forget(reqId);
            XenstoreException x = new XenstoreException(XenstoreException.ECONNRESET, "sending " + op + " to "
                    + transport.describe() + " failed: " + e, e);
            router.broken(x);
            throw x;
        }
        XsPacket reply = await(slot, request);
        if (reply.op() == XsOp.ERROR) {
            throw new XenstoreException(XsPayload.firstString(reply.payload()), op + " " + describe(request));
        }
        if (reply.op() != op || reply.txId() != tx) {
            throw new XenstoreException(XenstoreException.EPROTO, "reply " + reply + " to " + request);
        }
        return reply;
    }

    private XsPacket await(CompletableFuture<XsPacket> slot, XsPacket request) throws XenstoreException {
        try {
            return slot.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            router.forget(request.reqId());
            throw new XenstoreException(XenstoreException.ETIMEDOUT, "no reply to " + request.op() + " "
                    + describe(request) + " from " + transport.describe() + " within " + timeout, e);
        } catch (InterruptedException e) {
            router.forget(request.reqId());
            Thread.currentThread().interrupt();
            throw new XenstoreException(XenstoreException.EINTR, "interrupted waiting for " + request.op(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof XenstoreException x) {
                throw new XenstoreException(x.errno(), x.detail() + " (while waiting for " + request.op() + ")", x);
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private static String describe(XsPacket request) {
        List<String> parts = XsPayload.split(request.payload());
        return parts.isEmpty() ? "" : parts.get(0);
    }

    private int nextReqId() {
        // 0 is what the daemon puts in watch events; skip it when the counter wraps.
        int id = reqIds.incrementAndGet();
        while (id == 0) {
            id = reqIds.incrementAndGet();
        }
        return id;
    }

    private static String checkPath(String path) {
        Objects.requireNonNull(path, "path");
        if (path.isEmpty() || path.length() > MAX_PATH) {
            throw new IllegalArgumentException("xenstore path must have 1.." + MAX_PATH + " characters: '" + path + "'");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/'
                    || c == '_' || c == '@' || c == '-';
            if (!ok) {
                throw new IllegalArgumentException("character '" + c + "' not allowed in xenstore path '" + path + "'");
            }
        }
        if (path.contains("//") || (path.length() > 1 && path.endsWith("/"))) {
            throw new IllegalArgumentException("malformed xenstore path '" + path + "'");
        }
        return path;
    }

    /**
     * Waits until the listeners of every watch event received so far have run. Called after a reply, it covers every
     * event the daemon queued on this connection before that reply: the daemon sends one connection's events and
     * replies in the order it queued them (docs/xen-host.md#watches).
     *
     * @throws XenstoreException {@code ECONNRESET} once the client is closed, {@code ETIMEDOUT} after the client's
     *         timeout, {@code EINTR}
     */
    public void awaitEvents() throws XenstoreException {
        router.awaitEvents(timeout);
    }

    /** @return whether the connection still works (false once the daemon went away or {@link #close()} ran) */
    public boolean isOpen() {
        return router.isOpen();
    }

    @Override
    public void close() {
        router.close();
    }

    @Override
    public String toString() {
        return "XenstoreClient[" + name + ", " + transport.describe() + "]";
    }
}
