package io.xensnap.internal.qmp;

import java.util.Objects;

/**
 * A failure in the QMP layer. {@link #kind()} says what failed; for {@link Kind#ERROR_REPLY} {@link #errorClass()}
 * and {@link #desc()} are QEMU's own words (the texts that matter are in docs/qemu.md#error-texts), for the other kinds
 * {@code errorClass} is empty and {@code desc} the local explanation.
 */
public class QmpException extends Exception {

    private static final long serialVersionUID = 1L;

    public enum Kind {
        /** QEMU answered the command with an error. */
        ERROR_REPLY,
        /** A wait (connect, greeting, reply, job) ran out of time. */
        TIMEOUT,
        /** The socket could not be reached, or the connection dropped. */
        CONNECTION,
        /** QEMU sent something that is not valid QMP at this point; the connection was closed. */
        PROTOCOL,
        /** A block job ended with an error. */
        JOB_FAILED,
        /** A human-monitor command reported an error in its (successful) output. */
        HMP_ERROR,
        /** No block device matches the requested disk, or more than one does. */
        NO_SUCH_DISK,
        /** Refused before anything was sent to QEMU. */
        PRECONDITION
    }

    private final Kind kind;
    private final String errorClass;
    private final String desc;

    protected QmpException(Kind kind, String errorClass, String desc, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.errorClass = Objects.requireNonNull(errorClass, "errorClass");
        this.desc = Objects.requireNonNull(desc, "desc");
    }

    /** QEMU's reply {@code {"error": {"class": errorClass, "desc": desc}}} to {@code command}. */
    public static QmpException errorReply(String domain, String command, String errorClass, String desc) {
        return new QmpException(Kind.ERROR_REPLY, errorClass, desc,
                "[" + domain + "] " + command + " failed: " + errorClass + ": " + desc, null);
    }

    public static QmpException of(Kind kind, String domain, String desc) {
        return of(kind, domain, desc, null);
    }

    public static QmpException of(Kind kind, String domain, String desc, Throwable cause) {
        if (kind == Kind.ERROR_REPLY) {
            throw new IllegalArgumentException("an error reply needs its class: use errorReply");
        }
        return new QmpException(kind, "", desc, "[" + domain + "] " + desc, cause);
    }

    /** A failure QEMU reported outside an error reply (a job's or HMP's error text): {@code desc} is QEMU's text. */
    public static QmpException reported(Kind kind, String domain, String desc, String message) {
        return new QmpException(kind, "", desc, "[" + domain + "] " + message, null);
    }

    public Kind kind() {
        return kind;
    }

    /** @return QEMU's error class ({@code GenericError}, {@code CommandNotFound}, …), empty unless ERROR_REPLY */
    public String errorClass() {
        return errorClass;
    }

    /** @return QEMU's error text for ERROR_REPLY, JOB_FAILED and HMP_ERROR; the local explanation otherwise */
    public String desc() {
        return desc;
    }

    /**
     * The same failure, raised again on the calling thread: a connection failure is detected by the reader thread,
     * and a stack trace of that thread alone would not show which call it broke.
     */
    QmpException rethrownFor(String what) {
        return new QmpException(kind, errorClass, desc, getMessage() + " (while " + what + ")", this);
    }
}
