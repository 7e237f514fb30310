package io.xensnap.internal.engine.quiesce;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.internal.qga.AgentException;
import io.xensnap.internal.qga.GuestAgent;

/** Opens a synchronised conversation with a guest agent, each step bounded by the configured timeout. */
public final class AgentConnector {

    private final Duration timeout;
    private final LongSupplier ids;
    private final ObjectMapper json = new ObjectMapper();

    public AgentConnector(Duration timeout) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        SecureRandom random = new SecureRandom();
        // positive and below 2^31: the agent reads the id as a JSON integer, and every JSON reader takes these
        this.ids = () -> random.nextInt(Integer.MAX_VALUE);
    }

    public GuestAgent connect(Path socket) throws AgentException {
        return GuestAgent.connect(socket, timeout, ids, json);
    }

    public Duration timeout() {
        return timeout;
    }
}
