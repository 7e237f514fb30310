package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * One internal snapshot of an image layer, as QEMU reports it ({@code SnapshotInfo}).
 *
 * @param id            QEMU's numeric id, as text
 * @param name          the tag
 * @param vmStateSize   bytes of VM state saved with it (0 for disk-only)
 * @param dateSeconds   creation time, seconds since the epoch
 * @param vmClockNanos  guest clock at creation
 */
public record InternalSnapshotInfo(String id, String name, long vmStateSize, long dateSeconds, long vmClockNanos) {

    public InternalSnapshotInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
    }

    static InternalSnapshotInfo fromJson(JsonNode s) {
        return new InternalSnapshotInfo(s.path("id").asText(""), s.path("name").asText(""),
                s.path("vm-state-size").asLong(), s.path("date-sec").asLong(),
                s.path("vm-clock-sec").asLong() * 1_000_000_000L + s.path("vm-clock-nsec").asLong());
    }
}
