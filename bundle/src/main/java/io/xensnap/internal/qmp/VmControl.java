package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/** Pauses and resumes the guest's CPUs. */
public final class VmControl {

    private final QmpConnection qmp;

    public VmControl(QmpConnection qmp) {
        this.qmp = qmp;
    }

    public void stop() throws QmpException {
        qmp.execute("stop");
    }

    /** Resumes the guest. On a machine that never ran ({@code prelaunch}) this boots it. */
    public void cont() throws QmpException {
        qmp.execute("cont");
    }

    public RunState status() throws QmpException {
        return status(qmp.execute(STATUS_QUERY));
    }

    /** The query {@link #status(JsonNode)} reads, for a caller that sends it together with its own. */
    public static final String STATUS_QUERY = "query-status";

    /** @return the state in an answer to {@link #STATUS_QUERY} */
    public static RunState status(JsonNode answer) {
        return new RunState(answer.path("status").asText(""), answer.path("running").asBoolean());
    }
}
