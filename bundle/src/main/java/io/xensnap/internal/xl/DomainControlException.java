package io.xensnap.internal.xl;

import java.util.List;
import java.util.Objects;

/**
 * xl failed or was not run. {@link #exitCode()} and {@link #stderr()} are xl's own when {@link #reason()} is
 * {@link Reason#FAILED}: libxl writes why on standard error, and that text is what an operator needs.
 */
public class DomainControlException extends Exception {

    private static final long serialVersionUID = 1L;

    public enum Reason {
        /** xl ran and exited non-zero. */
        FAILED,
        /** xl did not finish in time and was killed. */
        TIMEOUT,
        /** xl could not be started, or the wait was interrupted. */
        NOT_RUN,
        /** xl's output was not what this version of xl prints. */
        BAD_OUTPUT
    }

    private final Reason reason;
    private final List<String> argv;
    private final int exitCode;
    private final String stderr;

    public DomainControlException(Reason reason, List<String> argv, int exitCode, String stderr, String message,
                                  Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.argv = List.copyOf(argv);
        this.exitCode = exitCode;
        this.stderr = Objects.requireNonNull(stderr, "stderr");
    }

    public Reason reason() {
        return reason;
    }

    /** @return the command that ran or was meant to run */
    public List<String> argv() {
        return argv;
    }

    /** @return xl's exit code, or -1 when it did not exit by itself */
    public int exitCode() {
        return exitCode;
    }

    /** @return xl's standard error, possibly empty */
    public String stderr() {
        return stderr;
    }
}
