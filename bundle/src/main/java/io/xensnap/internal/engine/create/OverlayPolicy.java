package io.xensnap.internal.engine.create;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.OverlayPlace;
import io.xensnap.internal.engine.OwnNames;
import io.xensnap.internal.fs.SecureDirectoryRule;

/**
 * Where xensnap may create files. An overlay path must be absolute and normalized, must not exist, its directory must
 * exist, and that directory — with every symlink resolved — must lie inside one of the configured roots and be secure
 * ({@link SecureDirectoryRule}: it and every directory above it owned by root and writable by no one else), so that
 * no one but root can swap a component of the path between the check and the use. The path must fit every peer's length limits
 * ({@link OverlayPathLimits}) and must not use a name xensnap reserves for its own files ({@link OwnNames}). The
 * check is done before anything is changed.
 */
public final class OverlayPolicy {

    private final List<Path> roots;
    private final SecureDirectoryRule rule;

    /** @param roots the directories overlays may be created in; an empty list allows none */
    public OverlayPolicy(List<Path> roots) {
        this(roots, new SecureDirectoryRule(0));
    }

    /**
     * @param roots the directories overlays may be created in; an empty list allows none
     * @param rule  who may own the directories on the way to an overlay
     */
    public OverlayPolicy(List<Path> roots, SecureDirectoryRule rule) {
        this.rule = rule;
        this.roots = roots.stream().map(Path::normalize).toList();
        for (Path r : this.roots) {
            if (!r.isAbsolute()) {
                throw new IllegalArgumentException("overlay root '" + r + "' is not absolute");
            }
        }
    }

    public List<Path> roots() {
        return roots;
    }

    /**
     * @return {@code overlay}, checked
     * @throws SnapshotException {@code SNAPSHOT_EXISTS} when the file exists, {@code INVALID_ARGUMENT} otherwise
     */
    public Path check(Path overlay) throws SnapshotException {
        return place(overlay).overlay();
    }

    /**
     * As {@link #check(Path)}, keeping the directory as it was checked: create opens that directory again by its
     * resolved path without following links and compares its identity, so nothing swapped in between is used.
     */
    OverlayPlace place(Path overlay) throws SnapshotException {
        if (!overlay.isAbsolute() || !overlay.normalize().equals(overlay)) {
            throw invalid(overlay, "must be absolute and normalized");
        }
        String text = overlay.toString();
        if (text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw invalid(overlay, "contains a control character");
        }
        // The path ends up in xl disk specs and QEMU option strings, where a comma starts the next option.
        if (text.indexOf(',') >= 0) {
            throw invalid(overlay, "contains a comma, which xl's disk syntax and QEMU's option strings split on");
        }
        Optional<String> tooLong = OverlayPathLimits.refusal(overlay);
        if (tooLong.isPresent()) {
            throw invalid(overlay, tooLong.get());
        }
        Optional<String> reserved = OwnNames.refusal(overlay);
        if (reserved.isPresent()) {
            throw invalid(overlay, reserved.get());
        }
        if (Files.exists(overlay, LinkOption.NOFOLLOW_LINKS)) {
            throw new SnapshotException(SnapshotError.SNAPSHOT_EXISTS,
                    "overlay " + overlay + " exists already; xensnap never overwrites a file");
        }
        Path dir = overlay.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw invalid(overlay, "its directory " + dir + " does not exist");
        }
        return new OverlayPlace(overlay, directory(dir, why -> invalid(overlay, why)));
    }

    /**
     * The directory of an overlay xensnap made, checked again before a file is removed from it: it must still lie
     * inside the roots and be secure, or a directory swapped for a link since would send the removal elsewhere.
     *
     * @return the directory, resolved, with its identity now
     */
    public SecureDirectoryRule.Checked directoryOf(Path file) throws SnapshotException {
        Path dir = file.getParent();
        if (dir == null) {
            throw invalid(file, "has no directory");
        }
        return directory(dir, why -> invalid(file, why));
    }

    private SecureDirectoryRule.Checked directory(Path dir, Function<String, SnapshotException> refuse)
            throws SnapshotException {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw refuse.apply("its directory cannot be resolved: " + e.getMessage());
        }
        if (!insideRoots(real)) {
            throw refuse.apply("its directory " + real + " is outside the allowed overlay roots " + roots
                    + " (configuration key overlay.roots)");
        }
        // only root may be able to change where the path leads, or a directory swapped for a link between the check
        // and the use could send the overlay, or a later removal, outside the roots
        // the path resolved above, not resolved again: the roots were checked on it, and a second resolution could
        // see a directory swapped for a link in between and hand out a directory outside the roots
        SecureDirectoryRule.Outcome outcome = rule.checkResolved(real);
        if (outcome instanceof SecureDirectoryRule.Refused r) {
            throw refuse.apply(r.reason());
        }
        return ((SecureDirectoryRule.Trusted) outcome).directory();
    }

    private boolean insideRoots(Path real) {
        for (Path root : roots) {
            try {
                if (real.startsWith(root.toRealPath())) {
                    return true;
                }
            } catch (IOException e) {
                // a root that does not exist holds nothing
            }
        }
        return false;
    }

    private static SnapshotException invalid(Path overlay, String why) {
        // control characters are echoed as '?': the message reaches logs and terminals
        String shown = overlay.toString().replaceAll("\\p{Cntrl}", "?");
        return new SnapshotException(SnapshotError.INVALID_ARGUMENT, "overlay path " + shown + ": " + why);
    }
}
