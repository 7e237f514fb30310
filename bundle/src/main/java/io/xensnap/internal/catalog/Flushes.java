package io.xensnap.internal.catalog;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The three ways the catalog makes a write durable, in one place so that a test can count what a save costs: each
 * call is one flush to the disk.
 */
class Flushes {

    /** fdatasync(2): the file's bytes and its size, which is all an append needs. */
    void data(FileChannel ch) throws IOException {
        ch.force(false);
    }

    /** fsync(2) of a file that is about to be renamed into place. */
    void file(FileChannel ch) throws IOException {
        ch.force(true);
    }

    /** fsync(2) of a directory: a rename, a new file's name, is durable only once its directory entry is. */
    void directory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
