package io.xensnap.internal.qemuimg;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster tables of a qcow2 image (header, snapshot table, L1 and L2 tables, refcount table and blocks), read in
 * Java with plain reads: no lock is taken and nothing is written, which is what QEMU tolerates on an image it holds
 * (the same as {@code qemu-img -U}). What it reads of an image in use can be behind QEMU's caches: QEMU writes its
 * metadata back at the guest's flushes, so a figure from it is as of the last flush.
 *
 * <p>Layout as QEMU's {@code docs/interop/qcow2.txt} describes it: versions 2 and 3, refcount widths of 1 to 64 bits,
 * compressed clusters, zero clusters, extended L2 entries (subclusters: a cluster counts as a whole once it has a
 * host offset). An image with an external data file is refused: its data is not in this file.
 */
public final class Qcow2Tables implements AutoCloseable {

    private static final int MAGIC = 0x514649fb;
    private static final long OFFSET_MASK = 0x00fffffffffffe00L;
    private static final long COMPRESSED = 1L << 62;
    private static final long COPIED = 1L << 63;
    private static final long ZERO = 1L;
    private static final long INCOMPAT_DIRTY = 1L;
    private static final long INCOMPAT_CORRUPT = 1L << 1;
    private static final long INCOMPAT_DATA_FILE = 1L << 2;
    private static final long INCOMPAT_EXTENDED_L2 = 1L << 4;
    /** QEMU refuses L1 tables larger than this (32 MiB), so a larger one is a damaged header. */
    private static final long MAX_L1_BYTES = 32L * 1024 * 1024;

    /**
     * An internal snapshot as the snapshot table lists it.
     *
     * @param id       QEMU's id
     * @param name     its name
     * @param l1Offset where its copy of the L1 table starts
     * @param l1Size   how many L1 entries it has
     */
    public record Snapshot(String id, String name, long l1Offset, int l1Size) {
    }

