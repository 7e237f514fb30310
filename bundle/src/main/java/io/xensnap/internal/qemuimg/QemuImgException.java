package io.xensnap.internal.qemuimg;

import java.util.List;
import java.util.Objects;

/**
 * qemu-img failed or was not run. {@link #exitCode()} and {@link #stderr()} are qemu-img's own when
 * {@link #reason()} is {@link Reason#FAILED}.
 */
public class QemuImgException extends Exception {

    private static final long serialVersionUID = 1L;

    public enum Reason {
        /** qemu-img ran and exited non-zero. */
        FAILED,
        /** qemu-img did not finish in time and was killed. */
        TIMEOUT,
        /** qemu-img could not be started, or the wait was interrupted. */
        NOT_RUN,
        /** qemu-img's output was not what its documentation promises. */
        BAD_OUTPUT,
        /** Refused: the snapshot name is unusable (empty, or all digits and so ambiguous with ids). */
        INVALID_NAME,
        /** Refused: a snapshot with that name exists already, or the name is ambiguous in the image. */
        DUPLICATE_NAME,
        /** Refused: the image has no snapshot with that name in any layer. */
        NO_SUCH_SNAPSHOT,
        /** Refused: the snapshot lives in another layer of the backing chain, not in the image given. */
        SNAPSHOT_IN_OTHER_LAYER,
        /** Refused: the file to create exists already (qemu-img would overwrite it). */
        FILE_EXISTS
    }

    private final Reason reason;
    private final List<String> argv;
    private final int exitCode;
    private final String stderr;

    public QemuImgException(Reason reason, List<String> argv, int exitCode, String stderr, String message,
                            Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.argv = List.copyOf(argv);
        this.exitCode = exitCode;
        this.stderr = Objects.requireNonNull(stderr, "stderr");
    }

    /** A guard refused the operation before qemu-img ran. */
    public static QemuImgException refused(Reason reason, String message) {
        return new QemuImgException(reason, List.of(), -1, "", message, null);
    }

    public Reason reason() {
        return reason;
    }

    /** @return the command that ran or was meant to run (empty for a refusal) */
    public List<String> argv() {
        return argv;
    }

    /** @return qemu-img's exit code, or -1 when it did not exit by itself */
    public int exitCode() {
        return exitCode;
    }

    /** @return qemu-img's standard error, possibly empty */
    public String stderr() {
        return stderr;
    }
}
