package io.xensnap.internal.libxl;

import java.util.Objects;

/** A failure of the libxl domain-config layer; the engine translates {@link #reason()} into a SnapshotError. */
public final class LibxlConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    /** What went wrong, coarse enough for the engine to map. */
    public enum Reason {
        /** No stored config for the domain (never created, or the domain is gone). */
        NOT_FOUND,
        /** Several stored configs claim the same domid, so the uuid is needed to choose. */
        AMBIGUOUS,
        /** The stored config is not JSON, or not shaped like libxl's domain config. */
        MALFORMED,
        /** The config has no disk with the requested vdev. */
        NO_SUCH_DISK,
        /** Another process held the domain-userdata lock for longer than the timeout. */
        LOCK_TIMEOUT,
        /** The thread was interrupted while waiting for the lock. */
        INTERRUPTED,
        /** A system call or file operation failed. */
        IO,
        /** The config holds what an xl.cfg cannot carry, so {@code xl create} could not start the same domain. */
        NOT_CARRIED
    }

    private final Reason reason;

    public LibxlConfigException(Reason reason, String message) {
        this(reason, message, null);
    }

    public LibxlConfigException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
