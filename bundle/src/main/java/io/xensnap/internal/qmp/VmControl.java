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
        JsonNode s = qmp.execute("query-status");
        return new RunState(s.path("status").asText(""), s.path("running").asBoolean());
    }
}
