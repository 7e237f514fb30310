package io.xensnap.harness;

import java.util.List;
import java.util.Map;

/**
 * Writes JSON byte-for-byte as libxl's {@code libxl_domain_config_to_json} does: yajl 2 with {@code yajl_gen_beautify}
 * and a 4-space indent. That is {@code "key": value}, one member per line, an empty object as {@code "{"}, newline,
 * newline, indent, {@code "}"} (yajl prints the newline after an opening brace and another before the closing one), a
 * newline after the top-level value, and no escaped solidus. Values are {@link Map} (in iteration order), {@link List},
 * {@link String} and {@link Long}/{@link Integer}.
 */
final class YajlBeautify {

    private static final String INDENT = "    ";

    private YajlBeautify() {
    }

    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        value(out, value, 0);
        return out.append('\n').toString();
    }

    private static void value(StringBuilder out, Object v, int depth) {
        if (v instanceof Map<?, ?> map) {
            out.append("{\n");
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!first) {
                    out.append(",\n");
                }
                first = false;
                indent(out, depth + 1);
                string(out, (String) e.getKey());
                out.append(": ");
                value(out, e.getValue(), depth + 1);
            }
            out.append('\n');
            indent(out, depth);
            out.append('}');
        } else if (v instanceof List<?> list) {
            out.append("[\n");
            boolean first = true;
            for (Object item : list) {
                if (!first) {
                    out.append(",\n");
                }
                first = false;
                indent(out, depth + 1);
                value(out, item, depth + 1);
            }
            out.append('\n');
            indent(out, depth);
            out.append(']');
        } else if (v instanceof String s) {
            string(out, s);
        } else if (v instanceof Long || v instanceof Integer) {
            out.append(v);
        } else {
            throw new IllegalArgumentException("no JSON for " + v);
        }
    }

    private static void indent(StringBuilder out, int depth) {
        out.append(INDENT.repeat(depth));
    }

    // yajl_string_encode: quote, backslash and control characters (4-digit upper-case hex escapes); '/' stays as it is.
    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04X", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
