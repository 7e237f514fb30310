package io.xensnap.internal.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * The libc calls that work relative to a directory descriptor, which Java does not offer: with them a checked directory
 * is opened once and a file created in it or removed from it without resolving the directory's path again. Paths are
 * passed as NUL-terminated bytes so that no character set conversion of JNA's applies.
 */
public interface DirectoryCalls extends Library {

    // Linux values, the same on x86 and arm, the architectures Xen's dom0 runs on.
    int O_RDONLY = 0;
    int O_WRONLY = 01;
    int O_CREAT = 0100;
    int O_EXCL = 0200;
    int O_DIRECTORY = 0200000;
    int O_NOFOLLOW = 0400000;
    int O_CLOEXEC = 02000000;
    int ENOENT = 2;
    int EEXIST = 17;
    int ENOTDIR = 20;
    int ELOOP = 40;

    int open(byte[] path, int flags, int mode) throws LastErrorException;

    int openat(int dirfd, byte[] path, int flags, int mode) throws LastErrorException;

    int unlinkat(int dirfd, byte[] path, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    static DirectoryCalls load() {
        return Native.load("c", DirectoryCalls.class);
    }
}
