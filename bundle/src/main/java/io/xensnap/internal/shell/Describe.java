package io.xensnap.internal.shell;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.TemporalAccessor;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotKind;

/** Short texts for the console. */
final class Describe {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private Describe() {
    }

    static String time(TemporalAccessor t) {
        return TIME.format(t);
    }

    /** @return e.g. {@code xvda internal} or {@code xvdb external → /img/b.s1.qcow2} */
    static String disk(DiskSnapshot d) {
        return d.kind() == SnapshotKind.INTERNAL ? d.vdev() + " internal" : d.vdev() + " external → " + d.overlay();
    }
}
