package io.xensnap.internal.engine;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.Names;

/**
 * An operation marked in the catalog before it starts changing images, and cleared when it is done. Finding one at
 * start means the process stopped in the middle: reconcile must look.
 *
 * <p>A create records its whole plan (description and, per disk, the image and the overlay it is about to make), so
 * that reconcile can check each disk against QEMU and the image headers and finish or take back exactly that plan
 * instead of inferring it from what it finds. A delete records each disk just before its merge or internal delete
 * begins: a merge that began and was cancelled leaves the frozen image changed although the chain looks untouched.
 *
 * @param kind        what was being done
 * @param snapshot    the snapshot it was about
 * @param started     when it started (a finished create's creation time)
 * @param description create only: the new snapshot's description
 * @param disks       create: what each disk gets, in the domain's disk order; delete: the disks whose merge or
 *                    internal delete has begun; revert: empty
 */
public record PendingOperation(Kind kind, String snapshot, Instant started, String description,
                               List<DiskSnapshot> disks) {

    public enum Kind { CREATE, REVERT, DELETE }

    public PendingOperation {
        Objects.requireNonNull(kind, "kind");
        Names.snapshot(snapshot);
        Objects.requireNonNull(started, "started");
        description = description == null ? "" : description;
        disks = List.copyOf(Objects.requireNonNull(disks, "disks"));
    }

    /** An operation whose plan is the catalog's own entry and that has not begun on any disk (delete, revert). */
    public PendingOperation(Kind kind, String snapshot, Instant started) {
        this(kind, snapshot, started, "", List.of());
    }
}
