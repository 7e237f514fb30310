package io.xensnap.internal.qemuimg;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Whether a qcow2 image's active layer has been written since its last internal snapshot was taken or applied, read
 * from the header and the L1 table, because qemu-img shows no reference counts.
 *
 * <p>Taking a snapshot ({@code snapshot -c}) or applying one ({@code snapshot -a}) leaves every L2 table of the active
 * layer shared with a snapshot, and qcow2 then clears the COPIED flag (bit 63, "reference count is exactly one") of
 * every L1 entry. Any later guest write, also of zeroes, copies an L2 table or allocates one, with COPIED set. Measured
 * with qemu-img 7.2: {@code -c}, {@code -a} → no entry COPIED; one 4 KiB write → one entry COPIED. Deleting a
 * snapshot can set COPIED again, so the answer is about the time since the last {@code -c} or {@code -a} only, and
 * only for an image no QEMU has open (it may hold metadata it has not written).
 */
public final class Qcow2Sharing {

    private static final int MAGIC = 0x514649fb;
    private static final long COPIED = 1L << 63;
    private static final long OFFSET_MASK = 0x00fffffffffffe00L;
    /** qcow2's own limit on the L1 table (32 MiB of entries). */
    private static final int MAX_L1_ENTRIES = 32 * 1024 * 1024 / 8;

    private Qcow2Sharing() {
    }

    /**
     * @return how many L1 entries point to an L2 table that only the active layer uses: 0 when nothing was written
     *         since the last snapshot was taken or applied
     * @throws IOException when the file cannot be read or is not a qcow2 image
     */
    public static int unsharedTables(Path qcow2) throws IOException {
        try (FileChannel ch = FileChannel.open(qcow2, StandardOpenOption.READ)) {
            ByteBuffer h = read(ch, 0, 48, qcow2);
            if (h.getInt(0) != MAGIC) {
                throw new IOException(qcow2 + " is not a qcow2 image");
            }
            int l1Size = h.getInt(36);
            long l1Offset = h.getLong(40);
            if (l1Size < 0 || l1Size > MAX_L1_ENTRIES) {
                throw new IOException(qcow2 + ": implausible L1 table size " + Integer.toUnsignedString(l1Size));
            }
            ByteBuffer l1 = read(ch, l1Offset, l1Size * 8, qcow2);
            int unshared = 0;
            for (int i = 0; i < l1Size; i++) {
                long e = l1.getLong(i * 8);
                if ((e & OFFSET_MASK) != 0 && (e & COPIED) != 0) {
                    unshared++;
                }
            }
            return unshared;
        }
    }

    private static ByteBuffer read(FileChannel ch, long offset, int length, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (ch.read(b, offset + b.position()) < 0) {
                throw new IOException(file + " ends before byte " + (offset + length) + " of its qcow2 metadata");
            }
        }
        return b.flip();
    }
}
