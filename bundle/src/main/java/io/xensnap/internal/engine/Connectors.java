package io.xensnap.internal.engine;

import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;
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
}
