package io.xensnap.internal.libxl;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.xensnap.api.Names;

/**
 * The userdata file names of libxl ({@code libxl__userdata_path}): {@code <dir>/userdata-<wh>.<domid>.<uuid>.<userid>}
 * where wh is {@code d} (data), {@code n} (new, renamed over d) or {@code l} (lock).
 */
final class UserdataFiles {

    private static final String CONFIG_USERID = "libxl-json";
    private static final Pattern CONFIG_NAME = Pattern.compile(
            "userdata-d\\.(\\d+)\\.(" + Names.UUID_REGEX + ")\\." + CONFIG_USERID);

    private final Path xenLibDir;

    UserdataFiles(Path xenLibDir) {
        this.xenLibDir = Objects.requireNonNull(xenLibDir, "xenLibDir");
    }

    Path directory() {
        return xenLibDir;
    }

    Path config(LibxlDomain domain) {
        return path("d", domain, CONFIG_USERID);
    }

    Path newConfig(LibxlDomain domain) {
        return path("n", domain, CONFIG_USERID);
    }

    Path lock(LibxlDomain domain, LibxlLockKind kind) {
        return path("l", domain, kind.userid());
    }

    private Path path(String wh, LibxlDomain domain, String userid) {
        return xenLibDir.resolve("userdata-" + wh + "." + domain.fileInfix() + "." + userid);
    }

    /**
     * @return the domain whose stored config has this domid, for callers that do not know the uuid
     * @throws LibxlConfigException NOT_FOUND when there is none, AMBIGUOUS when stale files of an earlier domain with
     *                              the same domid are left (then only the uuid, from xenstore, can tell them apart)
     */
    LibxlDomain find(int domid) throws LibxlConfigException {
        List<LibxlDomain> found = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(xenLibDir, "userdata-d." + domid + ".*")) {
            for (Path entry : entries) {
                Matcher m = CONFIG_NAME.matcher(entry.getFileName().toString());
                if (m.matches() && Integer.parseInt(m.group(1)) == domid) {
                    found.add(new LibxlDomain(domid, UUID.fromString(m.group(2))));
                }
            }
        } catch (NoSuchFileException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.NOT_FOUND, xenLibDir + " does not exist", e);
        } catch (IOException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.IO, "cannot list " + xenLibDir, e);
        }
        if (found.isEmpty()) {
            throw new LibxlConfigException(LibxlConfigException.Reason.NOT_FOUND,
                    "no libxl config for domid " + domid + " in " + xenLibDir);
        }
        if (found.size() > 1) {
            throw new LibxlConfigException(LibxlConfigException.Reason.AMBIGUOUS,
                    "several libxl configs for domid " + domid + " in " + xenLibDir + ": " + found);
        }
        return found.get(0);
    }
}
