package io.xensnap.internal.libxl;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * The few libc calls libxl's lock protocol needs. Java has no flock(2): FileChannel.lock() takes POSIX (fcntl) record
 * locks, which on Linux do not interact with flock locks, so it would not exclude libxl.
 */
interface LibC extends Library {

    // Linux values, the same on x86 and arm, the architectures Xen's dom0 runs on.
    int O_RDWR = 02;
    int O_CREAT = 0100;
    int O_CLOEXEC = 02000000;
    int LOCK_EX = 2;
    int LOCK_NB = 4;
    int EINTR = 4;
    int EWOULDBLOCK = 11;

    int open(String path, int flags, int mode) throws LastErrorException;

    int flock(int fd, int operation) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    static LibC load() {
        return Native.load("c", LibC.class);
    }
}
