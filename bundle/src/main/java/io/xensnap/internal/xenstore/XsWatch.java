package io.xensnap.internal.xenstore;

import java.util.concurrent.atomic.AtomicBoolean;

/** A watch set by {@link XenstoreClient#watch}; closing it sends UNWATCH (once). */
public final class XsWatch implements AutoCloseable {

    private final XenstoreClient client;
    private final String path;
    private final String token;
    private final AtomicBoolean closed = new AtomicBoolean();

    XsWatch(XenstoreClient client, String path, String token) {
        this.client = client;
        this.path = path;
        this.token = token;
    }

    public String path() {
        return path;
    }

    public String token() {
        return token;
    }

    /** Removes the watch; no event reaches the listener afterwards. */
    @Override
    public void close() throws XenstoreException {
        if (closed.compareAndSet(false, true)) {
            client.unwatch(path, token);
        }
    }
}
