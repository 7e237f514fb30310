package io.xensnap.api;

import java.util.Objects;

/**
 * The one exception of the xensnap API. {@link #code()} is stable and meant for programs; the message is meant for
 * people and may change between versions.
 */
public class SnapshotException extends Exception {

    private static final long serialVersionUID = 1L;

    private final SnapshotError code;

    /**
     * @param code    the stable error code, never {@code null}
     * @param message what went wrong, for a person
     */
    public SnapshotException(SnapshotError code, String message) {
        this(code, message, null);
    }

    /**
     * @param code    the stable error code, never {@code null}
     * @param message what went wrong, for a person
     * @param cause   the lower-level failure, or {@code null}
     */
    public SnapshotException(SnapshotError code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** @return the stable error code */
    public SnapshotError code() {
        return code;
    }

    /** @return {@code [CODE] message}, the form used at the JMX and console edges */
    public String codedMessage() {
        return "[" + code + "] " + getMessage();
    }
}
