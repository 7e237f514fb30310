package io.xensnap.internal.qmp;

import io.xensnap.internal.qmp.QmpException.Kind;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Events collected from the moment of {@link QmpConnection#subscribe()}, in arrival order, for one waiting caller.
 * Close it when done: it keeps every event until then.
 */
public final class EventSubscription implements QmpConnection.QmpEventListener, AutoCloseable {

    /** Queued after the last event when the connection ends. */
    private record End(QmpException cause) {
    }

    private final String domain;
    private final Consumer<EventSubscription> unregister;
    private final Reader reader;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private volatile QmpException ended;

    /** Reads the connection on the waiting caller's thread (see {@link QmpConnection#readUntil}). */
    @FunctionalInterface
    interface Reader {
        boolean readUntil(BooleanSupplier done, long deadline, String what) throws QmpException;
    }

    EventSubscription(String domain, Consumer<EventSubscription> unregister, Reader reader) {
        this.domain = domain;
        this.unregister = unregister;
        this.reader = reader;
    }

    @Override
    public void onEvent(QmpEvent event) {
        queue.add(event);
    }

    @Override
    public void onClose(QmpException cause) {
        queue.add(new End(cause));
    }

    /**
     * @return the next event, or empty when none arrived within {@code timeout}
     * @throws QmpException when the connection ended (after all events received before that were taken)
     */
    public Optional<QmpEvent> poll(Duration timeout) throws QmpException {
        if (ended != null) {
            throw ended.rethrownFor("waiting for an event");
        }
        reader.readUntil(() -> !queue.isEmpty(), System.nanoTime() + Math.max(0, timeout.toNanos()), "an event");
        Object next = queue.poll();
        if (next instanceof End end) {
            ended = end.cause();
            throw ended.rethrownFor("waiting for an event");
        }
        return Optional.ofNullable((QmpEvent) next);
    }

    /**
     * @return the first event matching {@code match}; earlier events are consumed
     * @throws QmpException TIMEOUT when none arrives within {@code timeout}, or the connection's failure
     */
    public QmpEvent await(Predicate<QmpEvent> match, Duration timeout, String what) throws QmpException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw QmpException.of(Kind.TIMEOUT, domain, "no " + what + " within " + timeout);
            }
            Optional<QmpEvent> e = poll(Duration.ofNanos(left));
            if (e.isPresent() && match.test(e.get())) {
                return e.get();
            }
        }
    }

    @Override
    public void close() {
        unregister.accept(this);
    }
}
