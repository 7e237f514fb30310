package io.xensnap.internal.qmp;

/** Deletes internal snapshots of a running QEMU's root layers (creating them is a {@link SnapshotTransaction}). */
public final class InternalSnapshots {

    private final QmpConnection qmp;

    public InternalSnapshots(QmpConnection qmp) {
        this.qmp = qmp;
    }

    /**
     * {@code blockdev-snapshot-delete-internal-sync} by name.
     *
     * @param device a BlockBackend name or root node-name ({@link BlockDevice#target()})
     * @return the deleted snapshot as QEMU describes it
     */
    public InternalSnapshotInfo delete(String device, String name) throws QmpException {
        return InternalSnapshotInfo.fromJson(qmp.execute("blockdev-snapshot-delete-internal-sync",
                qmp.arguments().put("device", device).put("name", name)));
    }
}
