package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Opens QMP connections to one QEMU monitor socket. Holds no connection itself: QEMU serves one client per monitor
 * and libxl needs the socket too, so callers connect for one operation and close right after.
 */
public final class QmpClient {

    private final Path socket;
    private final String domain;
    private final QmpTimeouts timeouts;
    private final ObjectMapper json;

    /**
     * @param socket   the monitor socket, e.g. {@code /var/run/xen/qmp-libxl-<domid>}
     * @param domain   how the domain appears in log lines and messages, e.g. {@code dom7}
     * @param timeouts bounds for every wait
     * @param json     the mapper used to parse and build messages
     */
    public QmpClient(Path socket, String domain, QmpTimeouts timeouts, ObjectMapper json) {
        this.socket = Objects.requireNonNull(socket, "socket");
        this.domain = Objects.requireNonNull(domain, "domain");
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
        this.json = Objects.requireNonNull(json, "json");
    }

    public QmpClient(Path socket, String domain, QmpTimeouts timeouts) {
        this(socket, domain, timeouts, new ObjectMapper());
    }

    /** Connects, reads the greeting and negotiates capabilities. Close the connection when the operation is done. */
    public QmpConnection connect() throws QmpException {
        return QmpConnection.open(domain, socket, timeouts, json);
    }

    public Path socket() {
        return socket;
    }

    public String domain() {
        return domain;
    }

    public QmpTimeouts timeouts() {
        return timeouts;
    }
}
