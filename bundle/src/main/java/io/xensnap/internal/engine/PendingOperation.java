package io.xensnap.internal.engine;

import java.time.Instant;
import java.util.Objects;

import io.xensnap.api.Names;

/**
 * An operation marked in the catalog before it starts changing images, and cleared when it is done. Finding one at
 * start means the process stopped in the middle: reconcile must look.
 *
 * @param kind     what was being done
 * @param snapshot the snapshot it was about
 * @param started  when it started
 */
public record PendingOperation(Kind kind, String snapshot, Instant started) {

    public enum Kind { CREATE, REVERT, DELETE }

    public PendingOperation {
        Objects.requireNonNull(kind, "kind");
        Names.snapshot(snapshot);
        Objects.requireNonNull(started, "started");
    }
}