    /**
     * What one L1 table reaches.
     *
     * @param data            host clusters holding guest data (normal clusters, and zero clusters that keep their
     *                        host cluster), by host cluster index
     * @param l2Tables        host clusters holding its L2 tables
     * @param compressed      compressed clusters: their L2 descriptor (offset and sector count, unique per compressed
     *                        cluster) mapped to the bytes its sectors take
     * @param guestAllocated  guest clusters this layer holds data for (normal or compressed), by guest cluster index
     * @param guestInPlace    guest clusters a write would change in place: a normal cluster flagged as referenced once
     */
    public record Layer(BitSet data, BitSet l2Tables, Map<Long, Long> compressed, BitSet guestAllocated,
                        BitSet guestInPlace) {

        /** @return the bytes its compressed clusters take */
        public long compressedBytes() {
            return compressed.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private final Path file;
    private final FileChannel ch;
    private final int clusterBits;
    private final long clusterSize;
    private final long virtualSize;
    private final long l1Offset;
    private final int l1Size;
    private final long refcountTableOffset;
    private final int refcountTableClusters;
    private final int refcountOrder;
    private final long incompatible;
    private final List<Snapshot> snapshots;
    private final Map<Long, ByteBuffer> refcountBlocks = new HashMap<>();
    private long[] refcountTable;

    private Qcow2Tables(Path file, FileChannel ch) throws IOException {
        this.file = file;
        this.ch = ch;
        if (ch.size() < 72 || read(0, 4).getInt(0) != MAGIC) {
            throw new IOException(file + " is not a qcow2 image");
        }
        ByteBuffer h = read(0, (int) Math.min(ch.size(), 112));
        int version = h.getInt(4);
        clusterBits = h.getInt(20);
        if (version < 2 || version > 3 || clusterBits < 9 || clusterBits > 21) {
            throw new IOException(file + ": qcow2 version " + version + " with cluster_bits " + clusterBits
                    + " is not a layout QEMU writes");
        }
        clusterSize = 1L << clusterBits;
        virtualSize = h.getLong(24);
        l1Size = h.getInt(36);
        l1Offset = h.getLong(40);
        refcountTableOffset = h.getLong(48);
        refcountTableClusters = h.getInt(56);
        int snapshotCount = h.getInt(60);
        long snapshotsOffset = h.getLong(64);
        incompatible = version >= 3 ? h.getLong(72) : 0;
        refcountOrder = version >= 3 ? h.getInt(96) : 4;
        if (refcountOrder < 0 || refcountOrder > 6 || l1Size < 0 || (long) l1Size * 8 > MAX_L1_BYTES
                || refcountTableClusters < 0 || snapshotCount < 0 || virtualSize < 0) {
            throw new IOException(file + ": damaged qcow2 header (table sizes out of range)");
        }
        if ((incompatible & INCOMPAT_DATA_FILE) != 0) {
            throw new IOException(file + " keeps its data in an external data file, which xensnap does not count");
        }
        if ((incompatible & INCOMPAT_CORRUPT) != 0) {
            throw new IOException(file + " is marked corrupt by QEMU; run qemu-img check -r all while no QEMU holds it");
        }
        snapshots = readSnapshots(snapshotCount, snapshotsOffset);
    }

    /**
     * Opens {@code file} read-only, without a lock, and reads its header and snapshot table.
     *
     * @throws IOException when it cannot be read, is not qcow2, keeps its data elsewhere or its header is damaged
     */
    public static Qcow2Tables open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new Qcow2Tables(file, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public long clusterSize() {
        return clusterSize;
    }

    /** @return whether QEMU marked the image dirty (lazy refcounts in use): its refcounts may be behind its tables */
    public boolean dirty() {
        return (incompatible & INCOMPAT_DIRTY) != 0;
    }

    /** @return whether its L2 entries have subclusters */
    public boolean extendedL2() {
        return (incompatible & INCOMPAT_EXTENDED_L2) != 0;
    }

    public List<Snapshot> snapshots() {
        return snapshots;
    }

    /** @return the snapshot QEMU would find by {@code name} (its name, as xensnap names them) */
    public Optional<Snapshot> snapshot(String name) {
        return snapshots.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** @return the host clusters the L1 table of the snapshot {@code s} takes */
    public BitSet l1Clusters(Snapshot s) {
        return clustersOf(s.l1Offset(), (long) s.l1Size() * 8);
    }

    /** @return what the active L1 table (the image as the guest sees it now) reaches */
    public Layer active() throws IOException {
        return layer(l1Offset, l1Size);
    }

    /** @return what the L1 table of the snapshot {@code s} reaches */
    public Layer layer(Snapshot s) throws IOException {
        return layer(s.l1Offset(), s.l1Size());
    }

    /** @return how many references the refcount blocks record for host cluster {@code cluster} */
    public long refcount(long cluster) throws IOException {
        int bits = 1 << refcountOrder;
        long perBlock = clusterSize * 8 / bits;
        long tableIndex = cluster / perBlock;
        long[] table = refcountTable();
        if (tableIndex >= table.length || table[(int) tableIndex] == 0) {
            return 0;
        }
        ByteBuffer block = refcountBlock(table[(int) tableIndex]);
        long index = cluster % perBlock;
        return switch (refcountOrder) {
            case 0, 1, 2 -> {
                int perByte = 8 / bits;
                int b = block.get((int) (index / perByte)) & 0xff;
                yield (b >> (bits * (int) (index % perByte))) & ((1 << bits) - 1);
            }
            case 3 -> block.get((int) index) & 0xffL;
            case 4 -> block.getShort((int) index * 2) & 0xffffL;
            case 5 -> block.getInt((int) index * 4) & 0xffffffffL;
            default -> block.getLong((int) index * 8);
        };
    }

    /** @return how many host clusters have a reference (data and metadata), as QEMU counts the image's use */
    public long usedClusters() throws IOException {
        long clusters = (ch.size() + clusterSize - 1) / clusterSize;
        long used = 0;
        for (long c = 0; c < clusters; c++) {
            if (refcount(c) > 0) {
                used++;
            }
        }
        return used;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }

    private Layer layer(long offset, int entries) throws IOException {
        if (offset < 0 || offset + (long) entries * 8 > ch.size()) {
            throw new IOException(file + ": an L1 table lies outside the file (damaged header or snapshot table)");
        }
        Layer layer = new Layer(new BitSet(), new BitSet(), new HashMap<>(), new BitSet(), new BitSet());
        int entryBytes = extendedL2() ? 16 : 8;
        long l2Entries = clusterSize / entryBytes;
        long guestClusters = (virtualSize + clusterSize - 1) / clusterSize;
        if (guestClusters > Integer.MAX_VALUE) {
            throw new IOException(file + ": " + guestClusters + " guest clusters are more than xensnap counts");
        }
        ByteBuffer l1 = read(offset, entries * 8);
        for (int i = 0; i < entries; i++) {
            long l2Offset = l1.getLong(i * 8) & OFFSET_MASK;
            if (l2Offset == 0) {
                continue;
            }
            if (l2Offset + clusterSize > ch.size()) {
                throw new IOException(file + ": L2 table " + i + " lies beyond the end of the file");
            }
            layer.l2Tables().set(hostCluster(l2Offset));
            ByteBuffer l2 = read(l2Offset, (int) clusterSize);
            long first = i * l2Entries;
            long last = Math.min(first + l2Entries, guestClusters);
            for (long guest = first; guest < last; guest++) {
                entry(l2.getLong((int) (guest - first) * entryBytes), (int) guest, layer);
            }
        }
        return layer;
    }

    /** Adds what one L2 entry, of guest cluster {@code guest}, maps to {@code layer}. */
    private void entry(long entry, int guest, Layer layer) throws IOException {
        if ((entry & COMPRESSED) != 0) {
            int csizeShift = 62 - (clusterBits - 8);
            long csizeMask = (1L << (clusterBits - 8)) - 1;
            long hostOffset = entry & ((1L << csizeShift) - 1);
            long sectors = ((entry >>> csizeShift) & csizeMask) + 1;
            layer.compressed().put(entry & ~(COPIED | COMPRESSED), sectors * 512 - (hostOffset & 511));
            layer.guestAllocated().set(guest);
            return;
        }
        long hostOffset = entry & OFFSET_MASK;
        if (hostOffset == 0) {
            return;
        }
        layer.data().set(hostCluster(hostOffset));
        // a zero cluster that kept its host cluster reads as zeros but still takes the space
        if ((entry & ZERO) == 0 || extendedL2()) {
            layer.guestAllocated().set(guest);
        }
        if ((entry & COPIED) != 0) {
            layer.guestInPlace().set(guest);
        }
    }

    private int hostCluster(long offset) throws IOException {
        long c = offset >>> clusterBits;
        if (c > Integer.MAX_VALUE) {
            throw new IOException(file + ": host offset " + offset + " is beyond what xensnap counts");
        }
        return (int) c;
    }

    private BitSet clustersOf(long offset, long bytes) {
        BitSet b = new BitSet();
        if (bytes > 0) {
            b.set((int) (offset >>> clusterBits), (int) ((offset + bytes - 1) >>> clusterBits) + 1);
        }
        return b;
    }

    private long[] refcountTable() throws IOException {
        if (refcountTable == null) {
            long bytes = refcountTableClusters * clusterSize;
            if (bytes > MAX_L1_BYTES * 8) {
                throw new IOException(file + ": damaged qcow2 header (refcount table of " + bytes + " bytes)");
            }
            ByteBuffer b = read(refcountTableOffset, (int) bytes);
            long[] t = new long[(int) (bytes / 8)];
            for (int i = 0; i < t.length; i++) {
                t[i] = b.getLong(i * 8) & OFFSET_MASK;
            }
            refcountTable = t;
        }
        return refcountTable;
    }

    private ByteBuffer refcountBlock(long offset) throws IOException {
        ByteBuffer b = refcountBlocks.get(offset);
        if (b == null) {
            b = read(offset, (int) clusterSize);
            refcountBlocks.put(offset, b);
        }
        return b;
    }

    private List<Snapshot> readSnapshots(int count, long offset) throws IOException {
        List<Snapshot> list = new ArrayList<>(count);
        long at = offset;
        for (int i = 0; i < count; i++) {
            ByteBuffer e = read(at, 40);
            long snapshotL1 = e.getLong(0);
            int snapshotL1Size = e.getInt(8);
            int idSize = e.getShort(12) & 0xffff;
            int nameSize = e.getShort(14) & 0xffff;
            int extraSize = e.getInt(36);
            if (snapshotL1Size < 0 || (long) snapshotL1Size * 8 > MAX_L1_BYTES || extraSize < 0
                    || extraSize > 1024) {
                throw new IOException(file + ": damaged qcow2 snapshot table entry " + i);
            }
            if (snapshotL1 < 0 || (snapshotL1 & 0x1ff) != 0 || snapshotL1 + (long) snapshotL1Size * 8 > ch.size()) {
                throw new IOException(file + ": the L1 table of snapshot entry " + i + " lies outside the file");
            }
            long strings = at + 40 + extraSize;
            String id = new String(bytes(read(strings, idSize)), StandardCharsets.UTF_8);
            String name = new String(bytes(read(strings + idSize, nameSize)), StandardCharsets.UTF_8);
            list.add(new Snapshot(id, name, snapshotL1, snapshotL1Size));
            at = (strings + idSize + nameSize + 7) & ~7L;
        }
        return List.copyOf(list);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    private ByteBuffer read(long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (ch.read(b, offset + b.position()) < 0) {
                throw new IOException(file + " ends before byte " + (offset + length) + " of its qcow2 tables");
            }
        }
        return b.flip();
    }
}
