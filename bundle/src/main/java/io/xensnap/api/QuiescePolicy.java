package io.xensnap.api;

import java.util.Locale;

/**
 * Whether a snapshot of a running domain freezes the guest's file systems through the QEMU guest agent
 * ({@code qemu-ga} in the guest, reached over the domain's libxl channel {@code org.qemu.guest_agent.0}) while the disks
 * are snapshotted, so that the snapshot holds what the guest had written but not yet flushed: an application-consistent
 * snapshot instead of a crash-consistent one. The guest is frozen only for the snapshot's QMP transaction and always
 * thawed afterwards.
 *
 * @since 1.3
 */
public enum QuiescePolicy {
    /** Never freeze the guest. */
    NEVER,
    /**
     * Freeze when the domain has an agent channel and the agent answers in time; otherwise take the snapshot without
     * freezing, record it as not quiesced and log a warning. The default when the domain has an agent channel.
     */
    TRY,
    /**
     * Freeze, or refuse the snapshot: a domain without an agent channel is refused with
     * {@link SnapshotError#UNSUPPORTED}, an agent that does not answer or fails to freeze with
     * {@link SnapshotError#QUIESCE_FAILED}; nothing is changed.
     */
    REQUIRE;

    /**
     * @param text {@code never}, {@code try} or {@code require}, in any case
     * @throws IllegalArgumentException for anything else (surrounding white space or control characters included)
     */
    public static QuiescePolicy of(String text) {
        if (text != null) {
            for (QuiescePolicy p : values()) {
                if (p.name().equalsIgnoreCase(text)) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException("quiesce must be never, try or require, not "
                + (text == null ? "null" : "'" + Names.printable(text) + "'"));
    }

    /** @return {@code never}, {@code try} or {@code require}: the word the console and the configuration use */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
