package io.xensnap.internal.engine;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.create.OverlayPolicy;
import io.xensnap.internal.fs.DirectoryCalls;
import io.xensnap.internal.fs.DirectoryChangedException;
import io.xensnap.internal.fs.FileIdentity;
import io.xensnap.internal.fs.HeldDirectory;
import io.xensnap.internal.fs.SecureDirectoryRule;
import io.xensnap.internal.qemuimg.ImageFile;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.qemuimg.QemuImgException;

/**
 * Makes and removes overlay files through their directory opened once ({@link HeldDirectory}), never by resolving
 * the path again: a directory inside the roots swapped for a link after validation makes the operation fail instead
 * of creating or removing a file where the link leads.
 */
public final class OverlayFiles {

    private final DirectoryCalls calls;
    private final QemuImg qemuImg;
    private final OverlayPolicy policy;

    OverlayFiles(DirectoryCalls calls, QemuImg qemuImg, OverlayPolicy policy) {
        this.calls = Objects.requireNonNull(calls, "calls");
        this.qemuImg = Objects.requireNonNull(qemuImg, "qemuImg");
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    /** An overlay file created in its held directory; closing lets the directory go, the file stays. */
    public static final class Made implements AutoCloseable {
        private final HeldDirectory dir;
        private final OverlayPlace place;
        private final FileIdentity identity;

        private Made(HeldDirectory dir, OverlayPlace place, FileIdentity identity) {
            this.dir = dir;
            this.place = place;
            this.identity = identity;
        }

        public Path overlay() {
            return place.overlay();
        }

        /** @throws DirectoryChangedException when the name no longer leads to the file made here */
        void requireUnchanged() throws IOException {
            Optional<FileIdentity> now = dir.identity(place.fileName());
            if (!now.equals(Optional.of(identity))) {
                throw new DirectoryChangedException("overlay " + place.overlay() + " was removed or replaced after"
                        + " xensnap created it");
            }
        }

        /** Removes the file made here, through the held directory. */
        public void remove() throws IOException {
            dir.unlink(place.fileName());
        }

        @Override
        public void close() {
            dir.close();
        }
    }

    /**
     * Opens the overlay's directory as validation saw it and creates the overlay there, empty and exclusively.
     *
     * @throws DirectoryChangedException when the directory is no longer the one checked
     * @throws FileAlreadyExistsException when the name was taken since the check
     */
    public Made make(OverlayPlace place) throws IOException {
        HeldDirectory dir = HeldDirectory.open(calls, place.directory().real(),
                Optional.of(place.directory().identity()));
        try {
            return new Made(dir, place, dir.createExclusive(place.fileName()));
        } catch (IOException | RuntimeException e) {
            dir.close();
            throw e;
        }
    }

    /**
     * As {@link #make}, for a file whose directory was not checked in this request (a revert's new overlay beside an
     * existing image): the directory is checked now, as for a removal.
     */
    public Made makeIn(Path file) throws IOException {
        SecureDirectoryRule.Checked dir;
        try {
            dir = policy.directoryOf(file);
        } catch (SnapshotException e) {
            throw new DirectoryChangedException(file + " not created: " + e.getMessage());
        }
        return make(new OverlayPlace(file, dir));
    }

    /**
     * Formats a file {@link #make} created as a qcow2 overlay of {@code backing}, qemu-img reaching it through the held
     * directory.
     *
     * @param virtualSize the backing's virtual size, or {@code -1} to let qemu-img read it from the backing
     */
    public void format(Made made, ImageFile backing, long virtualSize) throws QemuImgException, IOException {
        qemuImg.formatOverlay(made.dir.via(made.place.fileName()), backing, virtualSize);
        made.requireUnchanged();
    }

    /** @return the error for an overlay that could not be made: nothing was changed */
    public static SnapshotException refused(String what, IOException e) {
        SnapshotError code = e instanceof FileAlreadyExistsException ? SnapshotError.SNAPSHOT_EXISTS
                : e instanceof DirectoryChangedException ? SnapshotError.INVALID_STATE : SnapshotError.INTERNAL;
        return new SnapshotException(code, what + " refused, nothing changed: "
                + (e instanceof FileAlreadyExistsException ? "overlay " + e.getMessage()
                        + " appeared after the request was checked; xensnap never overwrites a file" : e.getMessage()), e);
    }

    /**
     * Removes a file xensnap made (an overlay, a set-aside file) through its directory, checked again now: inside the
     * roots, secure, and opened without following links.
     *
     * @return whether the file was there
     * @throws DirectoryChangedException when the directory is no longer inside the roots or secure, or changed while
     *                                   it was opened: nothing is removed
     */
    public boolean remove(Path file) throws IOException {
        Path parent = file.getParent();
        if (parent != null && !Files.exists(parent, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        SecureDirectoryRule.Checked dir;
        try {
            dir = policy.directoryOf(file);
        } catch (SnapshotException e) {
            throw new DirectoryChangedException(file + " not removed: " + e.getMessage());
        }
        try (HeldDirectory held = HeldDirectory.open(calls, dir.real(), Optional.of(dir.identity()))) {
            return held.unlink(file.getFileName().toString());
        }
    }
}
