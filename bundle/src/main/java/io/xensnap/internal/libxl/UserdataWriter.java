package io.xensnap.internal.libxl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Replaces a userdata file the way libxl__userdata_store does: write {@code userdata-n.*} (O_CREAT|O_TRUNC, 0600),
 * rename it over {@code userdata-d.*}. libxl stops there; this also fsyncs the new file before the rename and the
 * directory after it, so that a crash leaves either the old or the new config, never an empty one.
 * The caller holds the domain-userdata lock, which makes the {@code n} file its own.
 */
final class UserdataWriter {

    private UserdataWriter() {
    }

    /**
     * @throws LibxlConfigException IO; until the rename the {@code d} file is untouched and the {@code n} file is
     *                              removed again. A failing directory fsync comes after the rename: then the new
     *                              content is in place but not known to be durable, and the message says so.
     */
    static void replace(Path target, Path staging, byte[] content) throws LibxlConfigException {
        boolean opened = false;
        try {
            try (FileChannel out = FileChannel.open(staging, Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")))) {
                opened = true;
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(true);
            }
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LibxlConfigException failure = new LibxlConfigException(LibxlConfigException.Reason.IO,
                    "cannot write " + staging + " and rename it over " + target + ": " + e, e);
            if (opened) {
                // Only a file this call opened is ours to remove: a directory or foreign object at that name is not.
                try {
                    Files.deleteIfExists(staging);
                } catch (IOException cleanup) {
                    failure.addSuppressed(cleanup);
                }
            }
            throw failure;
        }
        try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.IO, target + " was replaced, but fsync of "
                    + target.getParent() + " failed, so the change may not survive a crash: " + e, e);
        }
    }
}
