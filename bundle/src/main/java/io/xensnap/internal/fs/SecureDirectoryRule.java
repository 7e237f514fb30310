package io.xensnap.internal.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether only a trusted user can change what a directory path leads to, the rule of OpenSSH's StrictModes and sudo's
 * secure path: the directory and every directory above it are owned by the trusted user and writable by no one else.
 * A directory writable by others is accepted only when it has the sticky bit and the next component belongs to the
 * trusted user (as {@code /tmp/<dir>}): the sticky bit keeps others from renaming or removing that component. The
 * directory is resolved once, here; callers that use it later must open that resolved path without following links
 * ({@link HeldDirectory}) and compare its identity.
 *
 * @param trustedUid the user that may own the directories, normally root (0)
 */
public record SecureDirectoryRule(int trustedUid) {

    private static final int S_IFMT = 0170000;
    private static final int S_IFDIR = 0040000;
    private static final int S_ISVTX = 01000;
    private static final int GROUP_OR_OTHER_WRITE = 0022;

    /** The checked directory: its path with every link resolved, and its identity then. */
    public record Checked(Path real, FileIdentity identity) {
    }

    /** The result: the checked directory, or why it is refused. */
    public sealed interface Outcome permits Trusted, Refused {
    }

    public record Trusted(Checked directory) implements Outcome {
    }

    public record Refused(String reason) implements Outcome {
    }

    /**
     * @param dir an absolute path to an existing directory
     * @return the directory with every link resolved, or why someone other than the trusted user could change it
     */
    public Outcome check(Path dir) {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            return new Refused("cannot be resolved: " + e.getMessage());
        }
        return checkResolved(real);
    }

    /**
     * As {@link #check}, for a path the caller resolved itself (and checked against its own rules, such as the overlay
     * roots): it is not resolved again, so that what the caller checked and what is returned are the same directory.
     * Each component is looked at without following links: one that became a link since the caller resolved the
     * path is refused, and the identity returned is the one read in this walk.
     *
     * @param real an absolute path without links, {@code .} or {@code ..}
     */
    public Outcome checkResolved(Path real) {
        if (!real.isAbsolute() || !real.normalize().equals(real)) {
            throw new IllegalArgumentException("not an absolute, normalized path: " + real);
        }
        List<Path> chain = new ArrayList<>();
        for (Path p = real; p != null; p = p.getParent()) {
            chain.add(0, p);
        }
        try {
            Map<String, Object> attrs = attributes(chain.get(0));
            for (int i = 0; i < chain.size(); i++) {
                Path p = chain.get(i);
                int mode = (Integer) attrs.get("mode");
                int uid = (Integer) attrs.get("uid");
                Map<String, Object> next = i + 1 < chain.size() ? attributes(chain.get(i + 1)) : null;
                if ((mode & S_IFMT) != S_IFDIR) {
                    return new Refused("directory " + p + " is not a directory (any more: a link or another file"
                            + " took its place)");
                }
                if (uid != trustedUid) {
                    return new Refused("directory " + p + " is owned by uid " + uid + ", not uid " + trustedUid
                            + ": its owner could replace what lies below it");
                }
                if ((mode & GROUP_OR_OTHER_WRITE) != 0) {
                    boolean stickyAboveTrusted = (mode & S_ISVTX) != 0 && next != null
                            && (Integer) next.get("uid") == trustedUid;
                    if (!stickyAboveTrusted) {
                        return new Refused("directory " + p + " is writable by " + writers(mode) + " (mode "
                                + String.format("%04o", mode & 07777) + "): they could replace "
                                + (next == null ? "files in it" : "what lies below it"));
                    }
                }
                if (next == null) {
                    return new Trusted(new Checked(real, new FileIdentity(((Number) attrs.get("dev")).longValue(),
                            ((Number) attrs.get("ino")).longValue())));
                }
                attrs = next;
            }
            throw new IllegalStateException("unreachable: the walk ends at " + real);
        } catch (IOException e) {
            return new Refused("cannot be checked: " + e.getMessage());
        }
    }

    private static Map<String, Object> attributes(Path p) throws IOException {
        return Files.readAttributes(p, "unix:mode,uid,dev,ino", LinkOption.NOFOLLOW_LINKS);
    }

    private static String writers(int mode) {
        boolean group = (mode & 0020) != 0;
        boolean other = (mode & 0002) != 0;
        return group && other ? "group and others" : group ? "its group" : "others";
    }
}
