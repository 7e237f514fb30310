package io.xensnap.internal.qga;

import java.util.Objects;

/**
 * A failure talking to the guest agent. {@link #kind()} says what failed; for {@link Kind#ERROR_REPLY} the message
 * keeps the agent's own error class and text.
 */
public final class AgentException extends Exception {

    private static final long serialVersionUID = 1L;

    public enum Kind {
        /** The socket could not be reached, or the connection dropped. */
        CONNECTION,
        /** A step (connect, sync, a command's reply) ran out of time: the agent is not running or not answering. */
        TIMEOUT,
        /** The agent answered the command with an error. */
        ERROR_REPLY,
        /** The agent sent something that is not a valid answer at this point. */
        PROTOCOL
    }

    private final Kind kind;

    AgentException(Kind kind, String message) {
        this(kind, message, null);
    }

    AgentException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }
}
