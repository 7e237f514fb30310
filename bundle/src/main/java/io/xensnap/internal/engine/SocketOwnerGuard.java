package io.xensnap.internal.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * Refuses a QMP or xenstore socket that root does not own. xensnap runs as root and acts on what these sockets say;
 * a socket another user created (in a directory that should be root's alone) could feed it a forged chain or disk list.
 * A test bench or a deployment that runs the peers under another user turns the check off by configuration.
 *
 * <p>The check looks at the socket file just before connecting (the socket a symbolic link points to, if any). A missing
 * file is left for the connect itself to report.
 */
public final class SocketOwnerGuard {

    private final boolean allowAnyOwner;

    /** @param allowAnyOwner {@code true} accepts sockets of any owner (configuration key {@code sockets.any.owner}) */
    public SocketOwnerGuard(boolean allowAnyOwner) {
        this.allowAnyOwner = allowAnyOwner;
    }

    /** @return why {@code socket} must not be used, or empty when it may */
    public Optional<String> refusal(Path socket) {
        if (allowAnyOwner) {
            return Optional.empty();
        }
        try {
            BasicFileAttributes attrs = Files.readAttributes(socket, BasicFileAttributes.class);
            if (!attrs.isOther()) {
                return Optional.of(socket + " is not a socket");
            }
            int uid = (Integer) Files.getAttribute(socket, "unix:uid");
            if (uid != 0) {
                return Optional.of(socket + " is owned by uid " + uid + ", not root; refusing to trust it (set"
                        + " sockets.any.owner to accept sockets of other users)");
            }
            return Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.of("cannot tell who owns " + socket + ": " + e.getMessage());
        }
    }
}
