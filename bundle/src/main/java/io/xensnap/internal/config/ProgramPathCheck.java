package io.xensnap.internal.config;

import java.io.IOException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Whether a program xensnap runs as root (qemu-img) is safe to run: only root can have put it there and only root can
 * change it. The rule is sudo's for its secure path: the file is a regular, executable file owned by root and not
 * writable by group or others, and so is every directory above it.
 *
 * <ul>
 *   <li>A directory writable by group or others is accepted only above the file's own directory and only with the
 *       sticky bit (as {@code /tmp}), and then the entry below it on the path must be root's: others may add entries
 *       to a sticky directory, but not rename or remove root's. The file's own directory never: its other entries
 *       would be others' to replace.</li>
 *   <li>Symlinks: the path as configured is checked with each directory followed (a link such as {@code /bin} is
 *       judged by what it points to, the link itself by the directory that holds it); then the real path, every link
 *       resolved, is checked the same way. Both must pass, so neither the link's nor the target's directories can be
 *       another user's.</li>
 * </ul>
 *
 * Reads file attributes only; it never opens or runs the program.
 */
final class ProgramPathCheck {

    private static final int GROUP_OR_OTHER_WRITE = 0022;
    private static final int ANY_EXECUTE = 0111;
    private static final int STICKY = 01000;

    /**
     * @param program an absolute path without {@code .} or {@code ..} parts
     * @return why the program is refused, or empty if it is safe to run
     */
    Optional<String> refusal(Path program) {
        try {
            String why = walk(program);
            if (why != null) {
                return Optional.of(why);
            }
            Path real = program.toRealPath();
            if (!real.equals(program)) {
                why = walk(real);
                if (why != null) {
                    return Optional.of("its real path " + real + ": " + why);
                }
            }
            return Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.of(e.getFile() + " does not exist");
        } catch (IOException e) {
            return Optional.of("cannot be checked: " + e);
        }
    }

    private static String walk(Path program) throws IOException {
        Path dir = program.getRoot();
        int names = program.getNameCount();
        for (int i = 0; i < names; i++) {
            Path next = dir.resolve(program.getName(i));
            Unix d = Unix.of(dir, true);
            if (!d.directory) {
                return dir + " is not a directory";
            }
            if (d.uid != 0) {
                return dir + " is owned by uid " + d.uid + ", not root";
            }
            if ((d.mode & GROUP_OR_OTHER_WRITE) != 0) {
                boolean ownDirectory = i == names - 1;
                if (ownDirectory || (d.mode & STICKY) == 0) {
                    return dir + " is writable by group or others (mode " + octal(d.mode) + ")";
                }
                Unix entry = Unix.of(next, false);
                if (entry.uid != 0) {
                    return next + " is owned by uid " + entry.uid + ", not root, in the sticky directory " + dir;
                }
            }
            dir = next;
        }
        Unix f = Unix.of(program, true);
        if (!f.regular) {
            return program + " is not a regular file";
        }
        if (f.uid != 0) {
            return program + " is owned by uid " + f.uid + ", not root";
        }
        if ((f.mode & GROUP_OR_OTHER_WRITE) != 0) {
            return program + " is writable by group or others (mode " + octal(f.mode) + ")";
        }
        if ((f.mode & ANY_EXECUTE) == 0) {
            return program + " is not executable (mode " + octal(f.mode) + ")";
        }
        return null;
    }

    private static String octal(int mode) {
        return String.format("%04o", mode);
    }

    /** The attributes of one file as stat(2) or lstat(2) gives them. */
    private record Unix(int uid, int mode, boolean directory, boolean regular) {

        static Unix of(Path p, boolean follow) throws IOException {
            LinkOption[] options = follow ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
            Map<String, Object> a = java.nio.file.Files.readAttributes(p, "unix:uid,mode,isDirectory,isRegularFile",
                    options);
            return new Unix((Integer) a.get("uid"), (Integer) a.get("mode") & 07777, (Boolean) a.get("isDirectory"),
                    (Boolean) a.get("isRegularFile"));
        }
    }
}
