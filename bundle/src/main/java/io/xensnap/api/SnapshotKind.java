package io.xensnap.api;

/** Where a disk snapshot lives. */
public enum SnapshotKind {
    /** Inside the qcow2 image itself (qcow2 only). */
    INTERNAL,
    /** The image is frozen and a new qcow2 overlay on top of it takes the writes. */
    EXTERNAL
}
