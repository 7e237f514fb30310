package io.xensnap.internal.events;

import java.util.List;

import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;

/**
 * Where finished operations are announced. Its own interface, not EventAdmin itself, so that the snapshot service's
 * class never names an EventAdmin type: the bundle then works even where no EventAdmin package can be wired.
 */
public interface SnapshotEvents {

    /** The operations that change snapshots. */
    enum Operation {
        CREATE("CREATED"), REVERT("REVERTED"), DELETE("DELETED");

        private final String outcome;

        Operation(String outcome) {
            this.outcome = outcome;
        }

        /** @return the past tense used in event topics: {@code CREATED}, {@code REVERTED}, {@code DELETED} */
        public String outcome() {
            return outcome;
        }
    }

    /** {@code operation} on {@code snapshot} of {@code domain} succeeded. */
    void succeeded(Operation operation, DomainRef domain, SnapshotInfo snapshot);

    /**
     * {@code operation} failed.
     *
     * @param snapshot the snapshot's name as the caller gave it
     * @param disks    the disks the caller named; empty when it named none or the operation takes all
     */
    void failed(Operation operation, DomainRef domain, String snapshot, List<String> disks, SnapshotException error);

    /**
     * A run of schedule {@code schedule} ended; each create and delete it made was announced on its own as well.
     *
     * @param created  the snapshots it took, {@code <domain uuid>/<snapshot>}
     * @param deleted  the snapshots its retention deleted, the same way
     * @param failures one line per domain or snapshot that failed; empty when all went well
     */
    void scheduleRan(String schedule, List<String> created, List<String> deleted, List<String> failures);
}
