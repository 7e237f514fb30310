package io.xensnap.internal.libxl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Test resources and directory snapshots, for "nothing changed" assertions. */
final class TestFiles {

    /**
     * libxl's own output (docs/xen-host.md#sample-config):
     * {@code userdata-d.5.2b5a4c1e-1111-4222-8333-944455556666.libxl-json}.
     */
    static final String APPENDIX = "appendix-sample.libxl-json";
    /** A yajl-canonical config with nics, vfbs, unknown sections, escapes, non-ASCII and extreme numbers. */
    static final String LARGER = "larger-config.libxl-json";

    private TestFiles() {
    }

    static byte[] resource(String name) {
        try (InputStream in = TestFiles.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Name, size, mtime, inode and content hash of every entry: equal snapshots mean nothing was touched. */
    static Map<String, String> snapshot(Path dir) {
        Map<String, String> state = new TreeMap<>();
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                Map<String, Object> a = Files.readAttributes(p, "unix:ino,mode,size,lastModifiedTime");
                String content = Files.isRegularFile(p) ? Integer.toHexString(java.util.Arrays.hashCode(Files.readAllBytes(p))) : "dir";
                state.put(p.getFileName().toString(), a.get("ino") + " " + Integer.toOctalString((Integer) a.get("mode"))
                        + " " + a.get("size") + " " + ((FileTime) a.get("lastModifiedTime")).toInstant() + " " + content);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return state;
    }
}
