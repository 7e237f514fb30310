package io.xensnap.internal.xl;

import java.util.Objects;

/**
 * A domain's state as {@code xl list} prints it: six flags, each its letter or {@code -}, in the order
 * {@code r b p s c d} (running, blocked, paused, shutdown, crashed, dying).
 *
 * @param flags the six characters, e.g. {@code -b----} or {@code --p---}
 */
public record DomainState(String flags) {

    private static final String LETTERS = "rbpscd";

    /** @throws IllegalArgumentException for anything that is not six such flags */
    public DomainState {
        Objects.requireNonNull(flags, "flags");
        if (flags.length() != LETTERS.length()) {
            throw new IllegalArgumentException("not a domain state: '" + flags + "'");
        }
        for (int i = 0; i < flags.length(); i++) {
            char c = flags.charAt(i);
            if (c != '-' && c != LETTERS.charAt(i)) {
                throw new IllegalArgumentException("not a domain state: '" + flags + "'");
            }
        }
    }

    /** @return whether the domain's vCPUs are paused by the toolstack */
    public boolean paused() {
        return flags.charAt(2) == 'p';
    }

    /** @return whether the domain is shutting down, crashed or dying: nothing to save or unpause */
    public boolean ending() {
        return flags.charAt(3) == 's' || flags.charAt(4) == 'c' || flags.charAt(5) == 'd';
    }
}
