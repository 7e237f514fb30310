package io.xensnap.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * A method a reader can see whole on one screen is one a reviewer can check: no method (or constructor, lambda body
 * aside) of bundle/src/main is longer than {@value #LIMIT} lines, counted from the line of its name to the line of
 * its closing brace. A longer one is split into named steps.
 */
class MethodLengthTest {

    static final int LIMIT = 50;

    private static final Path SOURCES = Path.of("src", "main", "java");

    /**
     * Methods still over the limit, each with its length when it was listed here: a method may shrink off this list,
     * never grow. Keys are "path relative to src/main/java#method".
     */
    private static final Map<String, Integer> NOT_YET_SPLIT = Map.of();

    @Test
    void noMethodOfTheBundleIsLongerThanAScreen() throws IOException {
        List<String> tooLong = new ArrayList<>();
        Map<String, Integer> measured = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                String key = SOURCES.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                for (Method m : methods(Files.readString(file, StandardCharsets.UTF_8))) {
                    measured.merge(key + "#" + m.name(), m.lines(), Math::max);
                    int allowed = NOT_YET_SPLIT.getOrDefault(key + "#" + m.name(), LIMIT);
                    if (m.lines() > allowed) {
                        tooLong.add(key + "#" + m.name() + " (line " + m.line() + "): " + m.lines() + " lines");
                    }
                }
            }
        }
        assertThat(tooLong).as("methods longer than %d lines (split them into named steps)", LIMIT).isEmpty();
        // the list only shrinks: a method split (or shortened) takes its entry off (or its number down) with it
        NOT_YET_SPLIT.forEach((method, allowed) -> assertThat(measured.getOrDefault(method, 0))
                .as("%s is listed with %d lines: lower its entry, or remove it when at most %d", method, allowed, LIMIT)
                .isEqualTo(allowed));
    }

    @Test
    void theScanFindsMethodsAndSkipsWhatIsNoCode() {
        String source = """
                class A {
                    @interface Settings { int size() default 1; }
                    @SuppressWarnings("x")
                    void one() {
                        String s = "}{"; char c = '}'; // }
                        /* { */
                        Runnable r = new Runnable() {
                            public void run() {
                                if (s.isEmpty()) { }
                            }
                        };
                    }
                    record R(int x) { R { } }
                }
                """;
        assertThat(methods(source)).extracting(Method::name).containsExactly("one", "run", "R");
        assertThat(methods(source).get(0)).isEqualTo(new Method("one", 4, 9));
    }

    record Method(String name, int line, int lines) {
    }

    private static final Pattern TYPE = Pattern.compile("\\b(class|interface|enum|record)\\b");
    private static final Pattern ANNOTATION = Pattern.compile("@(?!interface\\b)[\\w.]+(\\s*\\([^)]*\\))?");
    private static final Pattern NAME_BEFORE_PAREN = Pattern.compile("(\\w+)\\s*\\(");
    private static final Pattern COMPACT_CONSTRUCTOR = Pattern.compile("(\\w+)\\s*$");

    private enum Block { TYPE, METHOD, OTHER }

    /** @return every method, constructor and compact constructor, in the order of their opening braces */
    static List<Method> methods(String source) {
        String code = blankNonCode(source);
        List<Method> found = new ArrayList<>();
        Deque<Block> blocks = new ArrayDeque<>();
        Deque<int[]> starts = new ArrayDeque<>();
        Deque<String> names = new ArrayDeque<>();
        int headerStart = 0;
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '{') {
                // annotations blanked (their arguments have parentheses too), newlines kept for the line count
                String header = keepNewlines(code.substring(headerStart, i), ANNOTATION
                        .matcher(code.substring(headerStart, i)).replaceAll(r -> " ".repeat(r.group().length())));
                Block kind;
                String name = null;
                int nameAt = i;
                boolean inType = blocks.isEmpty() || blocks.peek() == Block.TYPE;
                if (TYPE.matcher(header).find() || header.matches("(?s).*\\bnew\\s[^;=]*\\)\\s*$")) {
                    kind = Block.TYPE;
                } else if (inType && !header.contains("=") && !header.contains("->")) {
                    Matcher m = NAME_BEFORE_PAREN.matcher(header);
                    Matcher compact = COMPACT_CONSTRUCTOR.matcher(header);
                    if (m.find()) {
                        kind = Block.METHOD;
                        name = m.group(1);
                        nameAt = headerStart + m.start(1);
                    } else if (compact.find() && !compact.group(1).equals("static")) {
                        kind = Block.METHOD;
                        name = compact.group(1);
                        nameAt = headerStart + compact.start(1);
                    } else {
                        kind = Block.OTHER;
                    }
                } else {
                    kind = Block.OTHER;
                }
                blocks.push(kind);
                starts.push(new int[] {lineOf(code, nameAt)});
                names.push(name == null ? "" : name);
                headerStart = i + 1;
            } else if (c == '}') {
                Block kind = blocks.pop();
                int start = starts.pop()[0];
                String name = names.pop();
                if (kind == Block.METHOD) {
                    found.add(new Method(name, start, lineOf(code, i) - start + 1));
                }
                headerStart = i + 1;
            } else if (c == ';') {
                headerStart = i + 1;
            }
        }
        found.sort((a, b) -> Integer.compare(a.line(), b.line()));
        return found;
    }

    private static String keepNewlines(String original, String replaced) {
        StringBuilder out = new StringBuilder(replaced);
        for (int i = 0; i < original.length(); i++) {
            if (original.charAt(i) == '\n') {
                out.setCharAt(i, '\n');
            }
        }
        return out.toString();
    }

    private static int lineOf(String code, int index) {
        int line = 1;
        for (int i = 0; i < index; i++) {
            if (code.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }

    /** @return the source with comments, strings, text blocks and char literals blanked, newlines kept */
    static String blankNonCode(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        while (i < source.length()) {
            int end;
            if (source.startsWith("//", i)) {
                end = source.indexOf('\n', i);
                end = end < 0 ? source.length() : end;
            } else if (source.startsWith("/*", i)) {
                end = source.indexOf("*/", i + 2) + 2;
            } else if (source.startsWith("\"\"\"", i)) {
                end = closing(source, i + 3, "\"\"\"");
            } else if (source.charAt(i) == '"') {
                end = closing(source, i + 1, "\"");
            } else if (source.charAt(i) == '\'') {
                end = closing(source, i + 1, "'");
            } else {
                out.append(source.charAt(i++));
                continue;
            }
            for (int j = i; j < end; j++) {
                out.append(source.charAt(j) == '\n' ? '\n' : ' ');
            }
            i = end;
        }
        return out.toString();
    }

    /** @return the index after the closing quote, a backslash escaping the character after it */
    private static int closing(String source, int from, String quote) {
        int i = from;
        while (!source.startsWith(quote, i)) {
            i += source.charAt(i) == '\\' ? 2 : 1;
        }
        return i + quote.length();
    }
}
