package io.xensnap.internal.catalog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;


/**
 * Keeps each domain's catalog under {@code <stateDir>/domains/}: a catalog file {@code <uuid>.json}, written
 * atomically (temp file, fsync, rename, fsync of the directory), and after it a journal {@code <uuid>.journal} of the
 * catalogs saved since ({@link CatalogJournal}). A save appends to the journal and costs one fdatasync; every
 * {@code compactAfter} records (or once the journal outgrows a few catalogs) the save rewrites the catalog file
 * instead, with a new generation in it, and drops the journal; the save after that starts a new one. A crash leaves
 * the last catalog whose save returned, or the one being saved, never half of one: the catalog file is replaced by a
 * rename, and a torn journal record does not check.
 *
 * <p>What was last read or written is kept per domain and handed out again while both files are the same ones: same
 * file key (inode), size and modification time. A rewrite replaces the catalog file by a rename, so a new inode, and
 * an append makes the journal longer; other writers (another process, an operator's editor) change one of the
 * stamps too. The cost of a read is then two {@code stat}s instead of parsing a catalog that may hold thousands of
 * snapshots.
 */
public final class CatalogStore {

    /** Records a journal holds before the save after them rewrites the catalog file. */
    static final int COMPACT_AFTER = 32;

    private final Path dir;
    private final CatalogJson json = new CatalogJson();
    private final Flushes flushes;
    private final CatalogJournal journal;
    private final int compactAfter;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    /**
     * A catalog as the files that {@code stamps} describe hold it. {@code size} and {@code crc} are the catalog
     * file's, which a new journal names; {@code generation} the highest either file names; {@code scan} the journal
     * when it continues this catalog file, null when there is none that does.
     */
    private record Cached(Stamps stamps, DomainCatalog catalog, long size, int crc, long generation,
                          CatalogJournal.Scan scan) {
    }

    /** Which file a catalog came from: a rename gives a new file key even when size and time happen to match. */
    private record Stamp(Object fileKey, long size, FileTime modified) {
        static Stamp of(Path f) throws IOException {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            return new Stamp(a.fileKey(), a.size(), a.lastModifiedTime());
        }

        /** @return null when there is no {@code f} */
        static Stamp ifAny(Path f) throws IOException {
            try {
                return of(f);
            } catch (NoSuchFileException e) {
                return null;
            }
        }
    }

    /** The catalog file's stamp and the journal's, null for a file that is not there. */
    private record Stamps(Stamp catalog, Stamp journal) {
    }

    public CatalogStore(Path stateDir) {
        this(stateDir, new Flushes(), COMPACT_AFTER);
    }

    CatalogStore(Path stateDir, Flushes flushes, int compactAfter) {
        this.dir = stateDir.resolve("domains");
        this.flushes = flushes;
        this.journal = new CatalogJournal(flushes);
        this.compactAfter = compactAfter;
    }

    /** @return the file that holds the catalog of {@code uuid} */
    public Path file(String uuid) {
        return dir.resolve(uuid + ".json");
    }

    /**
     * @return where the save image of domain snapshot {@code snapshot} of {@code uuid} is kept: in the state directory,
     *         beside the catalogs, one directory per domain, readable by root only
     */
    public Path memoryImage(String uuid, String snapshot) {
        return dir.resolveSibling("memory").resolve(uuid).resolve(snapshot + ".xlsave");
    }

    /**
     * @return where libxl's config of domain {@code uuid} as it was when {@code snapshot} was taken is kept: in the
     *         state directory, beside the save images, one directory per domain, readable by root only
     */
    public Path domainConfig(String uuid, String snapshot) {
        return dir.resolveSibling("config").resolve(uuid).resolve(snapshot + ".libxl-json");
    }

