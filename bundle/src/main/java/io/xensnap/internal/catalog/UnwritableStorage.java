package io.xensnap.internal.catalog;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Tells a write that the file system refused (read-only, full, over quota, not permitted: EROFS, ENOSPC, EDQUOT,
 * EACCES, EPERM) from any other failure. The operator can fix the first kind by freeing space or remounting; the
 * second is a defect.
 */
final class UnwritableStorage {

    /** strerror(3)'s texts for the errnos above, as the JDK puts them into its exceptions. */
    private static final List<String> REFUSALS = List.of("Read-only file system", "No space left on device",
            "Disk quota exceeded", "Operation not permitted", "Permission denied");

    private UnwritableStorage() {
    }

    /**
     * @param e   how a write into {@code dir} failed
     * @param dir the directory written to; it may not exist yet
     */
    static boolean refused(IOException e, Path dir) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof AccessDeniedException) {
                return true;
            }
            String text = t instanceof FileSystemException f ? f.getReason() : t.getMessage();
            if (text != null && REFUSALS.stream().anyMatch(text::contains)) {
                return true;
            }
        }
        // the texts come from the C library and may be translated: ask the file system as well
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return false;
        }
        try {
            FileStore store = Files.getFileStore(existing);
            return store.isReadOnly() || store.getUsableSpace() == 0 || !Files.isWritable(existing);
        } catch (IOException | SecurityException unknown) {
            return false;
        }
    }
}
