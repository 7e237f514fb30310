package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.Objects;

/**
 * An asynchronous QMP event, e.g. {@code JOB_STATUS_CHANGE}.
 *
 * @param name            the event name
 * @param data            its {@code data} member ({@link MissingNode} when absent)
 * @param timestampMicros QEMU's timestamp in microseconds since the epoch
 */
public record QmpEvent(String name, JsonNode data, long timestampMicros) {

    public QmpEvent {
        Objects.requireNonNull(name, "name");
        data = data == null ? MissingNode.getInstance() : data;
    }

    /** @return {@code data.<field>} as text, empty when absent */
    public String dataText(String field) {
        return data.path(field).asText("");
    }
}
