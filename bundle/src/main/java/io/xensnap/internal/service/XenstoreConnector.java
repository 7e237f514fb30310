package io.xensnap.internal.service;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.xensnap.internal.config.Settings;
import io.xensnap.internal.engine.Connectors;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/** Opens connections to xenstored (refusing a socket root does not own, unless sockets.any.owner); the engine, and the console's domain completion, use one per operation. */
@Component(service = Connectors.Xenstore.class)
public final class XenstoreConnector implements Connectors.Xenstore {

    private final Connectors.Xenstore connector;

    @Activate
    public XenstoreConnector(@Reference(name = "settings") Settings settings) {
        this.connector = Connectors.xenstore(settings.xenstoredSocket(), settings.xenstoreTimeout(),
                settings.socketOwnerGuard());
    }

    @Override
    public XenstoreClient open() throws XenstoreException {
        return connector.open();
    }
}
