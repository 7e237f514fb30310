package io.xensnap.internal.xenstore;

import java.util.Objects;

/**
 * A failed xenstore operation, named by an errno name. Either the daemon's answer ({@code ENOENT}, {@code EAGAIN},
 * {@code EINVAL}, {@code E2BIG}, {@code ENOSYS}, ...: the {@code ERROR} payload as sent), or one of the client's own:
 * <ul>
 *   <li>{@code ETIMEDOUT}: no reply within the client's timeout;</li>
 *   <li>{@code ECONNREFUSED}: no daemon to connect to (socket missing or nobody listening);</li>
 *   <li>{@code ECONNRESET}: the connection is gone (closed, daemon died, or a framing error made the client drop it);</li>
 *   <li>{@code EPROTO}: the daemon sent something the protocol does not allow;</li>
 *   <li>{@code EAGAIN} after the transaction retry bound: the last conflict, with the attempts in the message;</li>
 *   <li>{@code EINTR}: the waiting thread was interrupted;</li>
 *   <li>{@code ENOTSUP}, {@code EINVAL} from the disk readers: a layout this code does not understand;</li>
 *   <li>{@code ESTALE} from the disk swap: the disk changed since it was listed.</li>
 * </ul>
 */
public final class XenstoreException extends Exception {

    private static final long serialVersionUID = 1L;

    public static final String ENOENT = "ENOENT";
    public static final String EAGAIN = "EAGAIN";
    public static final String E2BIG = "E2BIG";
    public static final String ENOSYS = "ENOSYS";
    public static final String EINVAL = "EINVAL";
    public static final String ETIMEDOUT = "ETIMEDOUT";
    public static final String ECONNREFUSED = "ECONNREFUSED";
    public static final String ECONNRESET = "ECONNRESET";
    public static final String EINTR = "EINTR";
    public static final String EPROTO = "EPROTO";
    public static final String ENOTSUP = "ENOTSUP";
    public static final String ESTALE = "ESTALE";

    private final String errno;
    private final String detail;

    public XenstoreException(String errno, String message) {
        this(errno, message, null);
    }

    public XenstoreException(String errno, String message, Throwable cause) {
        super(errno + ": " + message, cause);
        this.errno = Objects.requireNonNull(errno, "errno");
        this.detail = message;
    }

    /** @return the errno name, e.g. {@code ENOENT} */
    public String errno() {
        return errno;
    }

    /** @return the message without the errno name in front */
    public String detail() {
        return detail;
    }

    public boolean is(String errnoName) {
        return errno.equals(errnoName);
    }
}
