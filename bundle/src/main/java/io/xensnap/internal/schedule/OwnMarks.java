package io.xensnap.internal.schedule;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Which snapshots a schedule made: {@code <state dir>/schedules/<name>.json}, one entry per snapshot with its domain,
 * name and creation time. Retention deletes only snapshots found here whose catalog entry still has that creation
 * time, so a user's snapshot is never taken for the schedule's, also one named like it (made after the schedule's
 * own of that name was deleted). Kept apart from the domain catalogs so that their format and the operations that
 * write them stay as they are; a mark lost (a crash between the create and the mark) errs on the safe side: that
 * snapshot is kept, as if a user had made it.
 */
final class OwnMarks {

    /** One snapshot the schedule made. */
    record Mark(String domain, String snapshot, Instant created) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    OwnMarks(Path stateDir, String schedule) {
        this.file = stateDir.resolve("schedules").resolve(schedule + ".json");
    }

    Path file() {
        return file;
    }

    List<Mark> load() throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        List<Mark> marks = new ArrayList<>();
        for (JsonNode n : JSON.readTree(file.toFile()).path("snapshots")) {
            marks.add(new Mark(n.path("domain").asText(), n.path("snapshot").asText(),
                    Instant.parse(n.path("created").asText())));
        }
        return marks;
    }

    /** Replaces the file whole: written beside it, synced, then renamed over it. */
    void save(List<Mark> marks) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("snapshots");
        for (Mark m : marks) {
            list.addObject().put("domain", m.domain()).put("snapshot", m.snapshot())
                    .put("created", m.created().toString());
        }
        Files.createDirectories(file.getParent());
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(temp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
