package io.xensnap.internal.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;

/** What a CREATED event says about the guest's freeze (the itests check the events through Felix's EventAdmin). */
class EventAdminPublisherTest {

    /** Keeps what is posted: the events' properties are all this test reads. */
    private static final class Posted implements EventAdmin {
        final List<Event> events = new ArrayList<>();

        @Override
        public void postEvent(Event event) {
            events.add(event);
        }

        @Override
        public void sendEvent(Event event) {
            events.add(event);
        }
    }

    private static SnapshotInfo info(boolean quiesced, Duration frozen) {
        return new SnapshotInfo("6f1e4a52-0d3b-4c8e-9a1f-000000000009", "s1", "", Instant.EPOCH, null,
                List.of(new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2,
                        null)), quiesced, frozen);
    }

    @Test
    void aCreatedEventSaysWhetherAndHowLongTheGuestWasFrozen() {
        Posted admin = new Posted();
        EventAdminPublisher publisher = new EventAdminPublisher(admin);

        publisher.succeeded(SnapshotEvents.Operation.CREATE, DomainRef.running(9), info(true, Duration.ofMillis(42)));
        publisher.succeeded(SnapshotEvents.Operation.CREATE, DomainRef.running(9), info(false, Duration.ZERO));

        assertThat(admin.events).hasSize(2);
        assertThat(admin.events.get(0).getProperty("quiesced")).isEqualTo(true);
        assertThat(admin.events.get(0).getProperty("frozen.ms")).isEqualTo(42L);
        assertThat(admin.events.get(1).getProperty("quiesced")).isEqualTo(false);
        assertThat(admin.events.get(1).getProperty("frozen.ms")).isEqualTo(0L);
    }
}
