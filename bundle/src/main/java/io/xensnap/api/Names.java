package io.xensnap.api;

import java.util.regex.Pattern;

/** The input rules for names, shared by every value of the API. */
public final class Names {

    private static final Pattern SNAPSHOT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,63}");
    private static final String RESERVED_PREFIX = "xensnap-";
    private static final Pattern ALL_DIGITS = Pattern.compile("[0-9]+");
    private static final Pattern VDEV = Pattern.compile("(xvd|hd|sd)[a-z]{1,3}|[0-9]{1,9}");

    /**
     * A domain uuid as libxl writes it (lowercase 8-4-4-4-12 hex), as a regular expression without anchors, so that
     * patterns for names that embed a uuid (libxl's userdata files, xenstore's {@code /vm} paths) use this one.
     */
    public static final String UUID_REGEX = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

    private static final Pattern UUID = Pattern.compile(UUID_REGEX);

    private Names() {
    }

    /**
     * A snapshot name is 1 to 64 characters of {@code [A-Za-z0-9._-]}, does not start with {@code .} or {@code -},
     * and is not all digits (qemu-img would take it for a snapshot id).
     *
     * @return {@code name}
     * @throws IllegalArgumentException when the name breaks a rule; the message says which
     */
    public static String snapshot(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("snapshot name is empty");
        }
        if (!SNAPSHOT.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid snapshot name '" + printable(name)
                    + "': use 1 to 64 of A-Z a-z 0-9 . _ -, not starting with . or -");
        }
        if (ALL_DIGITS.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid snapshot name '" + name
                    + "': all digits would be taken for a snapshot id by qemu-img");
        }
        return name;
    }

    /**
     * A name for a new snapshot: {@link #snapshot(String)}, and not starting with {@code xensnap-}, which xensnap
     * reserves for the temporary internal snapshots it takes of each disk during a revert.
     *
     * @return {@code name}
     * @throws IllegalArgumentException when the name breaks a rule; the message says which
     */
    public static String newSnapshot(String name) {
        snapshot(name);
        if (name.startsWith(RESERVED_PREFIX)) {
            throw new IllegalArgumentException("invalid snapshot name '" + name + "': names starting with "
                    + RESERVED_PREFIX + " are reserved for xensnap's own temporary snapshots");
        }
        return name;
    }

    /**
     * A virtual device name as libxl accepts it: {@code xvdX}, {@code hdX}, {@code sdX} or a plain device number.
     *
     * @return {@code vdev}
     * @throws IllegalArgumentException otherwise
     */
    public static String vdev(String vdev) {
        if (vdev == null || !VDEV.matcher(vdev).matches()) {
            throw new IllegalArgumentException("invalid virtual device '" + printable(vdev)
                    + "': expected xvdX, hdX, sdX or a device number");
        }
        return vdev;
    }

    /**
     * A domain uuid in libxl's lowercase 8-4-4-4-12 form.
     *
     * @return {@code uuid}
     * @throws IllegalArgumentException otherwise
     */
    public static String uuid(String uuid) {
        if (!isUuid(uuid)) {
            throw new IllegalArgumentException("invalid domain uuid '" + printable(uuid)
                    + "': expected lowercase 8-4-4-4-12 hex");
        }
        return uuid;
    }

    /**
     * Free text that people will read on a terminal has no control character (C0, DEL, C1) and no Unicode format,
     * line or paragraph separator character (the bidi overrides U+202A to U+202E among them).
     *
     * @param what what the text is, for the message
     * @throws IllegalArgumentException otherwise, naming the first such character and where it is
     */
    static void text(String text, String what) {
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            if (hidden(cp)) {
                throw new IllegalArgumentException(what + " has the control or format character U+"
                        + String.format("%04X", cp) + " at position " + (i + 1) + "; use plain text");
            }
            i += Character.charCount(cp);
        }
    }

    /** @return whether a terminal would act on the code point (control, format, line or paragraph separator) */
    private static boolean hidden(int cp) {
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR;
    }

    /** @return whether {@code text} is a domain uuid in libxl's lowercase 8-4-4-4-12 form; false for null */
    public static boolean isUuid(String text) {
        return text != null && UUID.matcher(text).matches();
    }

    /**
     * Bad input echoed in a message: {@link #escaped(String)}, and cut after 80 characters with the full length
     * said, so that huge values stay out of logs and terminals.
     *
     * @return the text to put in a message; {@code "null"} for null
     */
    public static String printable(String s) {
        if (s == null) {
            return "null";
        }
        if (s.length() <= 80) {
            return escaped(s);
        }
        return escaped(s.substring(0, Character.isHighSurrogate(s.charAt(79)) ? 79 : 80)) + "…(" + s.length()
                + " chars)";
    }

    /**
     * Text made safe for a terminal: every control character (C0, DEL, C1), Unicode format character (the bidi
     * overrides among them) and line or paragraph separator is written out as {@code \xNN}, <code>&#92;uNNNN</code>
     * or <code>&#92;UNNNNNNNN</code>, so that it is shown, not obeyed. A backslash stays as it is.
     *
     * @return {@code s} escaped; "" for null
     */
    public static String escaped(String s) {
        if (s == null) {
            return "";
        }
        if (s.codePoints().noneMatch(Names::hidden)) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        s.codePoints().forEach(cp -> {
            if (!hidden(cp)) {
                b.appendCodePoint(cp);
            } else if (cp <= 0xff) {
                b.append(String.format("\\x%02x", cp));
            } else if (cp <= 0xffff) {
                b.append(String.format("\\u%04x", cp));
            } else {
                b.append(String.format("\\U%08x", cp));
            }
        });
        return b.toString();
    }
}
