package io.xensnap.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * docs/architecture.md has a table with one line per package of the bundle, and a newcomer finds a behaviour from it:
 * a package added, removed or renamed without that table following fails here.
 */
class ArchitectureDocTest {

    private static final Path SOURCES = Path.of("src", "main", "java");
    private static final Pattern ROW = Pattern.compile("^\\| `(io\\.xensnap(?:\\.\\w+)*)` \\|", Pattern.MULTILINE);

    @Test
    void everyPackageOfTheBundleHasItsLineInTheArchitecture() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "architecture.md"), StandardCharsets.UTF_8);
        int start = doc.indexOf("## Where each part lives");
        assertThat(start).as("docs/architecture.md has its section 'Where each part lives'").isNotNegative();
        int end = doc.indexOf("\n## ", start + 1);
        Set<String> documented = new TreeSet<>();
        Matcher m = ROW.matcher(doc.substring(start, end < 0 ? doc.length() : end));
        while (m.find()) {
            documented.add(m.group(1));
        }

        assertThat(documented).as("the package table of docs/architecture.md vs the packages of bundle/src/main")
                .isEqualTo(packages());
    }

    /** @return every package with a class in it (a package-info alone is no package) */
    private static Set<String> packages() throws IOException {
        Set<String> packages = new TreeSet<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            files.filter(f -> f.toString().endsWith(".java") && !f.endsWith("package-info.java"))
                    .forEach(f -> packages.add(SOURCES.relativize(f.getParent()).toString()
                            .replace(f.getFileSystem().getSeparator(), ".")));
        }
        return packages;
    }
}
