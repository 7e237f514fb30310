package io.xensnap.internal.engine;

/**
 * Progress of a long operation (revert, delete with a merge), for people watching a console or a JMX client. Called
 * on the operation's threads, possibly several at once: implementations must be thread-safe and quick.
 */
@FunctionalInterface
public interface Progress {

    /** What {@code done} and {@code total} count. */
    enum Unit {
        /** Bytes of a running merge, as QEMU reports them; the total may grow while the guest writes. */
        BYTES,
        /** Disks finished out of the disks the operation works on. */
        DISKS
    }

    /** Reports nothing. */
    Progress NONE = (step, done, total, unit) -> {
    };

    /**
     * @param step  what is being done or was just finished, e.g. {@code merge xvdb} or {@code xvda reverted}
     * @param done  how much is done
     * @param total how much there is
     */
    void report(String step, long done, long total, Unit unit);
}
