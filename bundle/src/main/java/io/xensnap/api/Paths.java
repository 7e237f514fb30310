package io.xensnap.api;

import java.nio.file.Path;

/** Path rules shared by the API's values. */
final class Paths {

    private Paths() {
    }

    static Path absoluteNormalized(Path p, String what) {
        if (p == null) {
            throw new IllegalArgumentException(what + " path is missing");
        }
        String s = p.toString();
        if (s.indexOf('\0') >= 0 || s.indexOf('\n') >= 0 || s.length() > 4000) {
            throw new IllegalArgumentException(what + " path '" + Names.printable(s)
                    + "' contains a NUL or newline or is too long");
        }
        if (!p.isAbsolute() || !p.normalize().equals(p) || s.contains("/./") || s.contains("/../")) {
            throw new IllegalArgumentException(what + " path '" + Names.printable(s)
                    + "' must be absolute and normalized (no . or .. parts)");
        }
        return p;
    }
}