    /**
     * @return where a revert that starts domain {@code uuid} again writes the xl.cfg it hands to {@code xl create}:
     *         beside the config {@code snapshot} kept, which it is written from
     */
    public Path restartConfig(String uuid, String snapshot) {
        return domainConfig(uuid, snapshot).resolveSibling(snapshot + ".xl.cfg");
    }

    /** @return the journal of the catalogs of {@code uuid} saved since its catalog file was written */
    public Path journalFile(String uuid) {
        return dir.resolve(uuid + ".journal");
    }

    /** @return the temporary file a write of {@code uuid}'s catalog goes through before its rename */
    public Path tempFile(String uuid) {
        return dir.resolve("." + uuid + ".json.tmp");
    }

    /** @return the catalog of {@code uuid}, empty when the domain has none yet */
    public DomainCatalog load(String uuid) throws CatalogException {
        Cached c = read(uuid);
        return c == null ? DomainCatalog.empty(uuid) : c.catalog();
    }

    /** @return what the files of {@code uuid} hold, null when there is no catalog file (a journal alone is none) */
    private Cached read(String uuid) throws CatalogException {
        Path f = file(uuid);
        Path j = journalFile(uuid);
        Stamps stamps;
        byte[] bytes;
        try {
            // stamped before the read: if a file is replaced in between, the stamp is the older file's and the next
            // load parses again, never the other way round
            stamps = new Stamps(Stamp.ifAny(f), Stamp.ifAny(j));
            Cached known = cache.get(uuid);
            if (stamps.catalog() != null && known != null && known.stamps().equals(stamps)) {
                return known;
            }
            bytes = stamps.catalog() == null ? null : Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            bytes = null;
            stamps = null;
        } catch (IOException e) {
            throw new CatalogException(f, "cannot be read: " + e.getMessage(), e);
        }
        if (bytes == null) {
            cache.remove(uuid);
            return null;
        }
        byte[] log;
        try {
            log = stamps.journal() == null ? null : Files.readAllBytes(j);
        } catch (NoSuchFileException e) {
            log = null;
        } catch (IOException e) {
            throw new CatalogException(j, "cannot be read: " + e.getMessage(), e);
        }
        Cached c = parse(uuid, stamps, bytes, log);
        cache.put(uuid, c);
        return c;
    }

    private Cached parse(String uuid, Stamps stamps, byte[] bytes, byte[] log) throws CatalogException {
        int crc = CatalogJournal.crc(bytes, 0, bytes.length);
        CatalogJournal.Scan scan = log == null ? null : CatalogJournal.scan(log);
        long seen = scan == null ? 0 : scan.header().generation();
        if (scan != null && !scan.header().continues(bytes.length, crc)) {
            // the catalog file was rewritten after the journal (a crash before the journal was dropped), or another
            // writer replaced it: either way the file is newer than anything the journal holds
            scan = null;
        }
        if (scan != null && scan.records() > 0) {
            // the file is the one the journal continues, read when the journal began: no need to parse it again
            CatalogJson.Read r = decode(uuid, journalFile(uuid), log, (int) scan.last().at(), scan.last().length());
            return new Cached(stamps, r.catalog(), bytes.length, crc, seen, scan);
        }
        CatalogJson.Read r = decode(uuid, file(uuid), bytes, 0, bytes.length);
        return new Cached(stamps, r.catalog(), bytes.length, crc, Math.max(seen, r.generation()), scan);
    }

    private CatalogJson.Read decode(String uuid, Path from, byte[] bytes) throws CatalogException {
        return decode(uuid, from, bytes, 0, bytes.length);
    }

    private CatalogJson.Read decode(String uuid, Path from, byte[] bytes, int off, int len) throws CatalogException {
        try {
            CatalogJson.Read r = json.read(bytes, off, len);
            if (!r.catalog().uuid().equals(uuid)) {
                throw new IllegalArgumentException("holds domain " + r.catalog().uuid());
            }
            return r;
        } catch (IOException | RuntimeException e) {
            cache.remove(uuid);
            throw new CatalogException(from, "is corrupt (left as it is for inspection): " + e.getMessage(), e);
        }
    }

