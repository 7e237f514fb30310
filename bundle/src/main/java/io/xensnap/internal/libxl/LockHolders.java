package io.xensnap.internal.libxl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Who holds a flock on a file, for the message of a lock timeout. Read from procfs on the failure path only.
 *
 * <p>/proc/locks names the process that took the lock. That process may have exited while a child that inherited the
 * descriptor still holds the lock (flock(1) runs its command that way), so the descriptors of all processes whose
 * fdinfo lists this lock are searched as well.
 */
final class LockHolders {

    private static final int MAX_CMDLINE = 200;

    private final Path proc;

    LockHolders(Path proc) {
        this.proc = proc;
    }

    /** A line of /proc/locks or of a fdinfo "lock:" entry, reduced to what identifies a held flock. */
    record FlockEntry(long pid, int major, int minor, long inode) {

        /**
         * Parses {@code "1: FLOCK  ADVISORY  WRITE 12913 fe:00:2146470 0 EOF"}; waiters ({@code "1: -> FLOCK ..."})
         * and other lock kinds yield nothing.
         */
        static Optional<FlockEntry> parse(String line) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 6 || !f[1].equals("FLOCK")) {
                return Optional.empty();
            }
            String[] devIno = f[5].split(":");
            if (devIno.length != 3) {
                return Optional.empty();
            }
            try {
                return Optional.of(new FlockEntry(Long.parseLong(f[4]), Integer.parseInt(devIno[0], 16),
                        Integer.parseInt(devIno[1], 16), Long.parseLong(devIno[2])));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
    }

    /**
     * @param dev   st_dev of the lock file (glibc encoding)
     * @param inode st_ino of the lock file
     * @return e.g. {@code "pid 123 (flock -x /var/lib/xen/... sleep 30)"}, or a sentence saying none was found
     */
    String describe(long dev, long inode) {
        List<FlockEntry> entries = matching(readLines(proc.resolve("locks")), dev, inode);
        Set<Long> pids = new LinkedHashSet<>();
        entries.forEach(e -> pids.add(e.pid()));
        pids.addAll(descriptorHolders(dev, inode));
        if (pids.isEmpty()) {
            return "no holder found in " + proc.resolve("locks");
        }
        return pids.stream().map(this::describePid).collect(Collectors.joining(", "));
    }

    private String describePid(long pid) {
        if (pid <= 0) {
            return "a process outside this pid namespace";
        }
        try {
            byte[] raw = Files.readAllBytes(proc.resolve(Long.toString(pid)).resolve("cmdline"));
            String cmdline = new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').trim();
            if (cmdline.length() > MAX_CMDLINE) {
                // a JVM's command line carries its whole class path
                cmdline = cmdline.substring(0, MAX_CMDLINE) + "...";
            }
            return "pid " + pid + " (" + (cmdline.isEmpty() ? "no command line" : cmdline) + ")";
        } catch (IOException e) {
            return "pid " + pid + " (exited; a process that inherited its descriptor holds the lock)";
        }
    }

    private Set<Long> descriptorHolders(long dev, long inode) {
        Set<Long> pids = new LinkedHashSet<>();
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path process : processes) {
                Path fdinfo = process.resolve("fdinfo");
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdinfo)) {
                    for (Path fd : fds) {
                        if (!matching(readLines(fd).stream().filter(l -> l.startsWith("lock:"))
                                .map(l -> l.substring("lock:".length())).toList(), dev, inode).isEmpty()) {
                            pids.add(Long.parseLong(process.getFileName().toString()));
                            break;
                        }
                    }
                } catch (IOException | SecurityException e) {
                    // a process that exits, or whose descriptors we may not read, cannot be blamed; skip it
                }
            }
        } catch (IOException e) {
            // without a readable /proc the /proc/locks answer is all there is
        }
        return pids;
    }

    /** Entries for the inode; those on the same device when there are any (btrfs and overlayfs report other devices). */
    static List<FlockEntry> matching(List<String> lines, long dev, long inode) {
        List<FlockEntry> sameInode = new ArrayList<>();
        for (String line : lines) {
            FlockEntry.parse(line).filter(e -> e.inode() == inode).ifPresent(sameInode::add);
        }
        List<FlockEntry> sameDevice = sameInode.stream()
                .filter(e -> e.major() == major(dev) && e.minor() == minor(dev)).toList();
        return sameDevice.isEmpty() ? sameInode : sameDevice;
    }

    // glibc's gnu_dev_major / gnu_dev_minor for the 64-bit dev_t that stat returns.
    static int major(long dev) {
        return (int) (((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL));
    }

    static int minor(long dev) {
        return (int) ((dev & 0xff) | ((dev >>> 12) & ~0xffL));
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            // gone (the process or descriptor closed meanwhile) or unreadable: nothing to report from it
            return List.of();
        }
    }
}
