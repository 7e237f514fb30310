package io.xensnap.internal.engine;

import java.nio.file.Path;

/** The catalog file of a domain cannot be read or written. A corrupt file is reported, never replaced. */
public class CatalogException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public CatalogException(Path file, String message, Throwable cause) {
        super("catalog " + file + ": " + message, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
