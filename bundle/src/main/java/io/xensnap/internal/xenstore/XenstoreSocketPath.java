package io.xensnap.internal.xenstore;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * Where the daemon's socket is, decided as libxenstore does (docs/xen-host.md#socket-location): the configured path,
 * else {@code $XENSTORED_PATH}, else {@code $XENSTORED_RUNDIR/socket}, else {@code /var/run/xenstored/socket}. 4.17 has
 * no separate read-only socket.
 */
public final class XenstoreSocketPath {

    public static final Path DEFAULT = Path.of("/var/run/xenstored/socket");

    private XenstoreSocketPath() {
    }

    /**
     * @param configured the path from configuration, {@code null} or blank when not set
     * @param env        the environment lookup ({@code System::getenv} in production), returning {@code null} for unset
     */
    public static Path resolve(String configured, Function<String, String> env) {
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured.trim());
        }
        String path = env.apply("XENSTORED_PATH");
        if (path != null && !path.isEmpty()) {
            return Path.of(path);
        }
        String runDir = env.apply("XENSTORED_RUNDIR");
        if (runDir != null && !runDir.isEmpty()) {
            return Path.of(runDir, "socket");
        }
        return DEFAULT;
    }
}
