package io.xensnap.internal.service;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.xensnap.internal.config.Settings;
import io.xensnap.internal.engine.Connectors;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;

/** Opens QMP connections to a domain's device model at {@code <xen.run.dir>/qmp-libxl-<domid>}, refusing a
 * socket root does not own unless {@code sockets.any.owner}. */
@Component(service = Connectors.Qmp.class)
public final class QmpConnector implements Connectors.Qmp {

    private final Connectors.Qmp connector;

    @Activate
    public QmpConnector(@Reference(name = "settings") Settings settings) {
        this.connector = Connectors.qmp(settings.xenRunDir(), settings.qmp(), settings.socketOwnerGuard());
    }

    @Override
    public QmpConnection connect(int domid) throws QmpException {
        return connector.connect(domid);
    }
}
