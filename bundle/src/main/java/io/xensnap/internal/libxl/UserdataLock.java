package io.xensnap.internal.libxl;

import com.sun.jna.LastErrorException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A held libxl domain-userdata lock. Closing it releases the lock the way libxl__unlock_file does: unlink the lock file
 * first, then close the descriptor. That order matters: a waiter that gets the flock after the close finds the path
 * gone (or a new inode there) and starts over, so two holders can never both believe they own the current file.
 */
final class UserdataLock implements AutoCloseable {

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

    /** @throws UncheckedIOException when the unlink or close fails; the lock is released either way once fd is closed */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        IOException unlinkFailure = null;
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            unlinkFailure = e;
        }
        try {
            libc.close(fd);
        } catch (LastErrorException e) {
            IOException closeFailure = new IOException("close(" + path + ") failed, errno " + e.getErrorCode(), e);
            if (unlinkFailure != null) {
                closeFailure.addSuppressed(unlinkFailure);
            }
            throw new UncheckedIOException(closeFailure);
        }
        if (unlinkFailure != null) {
            throw new UncheckedIOException("cannot unlink lock file " + path, unlinkFailure);
        }
    }

    @Override
    public String toString() {
        return "UserdataLock[" + path + ", fd " + fd + (closed ? ", released]" : "]");
    }
}
