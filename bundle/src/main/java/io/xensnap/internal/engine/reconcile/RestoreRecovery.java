package io.xensnap.internal.engine.reconcile;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.Images;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.reconcile.CreateRecovery.State;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.xl.DomainControlException;
import io.xensnap.internal.xl.SaveImageHeader;

/**
 * Settles a create marked {@link PendingOperation.Kind#CREATE_SAVED}: a snapshot with memory of a domain with a disk
 * blkback serves stopped before the domain was restored on the new images. The disks were changed, if at all, only
 * while the domain was destroyed, and the save image holds the domain as it was: so it is always taken back.
 *
 * <ul>
 *   <li>Domain running: it was never destroyed (perhaps paused: it runs again), or it was destroyed and restored as
 *       it was. Its disks must show nothing of the snapshot; then the leftovers go and the mark is cleared.</li>
 *   <li>Domain gone (xensnap destroyed it): the internal snapshots made so far are deleted while no QEMU holds the
 *       images, {@code xl restore} brings the domain back from the untouched save image, and the leftovers go.</li>
 * </ul>
 * Reads images with qemu-img only: a domain whose disks are all blkback's has no QEMU to ask.
 */
final class RestoreRecovery {

    private final Peers peers;
    private final ImageHeaders headers;
    private final Findings findings;
    private final CreateRecovery creates;

    RestoreRecovery(Peers peers, ImageHeaders headers, Findings findings) {
        this.peers = peers;
        this.headers = headers;
        this.findings = findings;
        this.creates = new CreateRecovery(peers, headers, findings);
    }

    /** @return whether the pending mark is settled (cleared) */
    boolean running(DomainCatalog catalog, PendingOperation p, int domid) throws QemuImgException {
        String subject = "snapshot " + p.snapshot();
        creates.unpause(domid, subject);
        Map<DiskSnapshot, State> states = states(p);
        if (states.values().stream().allMatch(s -> s == State.NOT_TAKEN)) {
            return creates.rollBack(catalog, p, Set.of(), "the domain runs on the images it had before the snapshot");
        }
        findings.reported(Code.CREATE_AMBIGUOUS, subject, "the domain runs, and the images show "
                + CreateRecovery.describe(states) + ": a snapshot made while the domain was destroyed is still there;"
                + " nothing was touched");
        return false;
    }

    /** @return whether the pending mark is settled (cleared) */
    boolean gone(DomainCatalog catalog, PendingOperation p) throws QemuImgException {
        String subject = "snapshot " + p.snapshot();
        Map<DiskSnapshot, State> states = states(p);
        if (states.containsValue(State.UNKNOWN)) {
            findings.reported(Code.CREATE_AMBIGUOUS, subject, "the domain had been saved for it and is gone, and the"
                    + " images show " + CreateRecovery.describe(states) + ": a file is missing or is not the overlay"
                    + " xensnap planned; nothing was touched, the domain's save image " + p.memory() + " stays");
            return false;
        }
        Optional<String> refusal = Optional.ofNullable(SaveImageHeader.refusal(p.memory()));
        if (refusal.isPresent() || peers.domains().isEmpty()) {
            findings.reported(Code.REPAIR_FAILED, subject, "the domain had been saved for it and is gone, and it"
                    + " cannot be restored: " + refusal.orElse("xl is not configured (xl.path)") + "; nothing was"
                    + " touched");
            return false;
        }
        for (DiskSnapshot d : p.disks()) {
            if (d.kind() == SnapshotKind.INTERNAL && states.get(d) == State.TAKEN) {
                // now, while no QEMU holds the image: once the domain runs again, qemu-img must not write to it
                peers.qemuImg().deleteSnapshot(Images.of(d.image(), DiskFormat.QCOW2), p.snapshot());
                headers.forget(d.image());
            }
        }
        try {
            peers.domains().get().restore(p.memory(), Optional.empty());
        } catch (DomainControlException e) {
            findings.reported(Code.REPAIR_FAILED, subject, "the domain had been saved for it and is gone; its disks"
                    + " are back as they were, but xl restore of " + p.memory() + " failed: " + e.getMessage()
                    + "; the save image and the pending mark stay");
            return false;
        }
        return creates.rollBack(catalog, p, Set.of(), "the domain had been saved and destroyed for it; its disks are"
                + " back as they were and xl restored it from " + p.memory() + " as it was");
    }

    private Map<DiskSnapshot, State> states(PendingOperation p) throws QemuImgException {
        Map<DiskSnapshot, State> states = new LinkedHashMap<>();
        for (DiskSnapshot d : p.disks()) {
            State s = creates.offlineState(d, p.snapshot());
            // an overlay qemu-img made and the guest never ran on changes nothing: rollBack removes it
            if (s == State.TAKEN && d.kind() == SnapshotKind.EXTERNAL
                    && Files.isRegularFile(d.overlay(), LinkOption.NOFOLLOW_LINKS) && !headers.holdsData(d.overlay())) {
                s = State.NOT_TAKEN;
            }
            states.put(d, s);
        }
        return states;
    }
}
