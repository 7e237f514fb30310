package io.xensnap.internal.catalog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The journal of one domain's catalog, {@code <uuid>.journal} beside the catalog file: a header that names the
 * catalog file it continues, then whole catalogs appended one after the other. A save appends one record and makes
 * it durable with one fdatasync; the last valid record is the domain's catalog.
 *
 * <p>Layout; the header and every record start on a {@value #BLOCK}-byte boundary and are padded with zeros to the
 * next one, so that an append never rewrites a block that holds a record already reported durable, and every
 * append needs new blocks of the file system (a full one refuses it, as it refuses a new file):
 * <pre>
 *   header: "XSJ1", generation (8 bytes), base size (8), base CRC32C (4), CRC32C of the 24 bytes before (4)
 *   record: length n (4), CRC32C of the header's CRC, the length and the payload (4), "\n", payload, "\n"
 * </pre>
 * The payload is the catalog's JSON on one line, so that {@code grep -a '^{'} shows a person every record.
 * All numbers big-endian. The base is the size and CRC32C of the catalog file's bytes: the journal counts only while
 * the catalog file is still that one, which a rewrite of the file (a new generation in its bytes) or another writer
 * ends. A record counts only if its length fits the file and its CRC checks; reading stops at the first that does
 * not, a torn tail of an append that a crash cut short. A record's CRC covers the header's, so no record is read
 * under a header it was not written after.
 */
final class CatalogJournal {

    static final int BLOCK = 4096;

    private static final int MAGIC = 0x58534a31;
    private static final int HEADER_BYTES = 28;
    private static final int RECORD_HEAD = 9;

    private final Flushes flushes;

    /** Which catalog file a journal continues: its bytes' size and CRC32C, and the generation written in them. */
    record Header(long generation, long baseSize, int baseCrc, int crc) {

        static Header of(long generation, long baseSize, int baseCrc) {
            ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
            b.putInt(MAGIC).putLong(generation).putLong(baseSize).putInt(baseCrc);
            return new Header(generation, baseSize, baseCrc, CatalogJournal.crc(b.array(), 0, HEADER_BYTES - 4));
        }

        boolean continues(long size, int crc) {
            return baseSize == size && baseCrc == crc;
        }

        private ByteBuffer block() {
            ByteBuffer b = ByteBuffer.allocate(BLOCK);
            b.putInt(MAGIC).putLong(generation).putLong(baseSize).putInt(baseCrc).putInt(crc);
            return b.rewind();
        }
    }

    /** One valid record: where its payload is, how long it is, its CRC and where the record ends. */
    record Entry(long at, int length, int crc, long end) {
    }

    /**
     * What a read of a journal found: its header and its valid records, the last of which ends where the next append
     * goes.
     */
    record Scan(Header header, List<Entry> entries) {

        Scan {
            entries = List.copyOf(entries);
        }

        int records() {
            return entries.size();
        }

        long end() {
            return entries.isEmpty() ? BLOCK : entries.get(entries.size() - 1).end();
        }

        /** @return the last record's payload, null when there is none */
        Entry last() {
            return entries.isEmpty() ? null : entries.get(entries.size() - 1);
        }

        private Scan with(Entry e) {
            List<Entry> more = new ArrayList<>(entries);
            more.add(e);
            return new Scan(header, more);
        }
    }

    CatalogJournal(Flushes flushes) {
        this.flushes = flushes;
    }

    static int crc(byte[] bytes, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(bytes, off, len);
        return (int) c.getValue();
    }

    /** @return what {@code bytes} hold, or null when they do not start with a valid header (a torn first write) */
    static Scan scan(byte[] bytes) {
        if (bytes.length < HEADER_BYTES) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (b.getInt(0) != MAGIC || b.getInt(HEADER_BYTES - 4) != crc(bytes, 0, HEADER_BYTES - 4)) {
            return null;
        }
        Header h = new Header(b.getLong(4), b.getLong(12), b.getInt(20), b.getInt(24));
        List<Entry> entries = new ArrayList<>();
        for (long at = BLOCK; at + RECORD_HEAD <= bytes.length; ) {
            int n = b.getInt((int) at);
            int payload = (int) at + RECORD_HEAD;
            if (n <= 0 || n > bytes.length - payload) {
                break;
            }
            int crc = recordCrc(h, bytes, payload, n);
            if (b.getInt((int) at + 4) != crc) {
                break;
            }
            at = padded(payload + n + 1L);
            entries.add(new Entry(payload, n, crc, at));
        }
        return new Scan(h, entries);
    }

    /**
     * Makes a new journal at {@code f} (any file there is removed first) with {@code header} and one record: an
     * fdatasync of the file, then one of its directory for the new name.
     */
    Scan start(Path f, Header header, byte[] payload) throws IOException {
        ByteBuffer record = record(header, payload);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            write(ch, header.block(), 0);
            write(ch, record, BLOCK);
            flushes.data(ch);
        }
        flushes.directory(f.getParent());
        return new Scan(header, List.of(entry(header, BLOCK, payload)));
    }

    /**
     * Appends a record where {@code scan} ends, dropping a torn tail there, and makes it durable with one fdatasync
     * when {@code flush} (otherwise the next flushed append makes it durable with its own). A failed append is cut
     * off again, so that the journal ends where it did.
     */
    Scan append(Path f, Scan scan, byte[] payload, boolean flush) throws IOException {
        ByteBuffer record = record(scan.header(), payload);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            try {
                // a shorter file lost only zeros of the last record's padding, which the write leaves as a hole
                if (ch.size() > scan.end()) {
                    ch.truncate(scan.end());
                }
                write(ch, record, scan.end());
                if (flush) {
                    flushes.data(ch);
                }
            } catch (IOException e) {
                try {
                    ch.truncate(scan.end());
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
        return scan.with(entry(scan.header(), scan.end(), payload));
    }

    /**
     * Makes the last record that holds {@code payload} the journal's last: cuts off the records after it and makes
     * that durable with one fdatasync. A catalog saved again as it was before (the undo of an operation) so leaves
     * the journal byte for byte as it was.
     *
     * @return the journal up to that record, or null when no record holds {@code payload} (nothing is written)
     */
    Scan cutTo(Path f, Scan scan, byte[] payload) throws IOException {
        int crc = recordCrc(scan.header(), payload, 0, payload.length);
        List<Entry> entries = scan.entries();
        for (int k = entries.size() - 1; k >= 0; k--) {
            Entry e = entries.get(k);
            if (e.crc() != crc || e.length() != payload.length) {
                continue;
            }
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer held = ByteBuffer.allocate(e.length());
                while (held.hasRemaining() && ch.read(held, e.at() + held.position()) > 0) {
                    // read on: a positional read may return fewer bytes than asked
                }
                if (held.hasRemaining() || !Arrays.equals(held.array(), payload)) {
                    continue;
                }
                if (ch.size() > e.end()) {
                    ch.truncate(e.end());
                }
                // also when nothing was cut: the record may be one a crashed process wrote and never flushed
                flushes.data(ch);
            }
            return new Scan(scan.header(), entries.subList(0, k + 1));
        }
        return null;
    }

    private static Entry entry(Header h, long at, byte[] payload) {
        return new Entry(at + RECORD_HEAD, payload.length, recordCrc(h, payload, 0, payload.length),
                at + padded(RECORD_HEAD + payload.length + 1L));
    }

    private static ByteBuffer record(Header h, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate((int) padded(RECORD_HEAD + payload.length + 1));
        b.putInt(payload.length).putInt(recordCrc(h, payload, 0, payload.length)).put((byte) '\n').put(payload)
                .put((byte) '\n');
        return b.rewind();
    }

    private static int recordCrc(Header h, byte[] bytes, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(ByteBuffer.allocate(8).putInt(h.crc()).putInt(len).array());
        c.update(bytes, off, len);
        return (int) c.getValue();
    }

    private static long padded(long n) {
        return (n + BLOCK - 1) / BLOCK * BLOCK;
    }

    private static void write(FileChannel ch, ByteBuffer b, long at) throws IOException {
        for (long pos = at; b.hasRemaining(); ) {
            pos += ch.write(b, pos);
        }
    }
}
