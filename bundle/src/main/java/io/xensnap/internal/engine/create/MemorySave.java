package io.xensnap.internal.engine.create;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.UndoLog;
import io.xensnap.internal.xl.DomainControl;
import io.xensnap.internal.xl.DomainControlException;
import io.xensnap.internal.xl.DomainState;

/**
 * The memory half of a domain snapshot: {@code xl save -p} into a file of xensnap's own, the domain left paused at the
 * saved instant so that its disks can be snapshotted at that same instant, and the unpause afterwards.
 *
 * <p>The image holds the guest's whole memory (keys, passwords): it is made by xensnap with mode 0600 before xl
 * writes it, in a directory of mode 0700, and xl's {@code O_TRUNC} open keeps that mode.
 */
final class MemorySave {

    private static final Logger LOG = LoggerFactory.getLogger(MemorySave.class);

    private final DomainControl xl;
    private final String label;
    private final int domid;
    private final Path image;
    private boolean paused;
    private boolean destroyed;
    private long saveStarted;

    MemorySave(DomainControl xl, String label, int domid, Path image) {
        this.xl = xl;
        this.label = label;
        this.domid = domid;
        this.image = image;
    }

    /**
     * Makes the image file and saves the domain into it, leaving the domain paused. Each step's undo is in
     * {@code undo}: the domain runs again, the file goes.
     */
    void save(UndoLog undo) throws IOException, DomainControlException, SnapshotException {
        DomainState state = xl.state(domid);
        if (state.ending()) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, label + " is shutting down or crashed ("
                    + state.flags() + "); its memory cannot be saved");
        }
        // a domain its operator paused stays paused: only xensnap's own pause is xensnap's to end
        boolean pausedBefore = state.paused();
        Path dir = image.getParent();
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, label + ": " + dir + " is not a directory");
        }
        try {
            Files.createFile(image, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            throw new SnapshotException(SnapshotError.SNAPSHOT_EXISTS, label + ": save image " + image
                    + " exists already", e);
        }
        undo.done("save image " + image, () -> Files.deleteIfExists(image));
        // xl resumes the domain itself when its save fails; the undo asks the toolstack rather than assume
        if (!pausedBefore) {
            undo.done("domain " + domid + " paused by xl save -p", this::resumeIfPaused);
            paused = true;
        }
        saveStarted = System.nanoTime();
        xl.save(domid, image, true);
        LOG.info("{}: memory saved to {} ({} bytes), domain paused", label, image, Files.size(image));
    }

    /**
     * After the disks' snapshots: lets the domain run again. A failure is not thrown: the snapshot is complete, and
     * the caller reports the still paused domain (and keeps the pending mark, so that reconcile unpauses it).
     *
     * @return why the domain could not be unpaused, if it could not
     */
    Optional<String> resume() {
        if (!paused) {
            return Optional.empty();
        }
        try {
            xl.unpause(domid);
            paused = false;
            // from the start of xl's save (the guest suspends early in it) until the domain runs again
            LOG.info("{}: domain {} runs again, {} ms after xl save -p began", label, domid,
                    (System.nanoTime() - saveStarted) / 1_000_000);
            return Optional.empty();
        } catch (DomainControlException e) {
            return Optional.of("domain " + domid + " stays paused: " + e.getMessage());
        }
    }

    /** @return whether {@link #save} paused the domain and nothing unpaused it since */
    boolean paused() {
        return paused;
    }

    /**
     * The saved domain was destroyed ({@link RestoringCreate}): its domid names nothing any more, and the undo of its
     * pause is the restore of the image, which the caller records itself.
     */
    void destroyed() {
        destroyed = true;
        paused = false;
    }

    private void resumeIfPaused() throws DomainControlException {
        if (destroyed) {
            return;
        }
        if (xl.state(domid).paused()) {
            xl.unpause(domid);
        }
        paused = false;
    }
}
