package io.xensnap.internal.qga;

/** What {@code guest-fsfreeze-status} reports. */
public enum FreezeStatus {
    THAWED, FROZEN
}
