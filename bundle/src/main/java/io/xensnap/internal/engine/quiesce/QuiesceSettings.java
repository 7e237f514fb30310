package io.xensnap.internal.engine.quiesce;

import java.time.Duration;
import java.util.Objects;

import io.xensnap.api.QuiescePolicy;

/**
 * @param policy    what a request without its own policy gets
 * @param timeout   the bound of each step of the agent's conversation (connect, sync, freeze, thaw, status)
 * @param maxFreeze the longest the guest stays frozen: the watchdog thaws it then, whatever the create is doing; longer
 *                  than {@code timeout}, so that the watchdog never thaws on a conversation still waiting for the
 *                  freeze's answer
 * @param presync   whether the guest runs {@code sync} (through the agent's {@code guest-exec}) before the freeze, so
 *                  that the freeze, which the guest's writers wait through, has little left to write
 */
public record QuiesceSettings(QuiescePolicy policy, Duration timeout, Duration maxFreeze, boolean presync) {

    public QuiesceSettings(QuiescePolicy policy, Duration timeout, Duration maxFreeze) {
        this(policy, timeout, maxFreeze, true);
    }

    public QuiesceSettings {
        Objects.requireNonNull(policy, "policy");
        positive(timeout, "timeout");
        positive(maxFreeze, "maxFreeze");
        if (maxFreeze.compareTo(timeout) <= 0) {
            throw new IllegalArgumentException("the longest freeze (" + maxFreeze + ") must be longer than the step"
                    + " timeout (" + timeout + ")");
        }
    }

    public static QuiesceSettings defaults() {
        return new QuiesceSettings(QuiescePolicy.TRY, Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    private static void positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
    }
}
