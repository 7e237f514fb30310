package io.xensnap.internal.qemuimg;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The bytes of an empty qcow2 overlay exactly as {@code qemu-img create -f qcow2 -b BACKING -F FORMAT -u FILE SIZE}
 * (QEMU 7.2, its defaults: version 3, 64 KiB clusters, 16-bit refcounts, zlib, no extended L2) writes them, so that
 * xensnap can write them itself instead of starting a process per overlay. {@code QemuImgOverlayTest} compares them
 * with qemu-img's file byte for byte.
 *
 * <p>Layout: cluster 0 the header, its extensions (backing format, feature names, end) and the backing file name;
 * cluster 1 the refcount table (one entry: the block at cluster 2); cluster 2 the refcount block (refcount 1 for
 * clusters 0–2 and the L1 table's); cluster 3 on the L1 table, all zero, one entry per 512 MiB of virtual size. The file
 * ends with the L1 table's last entry, as qemu-img's does.
 */
public final class EmptyOverlay {

    private static final int CLUSTER_BITS = 16;
    private static final int CLUSTER = 1 << CLUSTER_BITS;
    /** Bytes one L1 entry covers: an L2 table of 8192 entries of one cluster each. */
    private static final long L1_ENTRY_SPAN = (long) (CLUSTER / 8) * CLUSTER;
    private static final int HEADER_LENGTH = 112;
    private static final int EXT_BACKING_FORMAT = 0xE2792ACA;
    private static final int EXT_FEATURE_NAMES = 0x6803F857;
    /** The refcount block at cluster 2 covers 32768 clusters; beyond that (a 1 EiB disk) qemu-img runs. */
    private static final long MAX_CLUSTERS = CLUSTER / 2;

    /** QEMU 7.2's feature name table: type (0 incompatible, 1 compatible, 2 autoclear), bit, name. */
    private static final Object[][] FEATURES = {
        {0, 0, "dirty bit"}, {0, 1, "corrupt bit"}, {0, 2, "external data file"}, {0, 3, "compression type"},
        {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"}, {2, 0, "bitmaps"}, {2, 1, "raw external data"},
    };
    private static final int FEATURE_ENTRY = 48;

    private EmptyOverlay() {
    }

    /**
     * @param backing       the backing file name as it goes into the header
     * @param backingFormat {@code raw} or {@code qcow2}
     * @param virtualSize   bytes
     * @return the file's bytes, or empty when qemu-img would write something else (a size that is not a multiple of
     *         512, a header that does not fit one cluster, a table beyond one refcount block): run qemu-img then
     */
    public static Optional<byte[]> of(String backing, String backingFormat, long virtualSize) {
        byte[] name = backing.getBytes(StandardCharsets.UTF_8);
        byte[] format = backingFormat.getBytes(StandardCharsets.US_ASCII);
        if (virtualSize <= 0 || virtualSize % 512 != 0 || name.length == 0 || name.length > 1023
                || format.length == 0 || format.length > 16) {
            return Optional.empty();
        }
        long l1Entries = (virtualSize + L1_ENTRY_SPAN - 1) / L1_ENTRY_SPAN;
        long l1Clusters = (l1Entries * 8 + CLUSTER - 1) / CLUSTER;
        int formatExt = 8 + pad8(format.length);
        int namesExt = 8 + FEATURES.length * FEATURE_ENTRY;
        int nameAt = HEADER_LENGTH + formatExt + namesExt + 8;
        if (3 + l1Clusters > MAX_CLUSTERS || nameAt + name.length > CLUSTER) {
            return Optional.empty();
        }
        long l1At = 3L * CLUSTER;
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(l1At + l1Entries * 8));
        b.putInt(0x514649FB).putInt(3);
        b.putLong(nameAt).putInt(name.length);
        b.putInt(CLUSTER_BITS).putLong(virtualSize);
        b.putInt(0);                                      // no encryption
        b.putInt(Math.toIntExact(l1Entries)).putLong(l1At);
        b.putLong(CLUSTER).putInt(1);                    // refcount table at cluster 1, one cluster long
        b.putInt(0).putLong(0);                           // no snapshots
        b.putLong(0).putLong(0).putLong(0);               // incompatible, compatible, autoclear features
        b.putInt(4).putInt(HEADER_LENGTH);                // refcount order 4: 16 bits
        b.put((byte) 0);                                  // compression type zlib, then padding to 112
        b.position(HEADER_LENGTH);
        b.putInt(EXT_BACKING_FORMAT).putInt(format.length).put(format);
        b.position(HEADER_LENGTH + formatExt);
        b.putInt(EXT_FEATURE_NAMES).putInt(FEATURES.length * FEATURE_ENTRY);
        for (Object[] f : FEATURES) {
            int at = b.position();
            b.put((byte) (int) (Integer) f[0]).put((byte) (int) (Integer) f[1])
                    .put(((String) f[2]).getBytes(StandardCharsets.US_ASCII));
            b.position(at + FEATURE_ENTRY);
        }
        b.putInt(0).putInt(0);                            // end of the extensions
        b.put(name);
        b.putLong(CLUSTER, 2L * CLUSTER);                 // the refcount table's one entry: the block at cluster 2
        for (int c = 0; c < 3 + l1Clusters; c++) {
            b.putShort(2 * CLUSTER + 2 * c, (short) 1);
        }
        return Optional.of(b.array());
    }

    private static int pad8(int n) {
        return (n + 7) & ~7;
    }
}
