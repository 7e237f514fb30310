package io.xensnap.internal.catalog;

import java.nio.file.Path;

/** The catalog file of a domain cannot be read or written. A corrupt file is reported, never replaced. */
public class CatalogException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final boolean unwritable;

    public CatalogException(Path file, String message, Throwable cause) {
        this(file, message, cause, false);
    }

    /** @param unwritable whether the file system refused the write (read-only, full, over quota, not permitted) */
    public CatalogException(Path file, String message, Throwable cause, boolean unwritable) {
        super("catalog " + file + ": " + message, cause);
        this.file = file;
        this.unwritable = unwritable;
    }

    /** @return whether the state directory's file system refused a write, rather than xensnap failing */
    public boolean unwritable() {
        return unwritable;
    }

    public Path file() {
        return file;
    }
}
