package io.xensnap.internal.libxl;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * Prints a Jackson tree exactly as libxl's yajl 2 generator does: {@code yajl_gen_beautify} on, the default indent of
 * four spaces, no solidus escaping, no UTF-8 validation (libxl sets only beautify). Jackson's own pretty printer
 * differs ({@code "key" : value}, {@code {}} for empty objects), and a file libxl reads back is compared byte for byte
 * by people diffing it, so the yajl rules are reproduced here:
 * <ul>
 *   <li>a container opens with its bracket and a newline; each member sits on its own line, indented four spaces per
 *       depth, members separated by {@code ",\n"}; the close is a newline, the indent, the bracket. An empty container
 *       is therefore {@code "{\n\n<indent>}"};</li>
 *   <li>a key is followed by {@code ": "};</li>
 *   <li>a newline follows the complete top-level value;</li>
 *   <li>strings escape only {@code " \ \b \f \n \r \t} and other bytes below 0x20 (as backslash-u00XX, upper-case hex);
 *       everything else, '/' and non-ASCII included, passes through as UTF-8;</li>
 *   <li>integers print as {@code %lld} (libxl's uint64 fields as {@code %PRIu64}); an integer beyond 64 bits, which
 *       libxl keeps as text, keeps its digits; doubles print as {@link YajlDoubles}, which is also how a double that
 *       yajl wrote reads back to the same text.</li>
 * </ul>
 */
final class YajlPrinter {

    private static final String INDENT = "    ";

    private YajlPrinter() {
    }

    /** @return the UTF-8 bytes yajl would print for {@code root}, ending in a newline */
    static byte[] print(JsonNode root) {
        StringBuilder out = new StringBuilder(4096);
        value(out, root, 0);
        out.append('\n');
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void value(StringBuilder out, JsonNode node, int depth) {
        switch (node.getNodeType()) {
            case OBJECT -> object(out, node, depth);
            case ARRAY -> array(out, node, depth);
            case STRING -> string(out, node.textValue());
            case NUMBER -> number(out, node);
            case BOOLEAN -> out.append(node.booleanValue() ? "true" : "false");
            case NULL -> out.append("null");
            default -> throw new IllegalArgumentException("not a JSON value: " + node.getNodeType());
        }
    }

    private static void object(StringBuilder out, JsonNode node, int depth) {
        out.append("{\n");
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            indent(out, depth + 1);
            string(out, field.getKey());
            out.append(": ");
            value(out, field.getValue(), depth + 1);
            if (fields.hasNext()) {
                out.append(",\n");
            }
        }
        out.append('\n');
        indent(out, depth);
        out.append('}');
    }

    private static void array(StringBuilder out, JsonNode node, int depth) {
        out.append("[\n");
        for (int i = 0; i < node.size(); i++) {
            indent(out, depth + 1);
            value(out, node.get(i), depth + 1);
            if (i + 1 < node.size()) {
                out.append(",\n");
            }
        }
        out.append('\n');
        indent(out, depth);
        out.append(']');
    }

    private static void indent(StringBuilder out, int depth) {
        for (int i = 0; i < depth; i++) {
            out.append(INDENT);
        }
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\r' -> out.append("\\r");
                case '\n' -> out.append("\\n");
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\f' -> out.append("\\f");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                                .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static void number(StringBuilder out, JsonNode node) {
        if (node.isIntegralNumber()) {
            // libxl keeps an integer beyond long long as text and writes it back unchanged; BigInteger does the same.
            out.append(node.bigIntegerValue());
            return;
        }
        out.append(YajlDoubles.format(node.doubleValue()));
    }
}
