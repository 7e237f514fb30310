package io.xensnap.internal.qemuimg;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * What create's guards need from a qcow2 header: the backing file, its format and the number of internal snapshots,
 * read in Java because a qemu-img run per disk would add tens of milliseconds to every create. A plain read takes no
 * lock, so it is allowed on an image a QEMU holds; QEMU writes these fields to the header before it answers the QMP
 * command that changed them.
 *
 * @param backingFile   the backing file as the header names it (relative to this image's directory, or a
 *                      {@code json:} or protocol name), empty when the image has none
 * @param backingFormat the backing file's format from the header extension, empty when the header does not say
 * @param snapshots     how many internal snapshots the image holds
 */
public record Qcow2Header(Optional<String> backingFile, Optional<String> backingFormat, int snapshots) {

    private static final int MAGIC = 0x514649fb;
    private static final int EXT_END = 0;
    private static final int EXT_BACKING_FORMAT = 0xe2792aca;
    /** QEMU's own bound on a backing file name. */
    private static final int MAX_BACKING_NAME = 1023;
    /** Header extensions end within the first cluster; 64 KiB is more than any header QEMU writes. */
    private static final int MAX_HEADER = 64 * 1024;

    /**
     * @return the header of {@code file}, empty when the file does not exist or is not qcow2 (the step that opens it
     *         then fails with its own message)
     * @throws IOException when the file cannot be read or its header is damaged
     */
    public static Optional<Qcow2Header> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 72 || read(ch, 0, 4, file).getInt(0) != MAGIC) {
                return Optional.empty();
            }
            ByteBuffer h = read(ch, 0, (int) Math.min(size, MAX_HEADER), file);
            int version = h.getInt(4);
            long backingOffset = h.getLong(8);
            int backingSize = h.getInt(16);
            int snapshots = h.getInt(60);
            if (backingSize < 0 || backingSize > MAX_BACKING_NAME || snapshots < 0 || backingOffset < 0
                    || backingOffset + backingSize > size) {
                throw new IOException(file + ": damaged qcow2 header (backing file or snapshot count out of range)");
            }
            Optional<String> backing = backingOffset == 0 || backingSize == 0 ? Optional.empty()
                    : Optional.of(text(read(ch, backingOffset, backingSize, file), 0, backingSize));
            int extensions = version >= 3 && h.limit() >= 104 ? h.getInt(100) : 72;
            return Optional.of(new Qcow2Header(backing, backingFormat(h, extensions, file), snapshots));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** @return whether {@code file} starts with the qcow2 magic, as QEMU probes a backing file of unnamed format */
    public static boolean looksLikeQcow2(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.size() >= 4 && read(ch, 0, 4, file).getInt(0) == MAGIC;
        }
    }

    private static Optional<String> backingFormat(ByteBuffer h, int offset, Path file) throws IOException {
        int at = offset;
        while (at >= 0 && at + 8 <= h.limit()) {
            int type = h.getInt(at);
            int length = h.getInt(at + 4);
            if (type == EXT_END) {
                return Optional.empty();
            }
            if (length < 0 || at + 8 + length > h.limit()) {
                throw new IOException(file + ": damaged qcow2 header extension at byte " + at);
            }
            if (type == EXT_BACKING_FORMAT) {
                return Optional.of(text(h, at + 8, length));
            }
            at += 8 + ((length + 7) & ~7);
        }
        return Optional.empty();
    }

    private static String text(ByteBuffer h, int offset, int length) {
        byte[] b = new byte[length];
        h.get(offset, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static ByteBuffer read(FileChannel ch, long offset, int length, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (ch.read(b, offset + b.position()) < 0) {
                throw new IOException(file + " ends before byte " + (offset + length) + " of its qcow2 header");
            }
        }
        return b.flip();
    }
}
