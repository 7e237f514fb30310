package io.xensnap.internal.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;

/**
 * Where xensnap may create files. An overlay path must be absolute and normalized, must not exist (QEMU's
 * absolute-paths mode would silently wipe it), its directory must exist, and that directory — with every symlink
 * resolved — must lie inside one of the configured roots. The path must fit every peer's length limits
 * ({@link OverlayPathLimits}) and must not use a name xensnap reserves for its own files ({@link OwnNames}). The
 * check is done before anything is changed.
 */
public final class OverlayPolicy {

    private final List<Path> roots;

    /** @param roots the directories overlays may be created in; an empty list allows none */
    public OverlayPolicy(List<Path> roots) {
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
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw invalid(overlay, "its directory cannot be resolved: " + e.getMessage());
        }
        for (Path root : roots) {
            Path realRoot;
            try {
                realRoot = root.toRealPath();
            } catch (IOException e) {
                continue;
            }
            if (real.startsWith(realRoot)) {
                return overlay;
            }
        }
        throw invalid(overlay, "its directory " + real + " is outside the allowed overlay roots " + roots
                + " (configuration key overlay.roots)");
    }

    private static SnapshotException invalid(Path overlay, String why) {
        // control characters are echoed as '?': the message reaches logs and terminals
        String shown = overlay.toString().replaceAll("\\p{Cntrl}", "?");
        return new SnapshotException(SnapshotError.INVALID_ARGUMENT, "overlay path " + shown + ": " + why);
    }
}
