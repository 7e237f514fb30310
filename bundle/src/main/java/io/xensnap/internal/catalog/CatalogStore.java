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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.MemoryImage;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;

/**
 * Keeps one JSON file per domain uuid under {@code <stateDir>/domains/}. Writes are atomic (temp file, fsync,
 * rename, fsync of the directory), so a crash leaves either the old or the new catalog, never half of one.
 *
 * <p>What was last read or written is kept per domain and handed out again while the file is the same one: same file
 * key (inode), size and modification time. Every write replaces the file by a rename, so a new inode, which makes the
 * check safe against writers that are not this store (another process, an operator's editor that renames); the cost of
 * a read is then one {@code stat} instead of parsing a catalog that may hold thousands of snapshots.
 */
public final class CatalogStore {

    static final int FORMAT_VERSION = 1;

    private final Path dir;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    /** A catalog as it was in the file that {@code stamp} describes. */
    private record Cached(Stamp stamp, DomainCatalog catalog) {
    }

    /** Which file a catalog came from: a rename gives a new file key even when size and time happen to match. */
    private record Stamp(Object fileKey, long size, FileTime modified) {
        static Stamp of(Path f) throws IOException {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            return new Stamp(a.fileKey(), a.size(), a.lastModifiedTime());
        }
    }

    public CatalogStore(Path stateDir) {
        this.dir = stateDir.resolve("domains");
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

    /** @return the temporary file a write of {@code uuid}'s catalog goes through before its rename */
    public Path tempFile(String uuid) {
        return dir.resolve("." + uuid + ".json.tmp");
    }

    /** @return the catalog of {@code uuid}, empty when the domain has none yet */
    public DomainCatalog load(String uuid) throws CatalogException {
        Path f = file(uuid);
        Stamp stamp;
        byte[] bytes;
        try {
            // stamped before the read: if the file is replaced in between, the stamp is the older file's and the next
            // load parses again, never the other way round
            stamp = Stamp.of(f);
            Cached known = cache.get(uuid);
            if (known != null && known.stamp().equals(stamp)) {
                return known.catalog();
            }
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            cache.remove(uuid);
            return DomainCatalog.empty(uuid);
        } catch (IOException e) {
            throw new CatalogException(f, "cannot be read: " + e.getMessage(), e);
        }
        DomainCatalog c;
        try {
            c = fromJson(json.readTree(bytes));
            if (!c.uuid().equals(uuid)) {
                throw new IllegalArgumentException("holds domain " + c.uuid());
            }
        } catch (IOException | RuntimeException e) {
            cache.remove(uuid);
            throw new CatalogException(f, "is corrupt (left as it is for inspection): " + e.getMessage(), e);
        }
        cache.put(uuid, new Cached(stamp, c));
        return c;
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
        write(carryMade(c));
    }

    private DomainCatalog carryMade(DomainCatalog c) throws CatalogException {
        List<Path> named = c.pending().map(PendingOperation::files).orElse(List.of());
        return c.withMade(load(c.uuid()).made())
                .withMadeOnly(p -> named.contains(p) || Files.exists(p, LinkOption.NOFOLLOW_LINKS));
    }

    private void write(DomainCatalog c) throws CatalogException {
        Path f = file(c.uuid());
        Path tmp = tempFile(c.uuid());
        try {
            Files.createDirectories(dir);
            byte[] bytes = json.writeValueAsBytes(toJson(c));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            // a rename keeps inode, size and time: the temp file's stamp is the catalog's, whoever writes after us
            Stamp stamp = Stamp.of(tmp);
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the state directory does not support atomic rename", e);
            }
            // the rename is durable only once the directory entry is on disk
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            cache.put(c.uuid(), new Cached(stamp, c));
        } catch (IOException e) {
            cache.remove(c.uuid());
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new CatalogException(f, "cannot be written: " + e.getMessage(), e,
                    UnwritableStorage.refused(e, dir));
        }
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
            write(carried);
            return;
        }
        try {
            cache.remove(previous.uuid());
            Files.deleteIfExists(file(previous.uuid()));
        } catch (IOException e) {
            throw new CatalogException(file(previous.uuid()), "cannot be removed: " + e.getMessage(), e,
                    UnwritableStorage.refused(e, dir));
        }
    }

    private ObjectNode toJson(DomainCatalog c) {
        ObjectNode root = json.createObjectNode();
        root.put("version", FORMAT_VERSION);
        root.put("uuid", c.uuid());
        root.put("name", c.name());
        root.put("current", c.current());
        ArrayNode disks = root.putArray("disks");
        for (DiskImage d : c.disks()) {
            disks.addObject().put("vdev", d.vdev()).put("image", d.image().toString()).put("format", d.format().id());
        }
        if (c.pending().isPresent()) {
            PendingOperation p = c.pending().get();
            ObjectNode pn = root.putObject("pending").put("kind", p.kind().name()).put("snapshot", p.snapshot())
                    .put("started", p.started().toString());
            if (!p.disks().isEmpty()) {
                pn.put("description", p.description());
                diskSnapshots(pn.putArray("disks"), p.disks());
            }
            if (p.memory() != null) {
                pn.put("memory", p.memory().toString());
            }
            if (p.agent() != null) {
                pn.put("agent", p.agent().toString());
            }
        }
        if (!c.made().isEmpty()) {
            ArrayNode made = root.putArray("made");
            c.made().forEach(m -> made.add(m.toString()));
        }
        ArrayNode snaps = root.putArray("snapshots");
        for (SnapshotInfo s : c.snapshots()) {
            ObjectNode n = snaps.addObject();
            n.put("name", s.name()).put("description", s.description()).put("created", s.created().toString())
                    .put("parent", s.parent());
            diskSnapshots(n.putArray("disks"), s.disks());
            if (s.memory() != null) {
                n.putObject("memory").put("image", s.memory().image().toString())
                        .put("size", s.memory().sizeBytes()).put("sha256", s.memory().sha256());
            }
            // written only for a frozen guest, so that the catalogs of snapshots without a freeze stay as they were
            if (s.quiesced() || !s.frozen().isZero()) {
                n.put("quiesced", s.quiesced()).put("frozenMs", s.frozen().toMillis());
            }
        }
        return root;
    }

    private static void diskSnapshots(ArrayNode into, List<DiskSnapshot> disks) {
        for (DiskSnapshot d : disks) {
            ObjectNode dn = into.addObject().put("vdev", d.vdev()).put("kind", d.kind().name())
                    .put("image", d.image().toString()).put("format", d.format().id());
            if (d.overlay() != null) {
                dn.put("overlay", d.overlay().toString());
            }
        }
    }

    private static List<DiskSnapshot> diskSnapshots(JsonNode array) {
        List<DiskSnapshot> sd = new ArrayList<>();
        for (JsonNode d : array) {
            JsonNode ov = d.get("overlay");
            sd.add(new DiskSnapshot(text(d, "vdev"), SnapshotKind.valueOf(text(d, "kind")),
                    Path.of(text(d, "image")), DiskFormat.of(text(d, "format")),
                    ov == null || ov.isNull() ? null : Path.of(ov.asText())));
        }
        return sd;
    }

    private static DomainCatalog fromJson(JsonNode root) {
        int version = req(root, "version").asInt();
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException("format version " + version + ", this xensnap reads " + FORMAT_VERSION);
        }
        String uuid = text(root, "uuid");
        List<DiskImage> disks = new ArrayList<>();
        for (JsonNode d : req(root, "disks")) {
            disks.add(new DiskImage(text(d, "vdev"), Path.of(text(d, "image")), DiskFormat.of(text(d, "format"))));
        }
        Optional<PendingOperation> pending = Optional.empty();
        JsonNode p = root.get("pending");
        if (p != null && !p.isNull()) {
            JsonNode planned = p.get("disks");
            pending = Optional.of(new PendingOperation(PendingOperation.Kind.valueOf(text(p, "kind")),
                    text(p, "snapshot"), Instant.parse(text(p, "started")),
                    p.hasNonNull("description") ? text(p, "description") : "",
                    planned == null || planned.isNull() ? List.of() : diskSnapshots(planned),
                    p.hasNonNull("memory") ? absolute(p.get("memory"), "pending.memory") : null,
                    p.hasNonNull("agent") ? Path.of(text(p, "agent")) : null));
        }
        List<SnapshotInfo> snaps = new ArrayList<>();
        for (JsonNode s : req(root, "snapshots")) {
            List<DiskSnapshot> sd = diskSnapshots(req(s, "disks"));
            JsonNode parent = s.get("parent");
            JsonNode mem = s.get("memory");
            snaps.add(new SnapshotInfo(uuid, text(s, "name"), text(s, "description"), Instant.parse(text(s, "created")),
                    parent == null || parent.isNull() ? null : parent.asText(), sd,
                    mem == null || mem.isNull() ? null
                            : new MemoryImage(absolute(req(mem, "image"), "memory.image"), req(mem, "size").asLong(),
                                    mem.hasNonNull("sha256") ? mem.get("sha256").asText() : ""),
                    s.path("quiesced").asBoolean(false), java.time.Duration.ofMillis(s.path("frozenMs").asLong(0))));
        }
        // written since xensnap records the files it makes; an older catalog records none
        List<Path> made = new ArrayList<>();
        JsonNode m = root.get("made");
        if (m != null && !m.isNull()) {
            for (JsonNode f : m) {
                if (!f.isTextual() || !f.asText().startsWith("/")) {
                    throw new IllegalArgumentException("field 'made' holds " + f + ", not an absolute path");
                }
                made.add(Path.of(f.asText()).normalize());
            }
        }
        JsonNode cur = root.get("current");
        return new DomainCatalog(uuid, text(root, "name"), cur == null || cur.isNull() ? null : cur.asText(), disks,
                pending, snaps, made);
    }

    private static Path absolute(JsonNode f, String field) {
        if (!f.isTextual() || !f.asText().startsWith("/")) {
            throw new IllegalArgumentException("field '" + field + "' holds " + f + ", not an absolute path");
        }
        return Path.of(f.asText()).normalize();
    }

    private static JsonNode req(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("field '" + field + "' is missing");
        }
        return v;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = req(n, field);
        if (!v.isTextual()) {
            throw new IllegalArgumentException("field '" + field + "' is not a string");
        }
        return v.asText();
    }
}
