package io.xensnap.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.internal.engine.Connectors;
import io.xensnap.internal.qmp.QmpClient;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;

/** Opens QMP connections to a domain's device model at {@code <xen.run.dir>/qmp-libxl-<domid>}. */
@Component(service = Connectors.Qmp.class)
public final class QmpConnector implements Connectors.Qmp {

    private final Settings settings;
    private final ObjectMapper json = new ObjectMapper();

    @Activate
    public QmpConnector(@Reference(name = "settings") Settings settings) {
        this.settings = settings;
    }

    @Override
    public QmpConnection connect(int domid) throws QmpException {
        return new QmpClient(settings.qmpSocket(domid), "dom" + domid, settings.qmp(), json).connect();
    }
}
