package io.xensnap.internal.xenstore;

import java.util.Objects;

/**
 * A WATCH_EVENT: {@code path} changed (written, removed, or a node below it), or the watch was just set (the daemon
 * fires every new watch once at once).
 *
 * @param path  the node that changed, not necessarily the watched one
 * @param token the token the watch was set with
 */
public record WatchEvent(String path, String token) {
    public WatchEvent {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(token, "token");
    }
}
