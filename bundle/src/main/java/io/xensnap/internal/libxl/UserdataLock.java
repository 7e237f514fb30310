package io.xensnap.internal.libxl;

import com.sun.jna.LastErrorException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A held libxl userdata lock (any {@link LibxlLockKind}). Closing it releases the lock the way libxl__unlock_file does: unlink the lock file
 * first, then close the descriptor. That order matters: a waiter that gets the flock after the close finds the path
 * gone (or a new inode there) and starts over, so two holders can never both believe they own the current file.
 */
public final class UserdataLock implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UserdataLock.class);

    private final LibC libc;
    private final Path path;
    private final int fd;
    private boolean closed;

    UserdataLock(LibC libc, Path path, int fd) {
        this.libc = libc;
        this.path = path;
        this.fd = fd;
    }

    Path path() {
        return path;
    }

    /**
     * Never throws, like libxl__unlock_file, which ignores both results: a lock file left behind only makes the next
     * locker reuse it (its inode still matches the path), and close(2) frees the descriptor, and with it the flock,
     * even when it reports an error. Failing the caller's already finished work for either would be wrong.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot unlink libxl lock file {} (harmless: the next locker reuses it): {}", path, e.toString());
        }
        try {
            libc.close(fd);
        } catch (LastErrorException e) {
            LOG.warn("close of libxl lock file {} reported errno {}; the descriptor is released anyway", path,
                    e.getErrorCode());
        }
    }

    @Override
    public String toString() {
        return "UserdataLock[" + path + ", fd " + fd + (closed ? ", released]" : "]");
    }
}
