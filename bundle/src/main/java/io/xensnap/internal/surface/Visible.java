package io.xensnap.internal.surface;

import io.xensnap.api.Names;

/**
 * Text from outside xensnap (descriptions and paths from catalog files, image paths from xenstore, a lock holder's
 * command line from /proc, QEMU's and qemu-img's error texts) made safe for a terminal or a JMX client: every control
 * character (C0, DEL, C1), every Unicode format character (category Cf: the bidi embeddings, overrides and isolates
 * U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F, U+061C, zero-width characters) and the line and paragraph
 * separators U+2028, U+2029 are written out as {@code \xNN} or <code>&#92;uNNNN</code>. A raw escape sequence could
 * rewrite the operator's screen, and a bidi override could make a path read backwards; escaped, they are shown, not
 * obeyed.
 *
 * <p>Applied once, where text leaves xensnap: the console commands and the MBean. A backslash stays as it is, so the
 * escaping shows what was there but cannot always be undone; that is not its purpose.
 */
public final class Visible {

    private Visible() {
    }

    /** @return {@code s} with every character that a terminal would obey instead of show escaped; "" for null */
    public static String text(String s) {
        return Names.escaped(s);
    }

    /** @return {@code value.toString()}, escaped; "" for null */
    public static String text(Object value) {
        return value == null ? "" : text(value.toString());
    }
}
