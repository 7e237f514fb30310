package io.xensnap.internal.catalog;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
 * The catalog's JSON: what a catalog file and each journal record hold. Besides the catalog, a file carries its
 * generation, which {@link CatalogStore} raises on every rewrite of the file so that no two rewrites of a domain's
 * catalog are the same bytes (a journal names the file it continues by its bytes).
 */
final class CatalogJson {

    static final int FORMAT_VERSION = 1;

    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A catalog as read, with the generation of the file it came from (0 when written before there were any). */
    record Read(DomainCatalog catalog, long generation) {
    }

    /** @return the catalog file's bytes: indented, for the person who reads it */
    byte[] write(DomainCatalog c, long generation) throws IOException {
        return json.writeValueAsBytes(toJson(c, generation));
    }

    /** @return a journal record's bytes: the same JSON on one line, without its line break */
    byte[] line(DomainCatalog c, long generation) throws IOException {
        return json.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(toJson(c, generation));
    }

    /** @throws IOException or a RuntimeException when the bytes are no catalog of this format */
    Read read(byte[] bytes, int off, int len) throws IOException {
        JsonNode root = json.readTree(bytes, off, len);
        DomainCatalog c = catalog(root);
        JsonNode g = root.get("generation");
        if (g != null && !g.canConvertToLong()) {
            throw new IllegalArgumentException("field 'generation' holds " + g + ", not a number");
        }
        return new Read(c, g == null ? 0 : g.asLong());
    }

    private ObjectNode toJson(DomainCatalog c, long generation) {
        ObjectNode root = json.createObjectNode();
        root.put("version", FORMAT_VERSION);
        if (generation > 0) {
            root.put("generation", generation);
        }
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

    private static DomainCatalog catalog(JsonNode root) {
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