    /** @return the uuids that have a catalog */
    public List<String> uuids() throws CatalogException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - 5)).sorted().forEach(out::add);
        } catch (IOException e) {
            throw new CatalogException(dir, "cannot be listed: " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Writes {@code c}. The files the catalog on disk records as made by xensnap ({@link DomainCatalog#made()}) stay
     * recorded while they exist, whichever catalog the caller writes back (an undo writes the one from before the
     * operation): a file of ours never loses its record before it is gone. Files that are gone leave the record,
     * except those the pending mark names, which are about to be made.
     *
     * @throws CatalogException also when the catalog on disk cannot be read, since its record would be lost
     */
    public void save(DomainCatalog c) throws CatalogException {
        write(carryMade(c), true);
    }

    /**
     * Writes {@code c}, the catalog that ends an operation, as {@link #save} does, except that an append to the
     * journal is not flushed: the pending mark on the disk before it is durable and names the same work, so a crash
     * that loses this record leaves the mark, and reconcile finishes the operation from it (the report after such a
     * crash says so instead of saying nothing). The next durable write flushes this record with its own. When the
     * catalog on the disk holds no mark, or the write is no plain append, it is as durable as {@link #save}'s.
     */
    public void saveResult(DomainCatalog c) throws CatalogException {
        DomainCatalog carried = carryMade(c);
        Cached now = read(c.uuid());
        write(carried, now == null || now.catalog().pending().isEmpty());
    }

    private DomainCatalog carryMade(DomainCatalog c) throws CatalogException {
        List<Path> named = c.pending().map(PendingOperation::files).orElse(List.of());
        return c.withMade(load(c.uuid()).made())
                .withMadeOnly(p -> named.contains(p) || Files.exists(p, LinkOption.NOFOLLOW_LINKS));
    }

    /**
     * Appends {@code c} to the journal (one fdatasync); rewrites the catalog file instead when there is none yet or
     * the journal is full, and starts a journal when the file has none that continues it. A catalog that one of the
     * files already holds (an operation's undo writes back the one from before) is not written again: the journal is
     * cut back to it, so that the files are what they were.
     */
    private void write(DomainCatalog c, boolean flush) throws CatalogException {
        Cached now = read(c.uuid());
        if (now == null) {
            rewrite(c, 0);
            return;
        }
        CatalogJournal.Scan scan = now.scan();
        Path j = journalFile(c.uuid());
        try {
            byte[] line = json.line(c, now.generation());
            CatalogJournal.Scan cut = scan == null ? null : journal.cutTo(j, scan, line);
            if (cut != null) {
                keep(now, c, j, cut);
            } else if (scan == null && c.equals(now.catalog())) {
                // the catalog file holds it: make sure it is on the disk, as a write would
                durable(file(c.uuid()));
            } else if (scan != null && heldByFile(now, c)) {
                Files.delete(j);
                flushes.directory(dir);
                cache.remove(c.uuid());
            } else if (scan == null) {
                startJournal(now, c, line);
            } else if (full(scan, now.size(), c.pending().isEmpty() ? 1 : 2)) {
                rewrite(c, now.generation());
            } else {
                keep(now, c, j, journal.append(j, scan, line, flush));
            }
        } catch (IOException e) {
            cache.remove(c.uuid());
            throw unwritable(file(c.uuid()), e);
        }
    }

    /** @return whether the catalog file's bytes are those of {@code c}: the journal holds nothing beyond them */
    private boolean heldByFile(Cached now, DomainCatalog c) throws IOException {
        // only a catalog without a mark is worth the second serialisation: the undo of a whole operation
        if (c.pending().isPresent()) {
            return false;
        }
        byte[] bytes = json.write(c, now.scan().header().generation());
        return bytes.length == now.size() && CatalogJournal.crc(bytes, 0, bytes.length) == now.crc();
    }

    private void durable(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            flushes.file(ch);
        }
        flushes.directory(dir);
    }

    /**
     * A journal of big catalogs is folded sooner, so that it stays within a few catalogs' size. Under a pending mark
     * the fold waits up to twice as long, for the operation's last save: an undo can then still cut the journal back.
     */
    private boolean full(CatalogJournal.Scan scan, long catalogBytes, int factor) {
        long catalog = Math.max(catalogBytes, scan.records() == 0 ? 0 : scan.last().length()) + CatalogJournal.BLOCK;
        return scan.records() >= factor * compactAfter || scan.end() > factor * (4 * catalog + (1 << 20));
    }

    private void rewrite(DomainCatalog c, long generation) throws CatalogException {
        Path f = file(c.uuid());
        Path tmp = tempFile(c.uuid());
        try {
            Files.createDirectories(dir);
            // a new generation makes the bytes differ from every catalog file a journal was started on, so that the
            // old journal no longer counts even if a crash keeps it
            byte[] bytes = json.write(c, generation + 1);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                flushes.file(ch);
            }
            // a rename keeps inode, size and time: the temp file's stamp is the catalog's, whoever writes after us
            Stamp stamp = Stamp.of(tmp);
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the state directory does not support atomic rename", e);
            }
            // the rename is durable only once the directory entry is on disk; only then may the journal go
            flushes.directory(dir);
            Files.deleteIfExists(journalFile(c.uuid()));
            cache.put(c.uuid(), new Cached(new Stamps(stamp, null), c, bytes.length,
                    CatalogJournal.crc(bytes, 0, bytes.length), generation + 1, null));
        } catch (IOException e) {
            cache.remove(c.uuid());
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw unwritable(f, e);
        }
    }

    private void startJournal(Cached now, DomainCatalog c, byte[] line) throws IOException {
        Path j = journalFile(c.uuid());
        try {
            // a journal that names an older catalog file, or whose header a crash tore, holds nothing that counts
            Files.deleteIfExists(j);
            CatalogJournal.Header h = CatalogJournal.Header.of(now.generation(), now.size(), now.crc());
            keep(now, c, j, journal.start(j, h, line));
        } catch (IOException e) {
            try {
                Files.deleteIfExists(j);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void keep(Cached now, DomainCatalog c, Path j, CatalogJournal.Scan scan) throws IOException {
        // the catalog file's stamp as it was read: if another writer replaced the file since, the next load notices
        cache.put(c.uuid(), new Cached(new Stamps(now.stamps().catalog(), Stamp.of(j)), c, now.size(), now.crc(),
                now.generation(), scan));
    }

    private CatalogException unwritable(Path f, IOException e) {
        return new CatalogException(f, "cannot be written: " + e.getMessage(), e, UnwritableStorage.refused(e, dir));
    }

    /** @return whether a catalog file exists for {@code uuid} */
    public boolean exists(String uuid) {
        return Files.exists(file(uuid));
    }

    /**
     * Puts back what was there before an operation began: {@code previous}, or no file at all when there was none,
     * so that a refused first operation leaves no trace.
     */
    public void restore(DomainCatalog previous, boolean existed) throws CatalogException {
        DomainCatalog carried = carryMade(previous);
        if (existed || !carried.made().isEmpty()) {
            // a file the operation made and could not remove keeps the catalog, so that its record stays
            write(carried, true);
            return;
        }
        try {
            cache.remove(previous.uuid());
            // the journal first: should the catalog file stay, it holds this operation's first save, its mark,
            // which reconcile settles
            Files.deleteIfExists(journalFile(previous.uuid()));
            Files.deleteIfExists(file(previous.uuid()));
        } catch (IOException e) {
            throw new CatalogException(file(previous.uuid()), "cannot be removed: " + e.getMessage(), e,
                    UnwritableStorage.refused(e, dir));
        }
    }
}
