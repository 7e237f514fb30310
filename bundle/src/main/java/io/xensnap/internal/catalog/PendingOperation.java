package io.xensnap.internal.catalog;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.Names;
import io.xensnap.internal.engine.OwnNames;

/**
 * An operation marked in the catalog before it starts changing images, and cleared when it is done. Finding one at
 * start means the process stopped in the middle: reconcile must look.
 *
 * <p>A create records its whole plan (description and, per disk, the image and the overlay it is about to make), so
 * that reconcile can check each disk against QEMU and the image headers and finish or take back exactly that plan
 * instead of inferring it from what it finds. A delete records each disk just before its merge or internal delete
 * begins: a merge that began and was cancelled leaves the frozen image changed although the chain looks untouched.
 *
 * <p>A revert ({@link io.xensnap.internal.engine.revert.Revert}) is marked in three steps. {@link Kind#REVERT} before
 * the first image changes, written together with the disks as the revert found them (the catalog's {@code disks}),
 * listing the new top of every external disk; the same mark again once every internal disk holds its undo snapshot
 * ({@link #undoTag()}), now also listing those internal disks. Then {@link Kind#REVERT_CLEANUP}, written with the
 * result (current snapshot and disks), listing what is left to remove: the undo snapshots and the overlays set aside.
 * Reconcile takes a {@code REVERT} back and finishes a {@code REVERT_CLEANUP}.
 *
 * <p>A create with memory that restores the domain ({@link io.xensnap.internal.engine.create.RestoringCreate}) is
 * marked {@link Kind#CREATE_SAVED} with its whole plan, and the same mark as {@link Kind#CREATE} just before the domain
 * is restored on the new images.
 *
 * @param kind        what was being done
 * @param snapshot    the snapshot it was about
 * @param started     when it started (a finished create's creation time; a revert's undo snapshot tag)
 * @param description create only: the new snapshot's description
 * @param disks       create: what each disk gets, in the domain's disk order; delete: the disks whose merge or
 *                    internal delete has begun; revert: the external disks (image: the frozen image, overlay: the
 *                    disk's new top) and, once they all hold their undo snapshot, the internal disks; revert cleanup:
 *                    the internal disks whose undo snapshot and the external disks whose set-aside overlay
 *                    ({@link #setAside(Path)}) is to be removed
 * @param memory      create of a domain snapshot: the save image it makes; while this mark stands the domain may be
 *                    paused by xensnap, and reconcile lets it run again; {@code null} otherwise
 * @param agent       create only: the guest agent's socket when the create freezes the guest, so that reconcile
 *                    thaws a guest a dead xensnap left frozen; null otherwise
 */
public record PendingOperation(Kind kind, String snapshot, Instant started, String description,
                               List<DiskSnapshot> disks, Path memory, Path agent) {

    /** What was being done. */
    public enum Kind {
        CREATE,
        /**
         * A create with memory of a domain with a disk blkback serves, from the mark until {@code xl restore} of the
         * domain on the new images begins: the domain may be destroyed, and its disks may be changed while it is.
         * Reconcile takes it back and restores the domain from the save image. The mark then becomes {@link #CREATE}:
         * from there the domain may run on the new images, and the create is settled as any other.
         */
        CREATE_SAVED,
        /** A revert that has not committed: reconcile takes it back. */
        REVERT,
        DELETE,
        /** A revert the catalog records as done; only its temporary snapshots and set-aside overlays remain. */
        REVERT_CLEANUP
    }

    public PendingOperation {
        Objects.requireNonNull(kind, "kind");
        Names.snapshot(snapshot);
        Objects.requireNonNull(started, "started");
        description = description == null ? "" : description;
        disks = List.copyOf(Objects.requireNonNull(disks, "disks"));
        if (kind == Kind.CREATE_SAVED && memory == null) {
            throw new IllegalArgumentException("a create that restores the domain names its save image");
        }
        if (agent != null && !agent.isAbsolute()) {
            throw new IllegalArgumentException("agent socket is not absolute: " + agent);
        }
    }

    /** @return this mark as another kind, every field as it is */
    public PendingOperation as(Kind other) {
        return new PendingOperation(other, snapshot, started, description, disks, memory, agent);
    }

    /** An operation that saves no memory and freezes no guest. */
    public PendingOperation(Kind kind, String snapshot, Instant started, String description,
                            List<DiskSnapshot> disks) {
        this(kind, snapshot, started, description, disks, null, null);
    }

    /** An operation whose plan is the catalog's own entry and that has not begun on any disk (delete, revert). */
    public PendingOperation(Kind kind, String snapshot, Instant started) {
        this(kind, snapshot, started, "", List.of());
    }

    /**
     * @return the tag of the temporary internal snapshot a revert takes of each internal disk before applying the
     *         snapshot: derived from the start time, so that the mark names it without a field of its own
     */
    public String undoTag() {
        return "xensnap-undo-" + started.toEpochMilli();
    }

    /**
     * @return the files this operation makes or may leave: a create's overlays; a revert's new tops and the places
     *         their predecessors are set aside at
     */
    public List<Path> files() {
        List<Path> out = new java.util.ArrayList<>();
        for (DiskSnapshot d : disks) {
            if (d.overlay() == null || kind == Kind.DELETE) {
                continue;
            }
            out.add(d.overlay());
            if (kind == Kind.REVERT || kind == Kind.REVERT_CLEANUP) {
                out.add(setAside(d.overlay()));
            }
        }
        // not the save image of a create with memory: it is no disk image, the orphan scan of overlays has nothing
        // to do with it, and reconcile settles it from this mark (removed with a rolled-back create, kept by a
        // finished one)
        return out;
    }

    /**
     * @return the QEMU job id of a delete's merge of disk {@code vdev}: the prefix says xensnap started it, the start
     *         time ties it to exactly this pending mark (and so to its snapshot), so that reconcile can take over a
     *         job it finds in QEMU after a crash and never touches one it did not start
     */
    public String mergeJob(String vdev) {
        return "xensnap-merge-" + started.toEpochMilli() + "-" + vdev;
    }

    /** @return where a revert moves a disk's current overlay while the new one takes its path */
    public static Path setAside(Path top) {
        return OwnNames.setAside(top);
    }
}
