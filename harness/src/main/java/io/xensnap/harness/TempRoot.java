package io.xensnap.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A private directory under {@code $TMPDIR} (else /tmp), never under Karaf's data/tmp. Short on purpose: UNIX socket paths must stay under 108 bytes, so
 * peers never live under {@code target/exam/<uuid>/...}.
 */
public final class TempRoot implements AutoCloseable {

    private final Path dir;

    private TempRoot(Path dir) {
        this.dir = dir;
    }

    public static TempRoot create(String prefix) {
        try {
            return new TempRoot(Files.createTempDirectory(Path.of(System.getenv().getOrDefault("TMPDIR", "/tmp")), prefix));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path path() {
        return dir;
    }

    /** @return {@code path()/relative}, with its parent directories created */
    public Path resolve(String relative) {
        Path p = dir.resolve(relative);
        try {
            Files.createDirectories(p.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** Deletes the directory and everything below it. */
    @Override
    public void close() {
        deleteTree(dir);
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
