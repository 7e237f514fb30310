package io.xensnap.internal.qmp;

import java.util.Objects;

/**
 * {@code query-status}: {@code status} is QEMU's RunState ({@code running}, {@code paused}, {@code prelaunch}, …).
 */
public record RunState(String status, boolean running) {

    public RunState {
        Objects.requireNonNull(status, "status");
    }
}
