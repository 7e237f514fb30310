package io.xensnap.internal.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

import com.sun.jna.LastErrorException;

/**
 * A directory opened once, from {@code /} one component at a time without following any symbolic link, and checked to
 * be the directory validation saw. Files are then created in it and removed from it through the descriptor, so a
 * component of its path swapped for a link after the check cannot send them elsewhere. Programs that take paths
 * (qemu-img) reach the held directory as {@code /proc/<this process>/fd/<descriptor>}, which the kernel resolves to
 * the open directory, not by name.
 */
public final class HeldDirectory implements AutoCloseable {

    private static final int DIR_FLAGS = DirectoryCalls.O_RDONLY | DirectoryCalls.O_DIRECTORY
            | DirectoryCalls.O_NOFOLLOW | DirectoryCalls.O_CLOEXEC;

    private final DirectoryCalls calls;
    private final Path path;
    private final int fd;
    private volatile boolean closed;

    private HeldDirectory(DirectoryCalls calls, Path path, int fd) {
        this.calls = calls;
        this.path = path;
        this.fd = fd;
    }

    /**
     * @param calls    the libc calls
     * @param path     the directory's path with every link resolved (as validation resolved it)
     * @param expected its identity when it was checked, or empty to accept whatever directory the walk reaches
     * @throws DirectoryChangedException when a component is now a symbolic link or not a directory, or the directory
     *                                   reached is another one than was checked
     */
    public static HeldDirectory open(DirectoryCalls calls, Path path, Optional<FileIdentity> expected)
            throws IOException {
        if (!path.isAbsolute() || !path.normalize().equals(path)) {
            throw new IllegalArgumentException("not an absolute, normalized path: " + path);
        }
        int fd = calls.open(bytes("/"), DIR_FLAGS, 0);
        try {
            for (Path part : path) {
                int next;
                try {
                    next = calls.openat(fd, bytes(part.toString()), DIR_FLAGS, 0);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == DirectoryCalls.ELOOP || e.getErrorCode() == DirectoryCalls.ENOTDIR) {
                        throw new DirectoryChangedException("directory " + path + ": " + part
                                + " is now a symbolic link or not a directory; not followed");
                    }
                    if (e.getErrorCode() == DirectoryCalls.ENOENT) {
                        throw new DirectoryChangedException("directory " + path + ": " + part + " is gone");
                    }
                    throw io("cannot open directory " + path + " at " + part, e);
                }
                calls.close(fd);
                fd = next;
            }
            HeldDirectory held = new HeldDirectory(calls, path, fd);
            FileIdentity now = FileIdentity.followed(held.self());
            if (expected.isPresent() && !expected.get().equals(now)) {
                throw new DirectoryChangedException("directory " + path + " is another directory than was checked"
                        + " (device/inode " + now.dev() + "/" + now.ino() + ", checked " + expected.get().dev() + "/"
                        + expected.get().ino() + ")");
            }
            return held;
        } catch (IOException | RuntimeException e) {
            closeQuietly(calls, fd, e);
            throw e;
        }
    }

    /** @return the directory's path as it was resolved when checked */
    public Path path() {
        return path;
    }

    /**
     * Creates an empty file {@code name} in this directory, failing if the name exists in any form (a link included).
     *
     * @return the new file's identity
     */
    public FileIdentity createExclusive(String name) throws IOException {
        int file;
        requireOpen();
        try {
            file = calls.openat(fd, bytes(requireName(name)), DirectoryCalls.O_WRONLY | DirectoryCalls.O_CREAT
                    | DirectoryCalls.O_EXCL | DirectoryCalls.O_NOFOLLOW | DirectoryCalls.O_CLOEXEC, 0666);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == DirectoryCalls.EEXIST) {
                throw new FileAlreadyExistsException(path.resolve(name).toString());
            }
            throw io("cannot create " + path.resolve(name), e);
        }
        try {
            return FileIdentity.followed(Path.of("/proc/self/fd/" + file));
        } finally {
            calls.close(file);
        }
    }

    /** @return the identity of {@code name} in this directory (not following a link), or empty when it is absent */
    public Optional<FileIdentity> identity(String name) throws IOException {
        try {
            return Optional.of(FileIdentity.of(via(name)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** @return a path to {@code name} in this directory for another program, one that does not depend on names above */
    public Path via(String name) {
        return self().resolve(requireName(name));
    }

    /** @return whether {@code name} was there and is removed now */
    public boolean unlink(String name) throws IOException {
        requireOpen();
        try {
            calls.unlinkat(fd, bytes(requireName(name)), 0);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == DirectoryCalls.ENOENT) {
                return false;
            }
            throw io("cannot remove " + path.resolve(name), e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            calls.close(fd);
        } catch (LastErrorException e) {
            // close(2) on a descriptor we own fails only if it was closed twice; nothing to take back
        }
    }

    private Path self() {
        requireOpen();
        return Path.of("/proc/" + ProcessHandle.current().pid() + "/fd/" + fd);
    }

    /** A closed descriptor's number may belong to another file by now: never use it. */
    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("directory " + path + " is no longer held");
        }
    }

    private static String requireName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a file name: '" + name + "'");
        }
        return name;
    }

    private static byte[] bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }

    private static IOException io(String what, LastErrorException e) {
        return new IOException(what + ": " + e.getMessage(), e);
    }

    private static void closeQuietly(DirectoryCalls calls, int fd, Exception cause) {
        try {
            calls.close(fd);
        } catch (LastErrorException e) {
            cause.addSuppressed(e);
        }
    }
}
