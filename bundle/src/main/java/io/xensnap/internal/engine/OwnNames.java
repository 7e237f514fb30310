package io.xensnap.internal.engine;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The names xensnap gives its own files, and the rule that keeps user paths off them: a user's overlay named like a
 * set-aside file would later be taken for one (a revert refuses for good, advising to delete a live backing image),
 * and a set-aside name already taken would make the revert of the overlay impossible.
 */
public final class OwnNames {

    /** Where a revert keeps a disk's current overlay while the new one takes its path: {@code <overlay>.xensnap-old}. */
    public static final String SET_ASIDE_SUFFIX = ".xensnap-old";

    private OwnNames() {
    }

    /** @return where a revert moves {@code top} while the new overlay takes its path */
    public static Path setAside(Path top) {
        return top.resolveSibling(top.getFileName() + SET_ASIDE_SUFFIX);
    }

    /** @return why a user may not name an overlay {@code overlay}, or empty */
    public static Optional<String> refusal(Path overlay) {
        Path file = overlay.getFileName();
        if (file == null) {
            return Optional.empty();
        }
        if (file.toString().endsWith(SET_ASIDE_SUFFIX)) {
            return Optional.of("ends in " + SET_ASIDE_SUFFIX + ", which xensnap reserves for the overlays a revert"
                    + " sets aside");
        }
        if (Files.exists(setAside(overlay), LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of(setAside(overlay).getFileName() + " exists beside it, the name a revert would set it"
                    + " aside under");
        }
        return Optional.empty();
    }
}
