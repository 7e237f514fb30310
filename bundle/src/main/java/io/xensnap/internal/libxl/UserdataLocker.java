package io.xensnap.internal.libxl;

import com.sun.jna.LastErrorException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * Takes one of libxl's userdata lock files ({@link LibxlLockKind}) with libxl's own protocol (libxl__lock_file in
 * libxl_internal.c; libxl__ev_slowlock's forked child does the same steps):
 * <ol>
 *   <li>{@code open(path, O_RDWR|O_CREAT, 0666)};</li>
 *   <li>{@code flock(fd, LOCK_EX)}, retried on EINTR;</li>
 *   <li>compare the inode of the open descriptor with {@code stat(path)}: a holder that released meanwhile has
 *       unlinked the file, so a lock on the old inode excludes nobody; on a mismatch close and start over;</li>
 *   <li>release with unlink then close ({@link UserdataLock#close()}).</li>
 * </ol>
 *
 * <p>libxl waits forever in a blocking flock. Here the wait is {@code LOCK_NB} polled with a short, growing sleep
 * instead: a blocking flock(2) in a JNA call cannot be interrupted or bounded from Java short of a signal, and a thread
 * stuck in it past the timeout would take the lock later with nobody to release it. flock(2) grants no FIFO order to
 * blocked waiters either, so polling loses no fairness; it only adds up to {@link #MAX_POLL} of latency.
 */
final class UserdataLocker {

    private static final Duration FIRST_POLL = Duration.ofMillis(1);
    private static final Duration MAX_POLL = Duration.ofMillis(50);

    private final LibC libc;
    private final Clock clock;
    private final Duration timeout;
    private final LockHolders holders;

    UserdataLocker(Clock clock, Duration timeout) {
        this(LibC.load(), clock, timeout, new LockHolders(Path.of("/proc")));
    }

    UserdataLocker(LibC libc, Clock clock, Duration timeout, LockHolders holders) {
        this.libc = Objects.requireNonNull(libc, "libc");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative lock timeout: " + timeout);
        }
        this.holders = Objects.requireNonNull(holders, "holders");
    }

    /**
     * @throws LibxlConfigException LOCK_TIMEOUT naming the holder, INTERRUPTED, or IO when a system call fails
     */
    UserdataLock lock(Path path) throws LibxlConfigException {
        Instant deadline = clock.instant().plus(timeout);
        while (true) {
            int fd = open(path);
            boolean locked = false;
            try {
                awaitFlock(fd, path, deadline);
                if (sameFile(fd, path)) {
                    locked = true;
                    return new UserdataLock(libc, path, fd);
                }
            } finally {
                if (!locked) {
                    closeQuietlyAfterFailure(fd);
                }
            }
        }
    }

    private int open(Path path) throws LibxlConfigException {
        try {
            return libc.open(path.toString(), LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC, 0666);
        } catch (LastErrorException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.IO,
                    "cannot open libxl lock file " + path + ": errno " + e.getErrorCode(), e);
        }
    }

    private void awaitFlock(int fd, Path path, Instant deadline) throws LibxlConfigException {
        Duration pause = FIRST_POLL;
        while (true) {
            try {
                libc.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB);
                return;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == LibC.EINTR) {
                    continue;
                }
                if (e.getErrorCode() != LibC.EWOULDBLOCK) {
                    throw new LibxlConfigException(LibxlConfigException.Reason.IO,
                            "flock(" + path + ") failed: errno " + e.getErrorCode(), e);
                }
            }
            Duration left = Duration.between(clock.instant(), deadline);
            if (left.isNegative() || left.isZero()) {
                throw new LibxlConfigException(LibxlConfigException.Reason.LOCK_TIMEOUT,
                        "libxl lock " + path + " still held after " + timeout.toMillis() + " ms by " + holderOf(fd));
            }
            sleep(min(pause, left));
            pause = min(pause.multipliedBy(2), MAX_POLL);
        }
    }

    private boolean sameFile(int fd, Path path) throws LibxlConfigException {
        Map<String, Object> held = identity(Path.of("/proc/self/fd/" + fd), path);
        Map<String, Object> current;
        try {
            current = Files.readAttributes(path, "unix:dev,ino");
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.IO, "cannot stat " + path, e);
        }
        return held.get("dev").equals(current.get("dev")) && held.get("ino").equals(current.get("ino"));
    }

    // stat() through the /proc/self/fd magic link reaches the open file itself, even when its name was unlinked:
    // the same answer as fstat(fd), without mapping struct stat in JNA.
    private static Map<String, Object> identity(Path fdLink, Path path) throws LibxlConfigException {
        try {
            return Files.readAttributes(fdLink, "unix:dev,ino");
        } catch (IOException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.IO, "cannot fstat the descriptor of " + path, e);
        }
    }

    private String holderOf(int fd) {
        try {
            Map<String, Object> id = Files.readAttributes(Path.of("/proc/self/fd/" + fd), "unix:dev,ino");
            return holders.describe((Long) id.get("dev"), (Long) id.get("ino"));
        } catch (IOException e) {
            return "an unknown process (cannot stat the lock file: " + e.getMessage() + ")";
        }
    }

    private static void sleep(Duration d) throws LibxlConfigException {
        try {
            Thread.sleep(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LibxlConfigException(LibxlConfigException.Reason.INTERRUPTED,
                    "interrupted while waiting for a libxl lock", e);
        }
    }

    private void closeQuietlyAfterFailure(int fd) {
        try {
            libc.close(fd);
        } catch (LastErrorException e) {
            // Reached only on a retry (a flock on a stale inode, which excludes nobody) or while another failure
            // propagates. close(2) frees the descriptor, and any flock on it, even when it reports an error, so
            // nothing is left to undo, and the failure that matters is the one already propagating.
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
