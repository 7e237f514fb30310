package io.xensnap.internal.events;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;

/**
 * Posts {@code io/xensnap/snapshot/CREATED|REVERTED|DELETED|FAILED} events. Exists only while an EventAdmin does: its
 * mandatory reference keeps it unsatisfied otherwise, so its class (which names EventAdmin types) is never loaded
 * without one, and the snapshot service simply has no {@link SnapshotEvents} to call.
 *
 * <p>Properties: {@code domain} (the uuid; for FAILED the domain as the caller named it), {@code domid} (Integer, when
 * the caller named a running domain), {@code snapshot}, {@code disks} (String[] of vdevs), {@code operation}; FAILED
 * adds {@code error.code} (a {@code SnapshotError} name) and {@code message}; CREATED adds {@code quiesced} (Boolean:
 * the guest was frozen through its agent for the whole snapshot) and {@code frozen.ms} (Long: how long it was frozen). A schedule's run ends with
 * {@code io/xensnap/schedule/RAN|FAILED}: {@code schedule}, {@code created}, {@code deleted}, {@code failures}
 * (String[] each).
 */
@Component(service = SnapshotEvents.class)
public final class EventAdminPublisher implements SnapshotEvents {

    /** Every topic starts with this. */
    public static final String TOPIC_PREFIX = "io/xensnap/snapshot/";
    public static final String FAILED = "FAILED";
    /** A schedule's run: {@code io/xensnap/schedule/RAN} or {@code .../FAILED} (one domain or more failed). */
    public static final String SCHEDULE_TOPIC_PREFIX = "io/xensnap/schedule/";

    private final EventAdmin eventAdmin;

    @Activate
    public EventAdminPublisher(@Reference(name = "eventAdmin") EventAdmin eventAdmin) {
        this.eventAdmin = eventAdmin;
    }

    @Override
    public void succeeded(Operation operation, DomainRef domain, SnapshotInfo snapshot) {
        Map<String, Object> p = common(operation, domain, snapshot.name());
        p.put("domain", snapshot.domainUuid());
        p.put("disks", snapshot.disks().stream().map(DiskSnapshot::vdev).toArray(String[]::new));
        if (operation == Operation.CREATE) {
            p.put("quiesced", snapshot.quiesced());
            p.put("frozen.ms", snapshot.frozen().toMillis());
        }
        // asynchronous: a slow handler must not hold the domain's lock
        eventAdmin.postEvent(new Event(TOPIC_PREFIX + operation.outcome(), p));
    }

    @Override
    public void failed(Operation operation, DomainRef domain, String snapshot, List<String> disks,
                       SnapshotException error) {
        Map<String, Object> p = common(operation, domain, snapshot == null ? "" : snapshot);
        p.put("domain", domain instanceof DomainRef.ShutOff s ? s.uuid()
                : Integer.toString(((DomainRef.Running) domain).domid()));
        p.put("disks", disks.toArray(String[]::new));
        p.put("error.code", error.code().name());
        p.put("message", String.valueOf(error.getMessage()));
        eventAdmin.postEvent(new Event(TOPIC_PREFIX + FAILED, p));
    }

    @Override
    public void scheduleRan(String schedule, List<String> created, List<String> deleted, List<String> failures) {
        Map<String, Object> p = new HashMap<>();
        p.put("schedule", schedule);
        p.put("created", created.toArray(String[]::new));
        p.put("deleted", deleted.toArray(String[]::new));
        p.put("failures", failures.toArray(String[]::new));
        eventAdmin.postEvent(new Event(SCHEDULE_TOPIC_PREFIX + (failures.isEmpty() ? "RAN" : FAILED), p));
    }

    private static Map<String, Object> common(Operation operation, DomainRef domain, String snapshot) {
        Map<String, Object> p = new HashMap<>();
        p.put("operation", operation.name());
        p.put("snapshot", snapshot);
        if (domain instanceof DomainRef.Running r) {
            p.put("domid", r.domid());
        }
        return p;
    }
}
