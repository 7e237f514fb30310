package io.xensnap.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;

/** Collects xensnap's EventAdmin events, as any other bundle would receive them. */
final class SnapshotEvents implements EventHandler {

    static final String TOPICS = "io/xensnap/snapshot/*";

    private final List<Event> received = new ArrayList<>();
    private ServiceRegistration<EventHandler> registration;

    static SnapshotEvents listen(BundleContext context) {
        SnapshotEvents events = new SnapshotEvents();
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(EventConstants.EVENT_TOPIC, TOPICS);
        events.registration = context.registerService(EventHandler.class, events, props);
        return events;
    }

    @Override
    public synchronized void handleEvent(Event event) {
        received.add(event);
        notifyAll();
    }

    /**
     * Waits for the event of {@code outcome} ({@code CREATED}, ..., {@code FAILED}) about {@code snapshot}.
     *
     * @return the event, removed from what was received
     */
    synchronized Event await(String outcome, String snapshot) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            for (Event e : received) {
                if (e.getTopic().equals("io/xensnap/snapshot/" + outcome)
                        && snapshot.equals(e.getProperty("snapshot"))) {
                    received.remove(e);
                    return e;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no " + outcome + " event for snapshot " + snapshot + " within 10 s; got "
                        + received.stream().map(x -> x.getTopic() + " " + x.getProperty("snapshot")).toList());
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** Checks the properties every success event carries. */
    synchronized void awaitSuccess(String outcome, TestDomain d, String snapshot, String... disks)
            throws InterruptedException {
        Event e = await(outcome, snapshot);
        assertEquals("domain of " + e, d.uuid(), e.getProperty("domain"));
        assertArrayEquals("disks of " + e, disks, (String[]) e.getProperty("disks"));
    }

    synchronized List<Event> drain() {
        List<Event> all = new ArrayList<>(received);
        received.clear();
        return all;
    }

    void close() {
        registration.unregister();
    }
}
