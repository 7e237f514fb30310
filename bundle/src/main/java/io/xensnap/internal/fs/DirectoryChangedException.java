package io.xensnap.internal.fs;

import java.io.IOException;

/** A directory is no longer the one that was checked: a component became a symbolic link, or another directory. */
public final class DirectoryChangedException extends IOException {

    private static final long serialVersionUID = 1L;

    public DirectoryChangedException(String message) {
        super(message);
    }
}
