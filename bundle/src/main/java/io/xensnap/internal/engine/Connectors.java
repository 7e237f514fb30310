package io.xensnap.internal.engine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import io.xensnap.internal.qmp.QmpClient;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/** How the engine reaches its peers. Each operation opens its own connections and closes them when it is done. */
public final class Connectors {

    private Connectors() {
    }

    /** Opens a connection to xenstored. */
    @FunctionalInterface
    public interface Xenstore {
        XenstoreClient open() throws XenstoreException;
    }

    /**
     * Opens a QMP connection to a domain's device model. Per operation, because QEMU serves one QMP client at a time
     * and libxl, too, connects per operation.
     */
    @FunctionalInterface
    public interface Qmp {
        QmpConnection connect(int domid) throws QmpException;
    }

    /**
     * @param socket  xenstored's socket, e.g. {@code /var/run/xenstored/socket}
     * @param timeout how long one xenstore call may wait for its reply
     * @param guard   refuses a socket root does not own
     * @return connections to xenstored through {@code socket}; a refused socket gives {@code EACCES}
     */
    public static Xenstore xenstore(Path socket, Duration timeout, SocketOwnerGuard guard) {
        return () -> {
            Optional<String> refused = guard.refusal(socket);
            if (refused.isPresent()) {
                throw new XenstoreException("EACCES", "refusing xenstored's socket: " + refused.get());
            }
            return XenstoreClient.connect(socket, "xensnap", timeout);
        };
    }

    /**
     * @param runDir   libxl's run directory, {@code /var/run/xen}: domain {@code N}'s monitor is {@code qmp-libxl-N}
     * @param timeouts bounds for every QMP wait
     * @param guard    refuses a socket root does not own
     * @return connections to the device model of a domain; a refused socket gives a CONNECTION failure
     */
    public static Qmp qmp(Path runDir, QmpTimeouts timeouts, SocketOwnerGuard guard) {
        return domid -> {
            Path socket = runDir.resolve("qmp-libxl-" + domid);
            Optional<String> refused = guard.refusal(socket);
            if (refused.isPresent()) {
                throw QmpException.of(QmpException.Kind.CONNECTION, "dom" + domid, "refusing the QMP socket: "
                        + refused.get());
            }
            return new QmpClient(socket, "dom" + domid, timeouts).connect();
        };
    }
}
