package io.xensnap.internal.engine;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.internal.xenstore.DomainDisks;
import io.xensnap.internal.xenstore.RunningDomain;
import io.xensnap.internal.xenstore.WatchEvent;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * The running domains of this host as xenstore last described them, kept over one long-lived xenstore connection that
 * watches every node those descriptions were read from (docs/architecture.md#the-domain-view). A domain is read the
 * first time it is asked for and kept until a watch event says one of its nodes changed.
 *
 * <p>Every answer is checked first: one read on the watching connection ({@link #facts}) is a barrier after which
 * every change made before it has reached the listener, so a kept entry that survived it is what xenstore says now.
 * When in doubt (no connection, any failure on it) the view answers nothing and the caller reads as it would without
 * it. Thread-safe.
 */
public final class DomainWatchView implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DomainWatchView.class);

    /** The watched roots: every node a {@link RunningDomain} is read from lies below one of them. */
    static final List<String> WATCHED = List.of("@introduceDomain", "@releaseDomain", "/local", "/vm");

    /* A backend's directory and the nodes of it the read uses; the frontend's domid is group 1. */
    private static final Pattern BACKEND_READ =
            Pattern.compile("/local/domain/\\d+/backend/[^/]+/(\\d+)(/[^/]+(/params|/dev|/mode|/device-type)?)?");
    /* Whole backend directories of every guest at once. */
    private static final Pattern BACKENDS = Pattern.compile("/local/domain/\\d+/backend(/[^/]+)?");
    /* The nodes of a domain that the read uses: the directory itself, name, vm, the vbd frontends and their links. */
    private static final Pattern READ_NODES = Pattern.compile(
            "/local/domain/(\\d+)(/name|/vm|/device|/device/vbd|/device/vbd/[^/]+|/device/vbd/[^/]+/backend)?");
    /* Any other node of a domain (its memory, its data, a frontend's or backend's state): nothing the read uses. */
    private static final Pattern OTHER_NODES = Pattern.compile("/local/domain/\\d+/.+");

    private final Connectors.Xenstore xenstore;
    private final ExecutorService refresher;
    private final ReentrantLock connecting = new ReentrantLock();
    private XenstoreClient connection;

    // guarded by this: the entries, and the counters that tell a read whether anything changed while it ran
    private final Map<Integer, RunningDomain> entries = new HashMap<>();
    private final Map<Integer, Long> changes = new HashMap<>();
    private final Set<Integer> refreshing = new HashSet<>();
    private long epoch;
    private boolean closed;

    /** @param xenstore opens the one connection the view keeps (again after it is lost) */
    public DomainWatchView(Connectors.Xenstore xenstore) {
        this.xenstore = Objects.requireNonNull(xenstore, "xenstore");
        this.refresher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "xensnap-domain-view");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The domain as xenstore says it is now: the kept entry when no change to its nodes came before the barrier,
     * else read afresh on the view's connection (and kept, unless a change came while reading).
     *
     * @return empty when the view cannot answer (no connection to xenstored, a failure on it, any error while
     *         reading): then the caller reads as it would without the view, and gets the answer or error it always got
     */
    public Optional<RunningDomain> facts(int domid) {
        XenstoreClient xs;
        try {
            xs = connection();
        } catch (XenstoreException e) {
            LOG.debug("domain view: no connection to xenstored, reading directly: {}", e.getMessage());
            return Optional.empty();
        }
        try {
            return Optional.of(facts(xs, domid));
        } catch (XenstoreException e) {
            if (!xs.isOpen() || !leavesConnectionSound(e)) {
                lost(xs, e);
            }
            return Optional.empty();
        }
    }

    /*
     * The barrier: xenstored queues a watch event on a connection's output when the change commits, ahead of the reply
     * to any request it handles later on that connection; the read's reply therefore comes after the events of every
     * change made before the read was sent, and awaitEvents() waits until their listener has run. The read itself also
     * tells whether the domid still names the same domain (vm leads to the uuid).
     */
    private RunningDomain facts(XenstoreClient xs, int domid) throws XenstoreException {
        String vm = xs.read("/local/domain/" + domid + "/vm");
        xs.awaitEvents();
        Stamp stamp;
        synchronized (this) {
            RunningDomain kept = entries.get(domid);
            if (kept != null && kept.vm().equals(vm)) {
                return kept;
            }
            stamp = stamp(domid);
        }
        RunningDomain read = new DomainDisks(xs).running(domid);
        keep(read, stamp, vm);
        return read;
    }

    /** Keeps what was read unless a change to the domain (or to all) reached the listener since the stamp. */
    private synchronized void keep(RunningDomain read, Stamp stamp, String barrierVm) {
        // only a vm node below the watched /vm: another would lead to a uuid no watch covers
        boolean watchable = read.vm().equals(barrierVm) && read.vm().startsWith("/vm/")
                && read.vm().indexOf('/', "/vm/".length()) < 0;
        if (!closed && watchable && stamp.equals(stamp(read.domain().domid()))) {
            entries.put(read.domain().domid(), read);
        }
    }

    private Stamp stamp(int domid) {
        return new Stamp(epoch, changes.getOrDefault(domid, 0L));
    }

    /** Which changes had reached the listener: all at once, and the domain's own. */
    private record Stamp(long epoch, long domainChanges) {
    }

    /** The connection, opened with its watches when there is none or the last one was lost. */
    private XenstoreClient connection() throws XenstoreException {
        connecting.lock();
        try {
            if (connection != null && connection.isOpen()) {
                return connection;
            }
            synchronized (this) {
                if (closed) {
                    throw new XenstoreException(XenstoreException.ECONNRESET, "domain view closed");
                }
            }
            if (connection != null) {
                lost(connection, new XenstoreException(XenstoreException.ECONNRESET, "connection ended"));
            }
            return open();
        } finally {
            connecting.unlock();
        }
    }

    private XenstoreClient open() throws XenstoreException {
        XenstoreClient xs = xenstore.open();
        try {
            for (String path : WATCHED) {
                // never unwatched one by one: closing the connection ends them all
                xs.watch(path, this::changed);
            }
            // every watch fires once when set: let those pass before any entry is kept
            xs.awaitEvents();
        } catch (XenstoreException | RuntimeException e) {
            xs.close();
            throw e;
        }
        dropAll();
        connection = xs;
        LOG.debug("domain view: watching xenstore on {}", xs);
        return xs;
    }

    /** Events missed from now on would go unseen: nothing kept is trusted any more, and the connection goes. */
    private void lost(XenstoreClient xs, XenstoreException why) {
        LOG.info("domain view: dropped ({}); domains are read directly until it reconnects", why.getMessage());
        dropAll();
        connecting.lock();
        try {
            if (connection == xs) {
                connection = null;
            }
        } finally {
            connecting.unlock();
        }
        xs.close();
    }

    /** The watch listener: drops what the changed node may have been read into. */
    void changed(WatchEvent event) {
        try {
            classify(event.path());
        } catch (RuntimeException e) {
            // a domid too long for an int, say: an event that cannot be placed drops everything rather than nothing
            dropAll();
            throw e;
        }
    }

    private void classify(String path) {
        Matcher backend = BACKEND_READ.matcher(path);
        if (backend.matches()) {
            dropDomain(Integer.parseInt(backend.group(1)));
            return;
        }
        if (BACKENDS.matcher(path).matches()) {
            dropAll();
            return;
        }
        Matcher own = READ_NODES.matcher(path);
        if (own.matches()) {
            dropDomain(Integer.parseInt(own.group(1)));
            return;
        }
        if (!OTHER_NODES.matcher(path).matches()) {
            // a domain came or went, /vm, the watched roots themselves or an unknown path: trust nothing kept
            dropAll();
        }
    }

    private synchronized void dropDomain(int domid) {
        boolean kept = entries.remove(domid) != null;
        changes.merge(domid, 1L, Long::sum);
        if (kept && !closed && refreshing.add(domid)) {
            try {
                refresher.execute(() -> refresh(domid));
            } catch (RejectedExecutionException e) {
                refreshing.remove(domid);
            }
        }
    }

    /*
     * A kept domain changed (a snapshot's own disk swap, typically): read it again now rather than in the next
     * request. No barrier is needed to keep it: the stamp is taken before the read, and the event of any change the
     * read may have missed reaches the listener after the stamp, so keep() refuses it or the listener drops it.
     */
    private void refresh(int domid) {
        XenstoreClient xs;
        Stamp stamp;
        synchronized (this) {
            refreshing.remove(domid);
            if (closed) {
                return;
            }
            stamp = stamp(domid);
        }
        connecting.lock();
        try {
            xs = connection != null && connection.isOpen() ? connection : null;
        } finally {
            connecting.unlock();
        }
        if (xs == null) {
            return;
        }
        try {
            RunningDomain read = new DomainDisks(xs).running(domid);
            keep(read, stamp, read.vm());
        } catch (XenstoreException e) {
            // nothing kept; the next request reads it, and meets the failure itself if it lasts
            LOG.debug("domain view: domain {} not read again after its change: {}", domid, e.getMessage());
        }
    }

    private synchronized void dropAll() {
        entries.clear();
        changes.clear();
        epoch++;
    }

    /**
     * @return whether the failure was xenstored's answer or the caller's interrupt, after which the connection and its
     *         events are as good as before; a timeout, a reset or a protocol error are not
     */
    private static boolean leavesConnectionSound(XenstoreException e) {
        return e.is(XenstoreException.ENOENT) || e.is(XenstoreException.EINVAL) || e.is(XenstoreException.ENOTSUP)
                || e.is("EACCES") || e.is(XenstoreException.EAGAIN) || e.is(XenstoreException.E2BIG)
                || e.is(XenstoreException.EINTR);
    }

    /** @return how many domains are kept, for tests */
    synchronized int size() {
        return entries.size();
    }

    /** Closes the connection; the view answers nothing afterwards. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        refresher.shutdownNow();
        dropAll();
        connecting.lock();
        try {
            if (connection != null) {
                connection.close();
                connection = null;
            }
        } finally {
            connecting.unlock();
        }
        try {
            // a refresh on its way out fails on the closed connection at once
            refresher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
