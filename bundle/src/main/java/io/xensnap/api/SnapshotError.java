package io.xensnap.api;

/**
 * Stable error codes of xensnap. The names are part of the API: they appear in exceptions, in JMX error messages as
 * {@code [CODE] message} and in console output, and they never change meaning.
 */
public enum SnapshotError {
    /** No running domain has this domid, or no domain is known under this uuid. */
    NO_SUCH_DOMAIN,
    /** The domain has no disk with this virtual device name. */
    NO_SUCH_DISK,
    /** The domain has no snapshot with this name. */
    NO_SUCH_SNAPSHOT,
    /** A snapshot with this name already exists for the domain, or a file that would be created already exists. */
    SNAPSHOT_EXISTS,
    /** The request is malformed: a bad name, path, format or combination of options. Nothing was changed. */
    INVALID_ARGUMENT,
    /** The request is well formed but cannot be done for this disk or domain (the message says why). */
    UNSUPPORTED,
    /** The domain or snapshot is in a state that does not allow the operation (for example running during revert). */
    INVALID_STATE,
    /** Another operation on the same domain is in progress. */
    BUSY,
    /** A lock held by someone else (libxl's domain userdata lock) was not released in time. */
    LOCK_TIMEOUT,
    /** QEMU or xenstored refused or failed the operation; the message keeps their own error text. */
    HYPERVISOR_ERROR,
    /** An external tool (qemu-img) failed; the message keeps its exit code and standard error. */
    TOOL_FAILED,
    /** A peer did not answer within the configured time. */
    TIMEOUT,
    /**
     * xensnap's state directory (configuration key {@code state.dir}, where each domain's snapshot catalog is kept)
     * cannot be written: its file system is read-only or full, the quota is used up, or writing is not permitted.
     * When the catalog could not even mark the operation as started, nothing was changed. When the operation had
     * begun, it was taken back, or the message says that a pending mark stays for reconcile. Free space or make the
     * directory writable, then try again.
     *
     * @since 1.1
     */
    CATALOG_UNWRITABLE,
    /**
     * An external snapshot would make a disk's backing chain longer than allowed (configuration key
     * {@code chain.max.length}, counting every image of the chain: the base, each overlay and the new one). Long chains
     * slow every read that misses the top layers. Nothing was changed: delete a snapshot (its overlay is merged) first.
     *
     * @since 1.2
     */
    CHAIN_TOO_LONG,
    /**
     * The file system that would receive an overlay has less free space than allowed (configuration keys
     * {@code free.space.min.bytes} and {@code free.space.min.percent}). After the snapshot the guest writes to the
     * overlay, and on a full file system those writes fail. Nothing was changed: free space, or name an overlay on
     * another file system. A revert to a snapshot with memory whose disks are external also refuses with this code when
     * xensnap's state directory cannot hold the copy of the save image it restores from (see
     * {@link DiskSnapshotProvider#revert}).
     *
     * @since 1.2
     */
    LOW_FREE_SPACE,
    /**
     * An image already holds as many internal snapshots as allowed (configuration key {@code internal.snapshots.max}).
     * Nothing was changed: delete one first.
     *
     * @since 1.2
     */
    TOO_MANY_SNAPSHOTS,
    /**
     * A snapshot with quiesce policy {@link QuiescePolicy#REQUIRE} could not freeze the guest's file systems: the
     * guest agent did not answer within the configured time (key {@code quiesce.timeout.ms}; is {@code qemu-ga}
     * running in the guest?) or refused to freeze. Nothing was changed, and the guest is not left frozen.
     *
     * @since 1.3
     */
    QUIESCE_FAILED,
    /** A defect or an unexpected condition inside xensnap. */
    INTERNAL
}
