package io.xensnap.internal.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/**
 * A file's identity as the kernel sees it: device and inode. Two looks at a path that give the same identity saw the
 * same file, whatever happened to the names in between.
 */
public record FileIdentity(long dev, long ino) {

    /** @return the identity of {@code path} itself (a symbolic link is not followed) */
    public static FileIdentity of(Path path) throws IOException {
        return of(path, LinkOption.NOFOLLOW_LINKS);
    }

    /** @return the identity of what {@code path} leads to; for {@code /proc/self/fd/N}, of the open file itself */
    static FileIdentity followed(Path path) throws IOException {
        return of(path, new LinkOption[0]);
    }

    private static FileIdentity of(Path path, LinkOption... options) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino", options);
        return new FileIdentity(((Number) a.get("dev")).longValue(), ((Number) a.get("ino")).longValue());
    }
}
