package io.xensnap.internal.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.xl.SaveImageException;
import io.xensnap.internal.xl.SaveImageHeader;

/**
 * The libxl config a snapshot keeps: the file a live create wrote, or — for a snapshot with memory whose file is
 * gone — the config in its save image's header, which libxl wrote at the same instant.
 */
public final class KeptConfigReader {

    private KeptConfigReader() {
    }

    public static Optional<String> read(CatalogStore catalogs, String uuid, SnapshotInfo snap) throws SnapshotException {
        Path kept = catalogs.domainConfig(uuid, snap.name());
        try {
            return Optional.of(Files.readString(kept, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            // a snapshot of a shut-off domain, or one libxl keeps no config of
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.INTERNAL, "domain " + uuid + ": the config kept with snapshot "
                    + snap.name() + " cannot be read: " + e.getMessage(), e);
        }
        if (snap.memory() == null || !Files.isRegularFile(snap.memory().image(), LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            return SaveImageHeader.read(snap.memory().image()).jsonConfig()
                    .map(json -> new String(json, StandardCharsets.UTF_8));
        } catch (SaveImageException e) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, "domain " + uuid + ": snapshot " + snap.name()
                    + ": " + e.getMessage(), e);
        }
    }
}
