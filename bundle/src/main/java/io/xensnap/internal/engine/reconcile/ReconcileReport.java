package io.xensnap.internal.engine.reconcile;

import java.util.List;
import java.util.Objects;

import io.xensnap.api.Names;

/**
 * What reconcile found for one domain and what it did about it. A finding is either repaired (reconcile could prove
 * what the state must be and made it so) or reported (it could not, and changed nothing for it).
 *
 * @param domainUuid the domain
 * @param findings   every discrepancy, in the order found; empty when all views agree
 */
public record ReconcileReport(String domainUuid, List<Finding> findings) {

    /** Stable codes of findings. The names appear in the console and over JMX and never change meaning. */
    public enum Code {
        /** Repaired: QEMU had taken a pending snapshot; libxl's config, xenstore and the catalog now say so. */
        CREATE_FINISHED,
        /**
         * Repaired: a pending snapshot was never taken; its leftovers are removed and the mark cleared (a domain that
         * a snapshot of a blkback disk had destroyed is restored from its save image first).
         */
        CREATE_ROLLED_BACK,
        /**
         * Repaired: a pending snapshot with memory had left the domain paused (xensnap stopped between its save and
         * its unpause); the domain runs again.
         */
        DOMAIN_UNPAUSED,
        /** Reported: a pending snapshot with memory may have left the domain paused, and xl could not tell or help. */
        DOMAIN_PAUSE_UNKNOWN,
        /** Reported: the disks of a pending snapshot do not all tell the same story; nothing was touched. */
        CREATE_AMBIGUOUS,
        /**
         * Repaired: a create that xensnap did not finish had frozen the guest's file systems through its agent, and
         * they were still frozen; they were thawed. (An agent that does not answer is reported as PEER_UNREACHABLE.)
         */
        GUEST_THAWED,
        /** Repaired: a pending delete had begun; the remaining disks were merged and the catalog updated. */
        DELETE_FINISHED,
        /** Repaired: a pending delete had not changed any disk; the snapshot stays and the mark is cleared. */
        DELETE_ROLLED_BACK,
        /** Reported: a pending delete cannot be finished or taken back from what the chains show. */
        DELETE_AMBIGUOUS,
        /**
         * Repaired: a revert that had not committed was taken back: every disk is at its state before the revert (its
         * undo snapshot applied, or its new overlay removed and the old one put back) and the mark cleared.
         */
        REVERT_ROLLED_BACK,
        /** Repaired: a committed revert's undo snapshots and set-aside overlays were removed and the mark cleared. */
        REVERT_FINISHED,
        /**
         * Reported: an interrupted revert cannot be taken back from what the disks show (the domain runs again, an
         * undo snapshot is missing, a disk was written since, an image is gone); nothing was touched.
         */
        REVERT_AMBIGUOUS,
        /** Repaired: an empty overlay made by xensnap that nothing references was removed. */
        ORPHAN_REMOVED,
        /** Reported: an overlay made by xensnap that nothing references still holds data; it was left in place. */
        ORPHAN_KEPT,
        /**
         * Reported: beside the domain's images, an overlay of one of them that is named as xensnap names its files
         * but that no catalog records xensnap making, and that nothing references; never removed.
         */
        UNKNOWN_FILE,
        /**
         * Reported: an image of the domain holds an internal snapshot no catalog lists (made by hand, a lost catalog,
         * or a revert's temporary undo snapshot left behind); never removed.
         */
        UNKNOWN_SNAPSHOT,
        /** Reported: a disk's chain has a layer above the images the catalog knows that no catalog records. */
        UNKNOWN_OVERLAY,
        /**
         * Reported: the domain has no catalog file, yet its images hold snapshots or overlays that none records; if
         * xensnap made them, the catalog was lost and must be put back from a copy.
         */
        CATALOG_MISSING,
        /** Repaired: a catalog write that never reached its rename left its temporary file; it was removed. */
        CATALOG_TEMP_REMOVED,
        /** Reported: QEMU, xenstore, libxl's config and the catalog do not name the same image for a disk. */
        VIEWS_DISAGREE,
        /**
         * Repaired: QEMU ran a disk on the image the catalog names, with the chain the image headers describe, but
         * xenstore or libxl's config named another; they were written to name QEMU's image.
         */
        VIEWS_ALIGNED,
        /** Reported: the image headers' backing chain differs from the chain QEMU runs, or cannot be read. */
        HEADER_MISMATCH,
        /** Reported: an image no longer holds an internal snapshot the catalog lists. */
        SNAPSHOT_MISSING,
        /** Reported: an image or overlay the catalog lists does not exist. */
        IMAGE_MISSING,
        /** Reported: the catalog file cannot be read; it is left as it is, never replaced. */
        CATALOG_CORRUPT,
        /** Reported: a peer (QMP, xenstored, libxl's lock) could not be reached; what needs it was not checked. */
        PEER_UNREACHABLE,
        /** Reported: another operation held the domain for longer than the wait; it was not checked. */
        DOMAIN_BUSY,
        /** Reported: a repair was started and failed; its error is in the detail and the pending mark stays. */
        REPAIR_FAILED
    }

    /**
     * @param code     what was found
     * @param repaired whether reconcile repaired it
     * @param subject  what it is about: a disk ({@code xvdb}), a file, a snapshot or a peer
     * @param detail   for a person: what was seen and, when repaired, what was done
     */
    public record Finding(Code code, boolean repaired, String subject, String detail) {
        public Finding {
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(detail, "detail");
        }

        /** @return {@code [CODE] subject: detail}, with {@code (repaired)} appended when it was */
        public String line() {
            return "[" + code + "] " + subject + ": " + detail + (repaired ? " (repaired)" : "");
        }
    }

    public ReconcileReport {
        Names.uuid(domainUuid);
        findings = List.copyOf(findings);
    }

    /** @return whether every view agreed and nothing had to be done */
    public boolean clean() {
        return findings.isEmpty();
    }

    /** @return the findings reconcile did not repair: they need a person */
    public List<Finding> unresolved() {
        return findings.stream().filter(f -> !f.repaired()).toList();
    }

    /** @return one {@link Finding#line()} per finding, for the console and JMX */
    public List<String> lines() {
        return findings.stream().map(Finding::line).toList();
    }
}
