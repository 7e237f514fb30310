package io.xensnap.internal.qmp;

import java.time.Duration;
import java.util.Objects;

/**
 * Upper bounds for every wait of a QMP conversation.
 *
 * @param connect  until the socket accepts the connection (a full listen backlog makes connect wait)
 * @param greeting until QEMU's greeting arrives; QEMU greets a second client only after the first one leaves
 * @param reply    until the reply to one command arrives
 * @param job      until a block job concludes
 */
public record QmpTimeouts(Duration connect, Duration greeting, Duration reply, Duration job) {

    public QmpTimeouts {
        positive(connect, "connect");
        positive(greeting, "greeting");
        positive(reply, "reply");
        positive(job, "job");
    }

    public static QmpTimeouts defaults() {
        return new QmpTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(30),
                Duration.ofMinutes(30));
    }

    private static void positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " timeout must be positive: " + d);
        }
    }
}
